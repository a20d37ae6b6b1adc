package kube

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Status says what podrun does with a field of a pod.
type Status string

const (
	// Supported fields are honoured as a kubelet honours them.
	Supported Status = "supported"
	// Ignored fields only matter to a scheduler of many nodes, or to
	// policies podrun's one-node scheduler step does not weigh: they are
	// accepted, and one warning line per pod names those that are set.
	Ignored Status = "ignored"
	// Unsupported fields are errors naming them, when set.
	Unsupported Status = "not supported"
)

// Struct names the Go types whose fields Fields lists.
type Struct string

const (
	StructPodSpec            Struct = "PodSpec"
	StructContainer          Struct = "Container"
	StructPodSecurityContext Struct = "PodSecurityContext"
	StructSecurityContext    Struct = "SecurityContext"
	StructLifecycle          Struct = "Lifecycle"
)

// Field is one row of the table of fields: a field of one of the Structs
// (by its JSON name), what podrun does with it, and a note for users.
type Field struct {
	Struct Struct
	Name   string
	Status Status
	Note   string
}

// Path is how the field reads in a pod manifest.
func (f Field) Path() string {
	return structPath[f.Struct] + f.Name
}

var structPath = map[Struct]string{
	StructPodSpec:            "spec.",
	StructContainer:          "spec.containers[*].",
	StructPodSecurityContext: "spec.securityContext.",
	StructSecurityContext:    "spec.containers[*].securityContext.",
	StructLifecycle:          "spec.containers[*].lifecycle.",
}

// Notes shared by several rows.
const (
	scheduler    = "only a scheduler reads it; podrun has one node"
	oneNode      = "matched against this node's labels; a pod that does not match stays Pending: see pods.md, One node"
	issue3       = "see images.md"
	issue5       = "see volumes.md"
	issue6       = "see lifecycle.md"
	apparmorNote = "as the annotation; RuntimeDefault and Localhost need AppArmor enabled on the machine"
)

// Fields is every field of PodSpec, Container, PodSecurityContext,
// SecurityContext and Lifecycle with what podrun does with it. A test
// checks that it names every field of the API types, and that
// docs/supported-fields.md shows it.
var Fields = []Field{
	{StructPodSpec, "volumes", Supported, issue5},
	{StructPodSpec, "initContainers", Supported, "run in order, each to completion, before the app containers"},
	{StructPodSpec, "containers", Supported, ""},
	{StructPodSpec, "ephemeralContainers", Unsupported, "the API server refuses them on create too"},
	{StructPodSpec, "restartPolicy", Supported, issue6},
	{StructPodSpec, "terminationGracePeriodSeconds", Supported, "delete's grace period"},
	{StructPodSpec, "activeDeadlineSeconds", Supported, issue6},
	{StructPodSpec, "dnsPolicy", Supported, "ClusterFirst: the cluster DNS, served by the pod's monitor; on the host network, ClusterFirstWithHostNet behaves as Default"},
	{StructPodSpec, "nodeSelector", Supported, oneNode},
	{StructPodSpec, "serviceAccountName", Supported, "the token's subject, and the downward API; see volumes.md"},
	{StructPodSpec, "serviceAccount", Supported, "deprecated alias of serviceAccountName"},
	{StructPodSpec, "automountServiceAccountToken", Supported, "unless false, a token volume is mounted whose token authenticates nothing (see volumes.md)"},
	{StructPodSpec, "nodeName", Supported, "set to this machine's hostname once the pod is placed; a pod that names it skips the scheduler step (pods.md, One node)"},
	{StructPodSpec, "hostNetwork", Supported, ""},
	{StructPodSpec, "hostPID", Supported, ""},
	{StructPodSpec, "hostIPC", Supported, ""},
	{StructPodSpec, "shareProcessNamespace", Supported, "the infra's pause process is PID 1"},
	{StructPodSpec, "securityContext", Supported, "see PodSecurityContext"},
	{StructPodSpec, "imagePullSecrets", Supported, issue3},
	{StructPodSpec, "hostname", Supported, ""},
	{StructPodSpec, "subdomain", Supported, "FQDN <hostname>.<subdomain>.<namespace>.svc.cluster.local"},
	{StructPodSpec, "affinity", Supported, "required nodeAffinity as nodeSelector (" + oneNode + "); podAffinity and podAntiAffinity ignored, with a warning"},
	{StructPodSpec, "schedulerName", Ignored, scheduler},
	{StructPodSpec, "tolerations", Supported, "this node has no taints, so there is nothing to tolerate"},
	{StructPodSpec, "hostAliases", Supported, "in the Kubernetes-managed /etc/hosts"},
	{StructPodSpec, "priorityClassName", Ignored, scheduler},
	{StructPodSpec, "priority", Ignored, scheduler},
	{StructPodSpec, "dnsConfig", Supported, ""},
	{StructPodSpec, "readinessGates", Unsupported, "nothing would ever set the conditions"},
	{StructPodSpec, "runtimeClassName", Unsupported, "choose the OCI runtime with --runtime"},
	{StructPodSpec, "enableServiceLinks", Supported, "the kubelet's variables for the Services of the pod's namespace stored when its bundles are made (services.md)"},
	{StructPodSpec, "preemptionPolicy", Ignored, scheduler},
	{StructPodSpec, "overhead", Unsupported, "set by RuntimeClass admission on a cluster"},
	{StructPodSpec, "topologySpreadConstraints", Ignored, scheduler},
	{StructPodSpec, "setHostnameAsFQDN", Supported, ""},
	{StructPodSpec, "os", Supported, "linux only"},
	{StructPodSpec, "hostUsers", Supported, "true only: no user namespaces yet"},
	{StructPodSpec, "schedulingGates", Ignored, scheduler},
	{StructPodSpec, "resourceClaims", Unsupported, "no dynamic resource allocation"},
	{StructPodSpec, "resources", Unsupported, "pod-level resources: set them per container"},
	{StructPodSpec, "hostnameOverride", Supported, ""},
	{StructPodSpec, "schedulingGroup", Ignored, scheduler},
	{StructPodSpec, "evictionResponders", Unsupported, ""},

	{StructContainer, "name", Supported, ""},
	{StructContainer, "image", Supported, issue3},
	{StructContainer, "command", Supported, "replaces ENTRYPOINT and drops CMD; $(VAR) expanded"},
	{StructContainer, "args", Supported, "replaces CMD; $(VAR) expanded"},
	{StructContainer, "workingDir", Supported, ""},
	{StructContainer, "ports", Supported, "hostPort published through CNI portmap"},
	{StructContainer, "envFrom", Supported, "configMapRef, secretRef, prefix, optional"},
	{StructContainer, "env", Supported, "value with $(VAR) expansion, and valueFrom"},
	{StructContainer, "resources", Supported, "memory limit, CPU quota and shares, a pids limit of 4096"},
	{StructContainer, "resizePolicy", Supported, "no in-place resize, so nothing for it to do"},
	{StructContainer, "restartPolicy", Supported, issue6},
	{StructContainer, "restartPolicyRules", Supported, issue6},
	{StructContainer, "volumeMounts", Supported, issue5},
	{StructContainer, "volumeDevices", Unsupported, "no block volumes"},
	{StructContainer, "livenessProbe", Supported, issue6},
	{StructContainer, "readinessProbe", Supported, issue6},
	{StructContainer, "startupProbe", Supported, issue6},
	{StructContainer, "lifecycle", Supported, "see Lifecycle"},
	{StructContainer, "terminationMessagePath", Supported, ""},
	{StructContainer, "terminationMessagePolicy", Supported, ""},
	{StructContainer, "imagePullPolicy", Supported, issue3},
	{StructContainer, "securityContext", Supported, "see SecurityContext"},
	{StructContainer, "stdin", Supported, "an open, empty pipe (with tty: the terminal): reads block as on a cluster; no attach yet"},
	{StructContainer, "stdinOnce", Supported, "as stdin, since nothing attaches"},
	{StructContainer, "tty", Supported, "a pseudo-terminal (80x24) as stdin, stdout and stderr; its output is logged as stdout"},

	{StructPodSecurityContext, "seLinuxOptions", Unsupported, "no SELinux"},
	{StructPodSecurityContext, "windowsOptions", Ignored, "Windows only"},
	{StructPodSecurityContext, "runAsUser", Supported, ""},
	{StructPodSecurityContext, "runAsGroup", Supported, ""},
	{StructPodSecurityContext, "runAsNonRoot", Supported, ""},
	{StructPodSecurityContext, "supplementalGroups", Supported, ""},
	{StructPodSecurityContext, "supplementalGroupsPolicy", Supported, "Merge and Strict"},
	{StructPodSecurityContext, "fsGroup", Supported, "as a supplementary group, and volume ownership (see volumes.md)"},
	{StructPodSecurityContext, "sysctls", Supported, "the kubelet's safe set; others with --allowed-unsafe-sysctls"},
	{StructPodSecurityContext, "fsGroupChangePolicy", Supported, issue5},
	{StructPodSecurityContext, "seccompProfile", Supported, "RuntimeDefault (the default), Unconfined, Localhost"},
	{StructPodSecurityContext, "appArmorProfile", Supported, apparmorNote},
	{StructPodSecurityContext, "seLinuxChangePolicy", Unsupported, "no SELinux"},

	{StructSecurityContext, "capabilities", Supported, ""},
	{StructSecurityContext, "privileged", Supported, ""},
	{StructSecurityContext, "seLinuxOptions", Unsupported, "no SELinux"},
	{StructSecurityContext, "windowsOptions", Ignored, "Windows only"},
	{StructSecurityContext, "runAsUser", Supported, ""},
	{StructSecurityContext, "runAsGroup", Supported, ""},
	{StructSecurityContext, "runAsNonRoot", Supported, ""},
	{StructSecurityContext, "readOnlyRootFilesystem", Supported, ""},
	{StructSecurityContext, "allowPrivilegeEscalation", Supported, "false sets no_new_privs"},
	{StructSecurityContext, "procMount", Supported, "Default; Unmasked needs hostUsers: false"},
	{StructSecurityContext, "seccompProfile", Supported, ""},
	{StructSecurityContext, "appArmorProfile", Supported, apparmorNote},

	{StructLifecycle, "postStart", Supported, issue6},
	{StructLifecycle, "preStop", Supported, issue6},
	{StructLifecycle, "stopSignal", Supported, ""},
}

// fieldsOf is Fields by struct and JSON name.
var fieldsOf = func() map[Struct]map[string]Field {
	m := map[Struct]map[string]Field{}
	for _, f := range Fields {
		if m[f.Struct] == nil {
			m[f.Struct] = map[string]Field{}
		}
		m[f.Struct][f.Name] = f
	}
	return m
}()

// checkFields finds the ignored and the unsupported fields that p sets.
// It looks at the pod as written, before defaulting.
func checkFields(p *corev1.Pod) (ignored []string, unsupported field.ErrorList) {
	c := &fieldCheck{}
	spec := field.NewPath("spec")
	c.check(StructPodSpec, reflect.ValueOf(p.Spec), spec)
	c.ignored = append(c.ignored, podAffinity(p.Spec.Affinity, spec.Child("affinity"))...)
	if p.Spec.SecurityContext != nil {
		c.check(StructPodSecurityContext, reflect.ValueOf(*p.Spec.SecurityContext), spec.Child("securityContext"))
	}
	for _, list := range []struct {
		name string
		ctrs []corev1.Container
	}{{"initContainers", p.Spec.InitContainers}, {"containers", p.Spec.Containers}} {
		for i, ctr := range list.ctrs {
			cp := spec.Child(list.name).Index(i)
			c.check(StructContainer, reflect.ValueOf(ctr), cp)
			if ctr.SecurityContext != nil {
				c.check(StructSecurityContext, reflect.ValueOf(*ctr.SecurityContext), cp.Child("securityContext"))
			}
			if ctr.Lifecycle != nil {
				c.check(StructLifecycle, reflect.ValueOf(*ctr.Lifecycle), cp.Child("lifecycle"))
			}
		}
	}
	return c.ignored, c.unsupported
}

// podAffinity are the parts of affinity that podrun ignores: the terms
// about other pods, which its scheduler step does not weigh. (Preferred
// node affinity only ranks nodes, and there is one.)
func podAffinity(a *corev1.Affinity, p *field.Path) []string {
	var out []string
	if a == nil {
		return nil
	}
	if a.PodAffinity != nil && !empty(reflect.ValueOf(*a.PodAffinity)) {
		out = append(out, p.Child("podAffinity").String())
	}
	if a.PodAntiAffinity != nil && !empty(reflect.ValueOf(*a.PodAntiAffinity)) {
		out = append(out, p.Child("podAntiAffinity").String())
	}
	return out
}

type fieldCheck struct {
	ignored     []string
	unsupported field.ErrorList
}

// check looks at every set field of v, a value of struct s, at path p.
func (c *fieldCheck) check(s Struct, v reflect.Value, p *field.Path) {
	t := v.Type()
	for i := range t.NumField() {
		name := jsonName(t.Field(i))
		fv := v.Field(i)
		if name == "" || empty(fv) {
			continue
		}
		f, ok := fieldsOf[s][name]
		fp := p.Child(name)
		switch {
		case !ok:
			// A field newer than the table: a test keeps this from happening.
			c.unsupported = append(c.unsupported, field.Forbidden(fp, "not supported by podrun yet"))
		case f.Status == Ignored:
			c.ignored = append(c.ignored, fp.String())
		case f.Status == Unsupported:
			detail := "not supported by podrun yet"
			if f.Note != "" {
				detail += " (" + f.Note + ")"
			}
			c.unsupported = append(c.unsupported, field.Forbidden(fp, detail))
		}
	}
}

// empty reports whether v asks for nothing: the zero value, an empty list
// or map, a pointer to an empty string, or a struct (or pointer to one)
// all of whose fields are empty in turn, such as the seLinuxOptions: {}
// that podman kube generate writes. The API server accepts such values
// as no-ops, so podrun does not refuse them. A pointer to a boolean or a
// number that is set is not empty: hostUsers: false, or a priority of 0,
// says something (a plain boolean or number at zero is unset).
func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return true
		}
		e := v.Elem()
		switch e.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			return false
		}
		return empty(e)
	case reflect.Struct:
		for i := range v.NumField() {
			if !empty(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return v.IsZero()
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// ignoredWarnings is the one warning line for a pod's ignored fields.
func ignoredWarnings(o Object, fields []string) []string {
	if len(fields) == 0 {
		return nil
	}
	src := o.Source
	if line := o.Lines.Find(fields[0]); line > 0 {
		src.Line = line
	}
	return []string{fmt.Sprintf("%s: %s: ignored: podrun's one-node scheduler does not weigh them",
		src, strings.Join(fields, ", "))}
}
