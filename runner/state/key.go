package state

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Key is the namespace and name of a pod or a claim, checked as the API
// server checks them: the namespace is a DNS-1123 label, the name a
// DNS-1123 subdomain. Neither can be empty, "." or "..", nor hold "/" or
// "_", so File is one path element that stays in its directory. Only
// NewKey and PodKey make a Key; the zero Key's File, "_", stays there too.
type Key struct{ namespace, name string }

// NewKey checks the namespace and name of an object of kind ("pod",
// "persistentvolumeclaim") and returns their Key. Its error, like the API
// server's, says what a valid name looks like.
func NewKey(kind, namespace, name string) (Key, error) {
	if err := CheckNamespace(namespace); err != nil {
		return Key{}, err
	}
	if err := check(kind+" name", name, validation.IsDNS1123Subdomain); err != nil {
		return Key{}, err
	}
	return Key{namespace, name}, nil
}

// PodKey is NewKey for a pod.
func PodKey(namespace, name string) (Key, error) { return NewKey("pod", namespace, name) }

// Namespace is the key's namespace.
func (k Key) Namespace() string { return k.namespace }

// Name is the key's name.
func (k Key) Name() string { return k.name }

// String is "<namespace>/<name>".
func (k Key) String() string { return k.namespace + "/" + k.name }

// File is "<namespace>_<name>", the name of the object's file or
// directory wherever podrun keeps one per object.
func (k Key) File() string { return k.namespace + "_" + k.name }

// CheckNamespace checks a namespace as the API server does: a DNS-1123 label.
func CheckNamespace(namespace string) error {
	return check("namespace", namespace, validation.IsDNS1123Label)
}

// CheckContainerName checks a container's name as the API server does: a
// DNS-1123 label.
func CheckContainerName(name string) error {
	return check("container name", name, validation.IsDNS1123Label)
}

// check returns apimachinery's complaints about value, if any, as one error.
func check(what, value string, is func(string) []string) error {
	if msgs := is(value); len(msgs) > 0 {
		return fmt.Errorf("invalid %s %q: %s", what, value, strings.Join(msgs, "; "))
	}
	return nil
}
