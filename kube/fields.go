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
	// Ignored fields only matter to a scheduler: they are accepted, and
	// one warning line per pod names those that are set.
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
	// allowed, for an unsupported field, accepts the values podrun can
	// honour all the same (an AppArmor profile of type Unconfined).
	allowed func(reflect.Value) bool
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
	scheduler = "only a scheduler reads it; podrun has one node"
	issue3    = "see images.md"
	issue5    = "see volumes.md"
	issue6    = "see lifecycle.md"
)

// Fields is every field of PodSpec, Container, PodSecurityContext,
// SecurityContext and Lifecycle with what podrun does with it. A test
// checks that it names every field of the API types, and that
// docs/supported-fields.md shows it.
var Fields = []Field{
	{StructPodSpec, "volumes", Supported, issue5, nil},
	{StructPodSpec, "initContainers", Supported, "run in order, each to completion, before the app containers", nil},
	{StructPodSpec, "containers", Supported, "", nil},
	{StructPodSpec, "ephemeralContainers", Unsupported, "the API server refuses them on create too", nil},
	{StructPodSpec, "restartPolicy", Supported, issue6, nil},
	{StructPodSpec, "terminationGracePeriodSeconds", Supported, "delete's grace period", nil},
	{StructPodSpec, "activeDeadlineSeconds", Supported, issue6, nil},
	{StructPodSpec, "dnsPolicy", Supported, "no cluster DNS: ClusterFirst behaves as Default", nil},
	{StructPodSpec, "nodeSelector", Ignored, scheduler, nil},
	{StructPodSpec, "serviceAccountName", Supported, "for the downward API; no token is mounted", nil},
	{StructPodSpec, "serviceAccount", Supported, "deprecated alias of serviceAccountName", nil},
	{StructPodSpec, "automountServiceAccountToken", Supported, "no token is ever mounted", nil},
	{StructPodSpec, "nodeName", Supported, "defaults to this machine's hostname", nil},
	{StructPodSpec, "hostNetwork", Supported, "", nil},
	{StructPodSpec, "hostPID", Supported, "", nil},
	{StructPodSpec, "hostIPC", Supported, "", nil},
	{StructPodSpec, "shareProcessNamespace", Supported, "the infra's pause process is PID 1", nil},
	{StructPodSpec, "securityContext", Supported, "see PodSecurityContext", nil},
	{StructPodSpec, "imagePullSecrets", Supported, issue3, nil},
	{StructPodSpec, "hostname", Supported, "", nil},
	{StructPodSpec, "subdomain", Supported, "FQDN <hostname>.<subdomain>.<namespace>.svc.cluster.local", nil},
	{StructPodSpec, "affinity", Ignored, scheduler, nil},
	{StructPodSpec, "schedulerName", Ignored, scheduler, nil},
	{StructPodSpec, "tolerations", Ignored, scheduler, nil},
	{StructPodSpec, "hostAliases", Supported, "in the Kubernetes-managed /etc/hosts", nil},
	{StructPodSpec, "priorityClassName", Ignored, scheduler, nil},
	{StructPodSpec, "priority", Ignored, scheduler, nil},
	{StructPodSpec, "dnsConfig", Supported, "", nil},
	{StructPodSpec, "readinessGates", Unsupported, "nothing would ever set the conditions", nil},
	{StructPodSpec, "runtimeClassName", Unsupported, "choose the OCI runtime with --runtime", nil},
	{StructPodSpec, "enableServiceLinks", Supported, "no Services yet, so no variables", nil},
	{StructPodSpec, "preemptionPolicy", Ignored, scheduler, nil},
	{StructPodSpec, "overhead", Unsupported, "set by RuntimeClass admission on a cluster", nil},
	{StructPodSpec, "topologySpreadConstraints", Ignored, scheduler, nil},
	{StructPodSpec, "setHostnameAsFQDN", Supported, "", nil},
	{StructPodSpec, "os", Supported, "linux only", nil},
	{StructPodSpec, "hostUsers", Supported, "true only: no user namespaces yet", nil},
	{StructPodSpec, "schedulingGates", Ignored, scheduler, nil},
	{StructPodSpec, "resourceClaims", Unsupported, "no dynamic resource allocation", nil},
	{StructPodSpec, "resources", Unsupported, "pod-level resources: set them per container", nil},
	{StructPodSpec, "hostnameOverride", Supported, "", nil},
	{StructPodSpec, "schedulingGroup", Ignored, scheduler, nil},
	{StructPodSpec, "evictionResponders", Unsupported, "", nil},

	{StructContainer, "name", Supported, "", nil},
	{StructContainer, "image", Supported, issue3, nil},
	{StructContainer, "command", Supported, "replaces ENTRYPOINT and drops CMD; $(VAR) expanded", nil},
	{StructContainer, "args", Supported, "replaces CMD; $(VAR) expanded", nil},
	{StructContainer, "workingDir", Supported, "", nil},
	{StructContainer, "ports", Supported, "hostPort published through CNI portmap", nil},
	{StructContainer, "envFrom", Supported, "configMapRef, secretRef, prefix, optional", nil},
	{StructContainer, "env", Supported, "value with $(VAR) expansion, and valueFrom", nil},
	{StructContainer, "resources", Supported, "memory limit, CPU quota and shares, a pids limit of 4096", nil},
	{StructContainer, "resizePolicy", Supported, "no in-place resize, so nothing for it to do", nil},
	{StructContainer, "restartPolicy", Supported, issue6, nil},
	{StructContainer, "restartPolicyRules", Supported, issue6, nil},
	{StructContainer, "volumeMounts", Supported, issue5, nil},
	{StructContainer, "volumeDevices", Unsupported, "no block volumes", nil},
	{StructContainer, "livenessProbe", Supported, issue6, nil},
	{StructContainer, "readinessProbe", Supported, issue6, nil},
	{StructContainer, "startupProbe", Supported, issue6, nil},
	{StructContainer, "lifecycle", Supported, "see Lifecycle", nil},
	{StructContainer, "terminationMessagePath", Supported, "", nil},
	{StructContainer, "terminationMessagePolicy", Supported, "", nil},
	{StructContainer, "imagePullPolicy", Supported, issue3, nil},
	{StructContainer, "securityContext", Supported, "see SecurityContext", nil},
	{StructContainer, "stdin", Supported, "an open, empty pipe (with tty: the terminal): reads block as on a cluster; no attach yet", nil},
	{StructContainer, "stdinOnce", Supported, "as stdin, since nothing attaches", nil},
	{StructContainer, "tty", Supported, "a pseudo-terminal (80x24) as stdin, stdout and stderr; its output is logged as stdout", nil},

	{StructPodSecurityContext, "seLinuxOptions", Unsupported, "no SELinux", nil},
	{StructPodSecurityContext, "windowsOptions", Ignored, "Windows only", nil},
	{StructPodSecurityContext, "runAsUser", Supported, "", nil},
	{StructPodSecurityContext, "runAsGroup", Supported, "", nil},
	{StructPodSecurityContext, "runAsNonRoot", Supported, "", nil},
	{StructPodSecurityContext, "supplementalGroups", Supported, "", nil},
	{StructPodSecurityContext, "supplementalGroupsPolicy", Supported, "Merge and Strict", nil},
	{StructPodSecurityContext, "fsGroup", Supported, "as a supplementary group, and volume ownership (see volumes.md)", nil},
	{StructPodSecurityContext, "sysctls", Supported, "the kubelet's safe set; others with --allowed-unsafe-sysctls", nil},
	{StructPodSecurityContext, "fsGroupChangePolicy", Supported, issue5, nil},
	{StructPodSecurityContext, "seccompProfile", Supported, "RuntimeDefault (the default), Unconfined, Localhost", nil},
	{StructPodSecurityContext, "appArmorProfile", Unsupported, "Unconfined only", unconfinedAppArmor},
	{StructPodSecurityContext, "seLinuxChangePolicy", Unsupported, "no SELinux", nil},

	{StructSecurityContext, "capabilities", Supported, "", nil},
	{StructSecurityContext, "privileged", Supported, "", nil},
	{StructSecurityContext, "seLinuxOptions", Unsupported, "no SELinux", nil},
	{StructSecurityContext, "windowsOptions", Ignored, "Windows only", nil},
	{StructSecurityContext, "runAsUser", Supported, "", nil},
	{StructSecurityContext, "runAsGroup", Supported, "", nil},
	{StructSecurityContext, "runAsNonRoot", Supported, "", nil},
	{StructSecurityContext, "readOnlyRootFilesystem", Supported, "", nil},
	{StructSecurityContext, "allowPrivilegeEscalation", Supported, "false sets no_new_privs", nil},
	{StructSecurityContext, "procMount", Supported, "Default; Unmasked needs hostUsers: false", nil},
	{StructSecurityContext, "seccompProfile", Supported, "", nil},
	{StructSecurityContext, "appArmorProfile", Unsupported, "Unconfined only", unconfinedAppArmor},

	{StructLifecycle, "postStart", Supported, issue6, nil},
	{StructLifecycle, "preStop", Supported, issue6, nil},
	{StructLifecycle, "stopSignal", Supported, "", nil},
}

func unconfinedAppArmor(v reflect.Value) bool {
	p, ok := v.Interface().(*corev1.AppArmorProfile)
	return ok && p != nil && p.Type == corev1.AppArmorProfileTypeUnconfined
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
		case f.Status == Unsupported && (f.allowed == nil || !f.allowed(fv)):
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
	return []string{fmt.Sprintf("%s: %s: ignored: nothing on a single Linux node reads them (podrun has no scheduler)",
		src, strings.Join(fields, ", "))}
}
