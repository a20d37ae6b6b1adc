package runner

import (
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/translate"
)

// Errors and warnings about a pod are located once, here, at the edge:
// translate and the volume and image steps say which field a problem is
// about (a translate.FieldError), and these helpers put the file and line
// of that field in front, with the pod's name.

// podError words err, a problem of pod p, as "FILE:LINE: pod NS/NAME: ERR",
// LINE being the line of the field the first translate.FieldError in
// err's chain is about, else the pod's. Each error a joined err holds
// (errors.Join) is located on its own line. err stays matchable with
// errors.Is and errors.As.
func podError(p kube.Pod, err error) error {
	if err == nil {
		return nil
	}
	if list := joined(err); list != nil {
		var errs []error
		for _, e := range list {
			errs = append(errs, podError(p, e))
		}
		return errors.Join(errs...)
	}
	src := p.Source
	var fe *translate.FieldError
	if errors.As(err, &fe) {
		src = p.At(fe.Field)
	}
	return fmt.Errorf("%s: pod %s: %w", src, podName(p.Pod), err)
}

// podWarning words a warning about the field at path of pod p as
// podError words errors: "FILE:LINE: pod NS/NAME: PATH: MSG"; a warning
// about the whole pod has path "" and no PATH.
func podWarning(p kube.Pod, path, msg string) string {
	if path != "" {
		msg = path + ": " + msg
	}
	return fmt.Sprintf("%s: pod %s: %s", p.At(path), podName(p.Pod), msg)
}

func podName(pod *corev1.Pod) string { return pod.Namespace + "/" + pod.Name }

// containerPath is the field path of pod's init or app container name:
// spec.initContainers[i] or spec.containers[i]; spec when it has none.
func containerPath(pod *corev1.Pod, name string) *field.Path {
	for i, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return field.NewPath("spec", "initContainers").Index(i)
		}
	}
	for i, c := range pod.Spec.Containers {
		if c.Name == name {
			return field.NewPath("spec", "containers").Index(i)
		}
	}
	return field.NewPath("spec")
}

// joined returns the errors err joins when it was made by errors.Join,
// one per line; nil for any other error, such as one of fmt.Errorf's
// with two %w, whose text is one message.
func joined(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil
	}
	list := j.Unwrap()
	texts := make([]string, len(list))
	for i, e := range list {
		texts[i] = e.Error()
	}
	if len(list) < 2 || strings.Join(texts, "\n") != err.Error() {
		return nil
	}
	return list
}
