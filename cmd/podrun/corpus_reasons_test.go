package main

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// reasons turns a refusal's text into short phrases that outlive changes
// of wording: no file, line, pod name or value, only what was refused.
// One phrase per distinct problem, sorted, joined by "; ".
func reasons(msg string) string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(msg, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		r := reason(line)
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

var (
	// position is "error: " and "file:line: " before a problem.
	position = regexp.MustCompile(`^(?:error: )?\S+?:\d+: `)
	// wrapping is what callers add before the problem: the pod, the
	// stage, the container, the image being pulled.
	wrapping = regexp.MustCompile(`^(?:(?:pod|deployment|statefulset|daemonset|replicaset|replicationcontroller|job|cronjob|configmap|secret|persistentvolumeclaim) \S+|[A-Z][A-Za-z]+/[^\s:]+|translating(?: pod \S+| container "[^"]*")?|container "[^"]*"|pulling image "[^"]*" for container "[^"]*"|rendering pod \S+): `)
	// kindRe and bareKindRe find an unsupported kind, however the
	// sentence around it is put.
	kindRe      = regexp.MustCompile(`\bkind:? "?([A-Z][A-Za-z0-9]*)"?\b.*not supported`)
	bareKindRe  = regexp.MustCompile(`^"?([A-Z][A-Za-z0-9]*)"?(?: \([^)]*\))?(?: objects?| kind)? (?:is |are )?not supported`)
	unknownKind = regexp.MustCompile(`no kind "([A-Za-z0-9]+)" is registered`)
	// fieldRe is a field path at the start of the problem, as apimachinery
	// and kube write them: spec.containers[0].image, metadata.name.
	fieldRe = regexp.MustCompile(`^((?:apiVersion|kind|metadata|spec|data|stringData|binaryData|type|immutable)(?:\.[A-Za-z0-9_\-/]+|\[[^\]]*\])*): (.*)$`)
	index   = regexp.MustCompile(`\[\d+\]`)
	// fieldTypes are apimachinery's field.ErrorType strings.
	fieldTypes = []string{"Required value", "Invalid value", "Unsupported value", "Forbidden", "Duplicate value",
		"Not found", "Too long", "Too many", "Internal error", "Unknown"}
	quoted = regexp.MustCompile(`"[^"]*"`)
	// volumeType is a volume source podrun does not provide.
	volumeType = regexp.MustCompile(`volume type \[(\w+)\]`)
)

// known are problems named by a phrase whatever the field or kind, in
// order: the first whose pattern matches the problem's text gives its
// reason, before any other rule is tried.
var known = []struct {
	pattern *regexp.Regexp
	reason  string
}{
	{regexp.MustCompile(`(?i)AppArmor is not enabled`), noAppArmor},
	{regexp.MustCompile(`(?i)seccomp profile .*no such file`), "seccomp Localhost profile not found"},
	{regexp.MustCompile(`(?i)invalid image reference`), "invalid image reference"},
	{regexp.MustCompile(`ErrImageNeverPull|image is not stored`), "image not stored"},
	{regexp.MustCompile(`(?i)\byaml: |invalid YAML|converting YAML to JSON|did not find expected|mapping values are not allowed|found character that cannot start`), "YAML syntax error"},
	{regexp.MustCompile(`(?i)\bconfigmaps? "[^"]*" not found`), "ConfigMap not found"},
	{regexp.MustCompile(`(?i)\bsecrets? "[^"]*" not found`), "Secret not found"},
	{regexp.MustCompile(`(?i)\bpersistentvolumeclaims? "[^"]*" not found`), "PersistentVolumeClaim not found"},
	{regexp.MustCompile(`SysctlForbidden`), "sysctl forbidden"},
	{regexp.MustCompile(`no matches for kind`), "custom resource without its definition"},
}

// reason is the phrase for one line of a refusal.
func reason(line string) string {
	s := position.ReplaceAllString(line, "")
	for {
		t := wrapping.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	for _, k := range known {
		if k.pattern.MatchString(s) {
			return k.reason
		}
	}
	if m := volumeType.FindStringSubmatch(s); m != nil {
		return "volume type " + m[1] + " not supported"
	}
	if m := kindRe.FindStringSubmatch(s); m != nil {
		return "kind " + m[1] + " not supported"
	}
	if m := bareKindRe.FindStringSubmatch(s); m != nil {
		return "kind " + m[1] + " not supported"
	}
	if m := unknownKind.FindStringSubmatch(s); m != nil {
		return "kind " + m[1] + " unknown"
	}
	m := fieldRe.FindStringSubmatch(s)
	if m == nil {
		return plain(s)
	}
	path, detail := "field "+index.ReplaceAllString(m[1], "[*]"), m[2]
	switch {
	case strings.Contains(detail, "unknown field"):
		return path + " unknown"
	case strings.Contains(detail, "not supported"):
		return path + " not supported"
	}
	for _, ft := range fieldTypes {
		if strings.HasPrefix(detail, ft) {
			return path + ": " + ft
		}
	}
	return path + ": " + plain(detail)
}

// plain is a problem no rule names: its first clause, values elided.
func plain(s string) string {
	s = quoted.ReplaceAllString(s, `"…"`)
	if i := strings.IndexAny(s, ":(;"); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// TestCorpusReasons: a refusal's reason names what was refused and
// nothing that changes with wording, position or nesting.
func TestCorpusReasons(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"error: a.yaml:3: kind Deployment (apps/v1) is not supported yet; podrun accepts: Pod, ConfigMap",
			"kind Deployment not supported"},
		{`a.yaml:3: kind "Deployment" is not supported`, "kind Deployment not supported"},
		{"a.yaml:3: Deployment (apps/v1) is not supported yet", "kind Deployment not supported"},
		{"a.yaml:3: Ingress objects are not supported: no ingress controller", "kind Ingress not supported"},
		{`a.yaml:3: no kind "Shirt" is registered for version "stable.example.com/v1"`, "kind Shirt unknown"},
		// Problems inside a workload's pod template, wrapped by the workload.
		{`a.yaml:20: deployment web: pod web-0: translating: translating container "c": spec.template.spec.containers[0].volumeDevices: not supported`,
			"field spec.template.spec.containers[*].volumeDevices not supported"},
		{"a.yaml:20: Deployment/web: spec.template.spec.resources: Forbidden: not supported by podrun yet",
			"field spec.template.spec.resources not supported"},
		{"a.yaml:7: spec.resources: Forbidden: not supported by podrun yet (pod-level resources: set them per container)",
			"field spec.resources not supported"},
		{"a.yaml:9: spec.containers[0].securityContext.seLinuxOptions: not supported",
			"field spec.containers[*].securityContext.seLinuxOptions not supported"},
		{"a.yaml:9: spec.containers[1].imagee: unknown field", "field spec.containers[*].imagee unknown"},
		{`a.yaml:4: pod p: preparing volume "v" (spec.volumes[0]): volume type [image]: not supported: podrun provides emptyDir`,
			"volume type image not supported"},
		{`persistentvolumeclaim "task-pv-claim" not found`, "PersistentVolumeClaim not found"},
		{`a.yaml:3: no matches for kind "CronTab" in version "stable.example.com/v1": apply its CustomResourceDefinition with it`,
			"custom resource without its definition"},
		{"a.yaml:11: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: Invalid value: expected object, got array",
			"field spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: Invalid value"},
		{`a.yaml:4: pod p: translating: translating pod default/p: translating container "c": spec.containers[0].securityContext.appArmorProfile: AppArmor is not enabled on this machine: a Localhost profile cannot be applied`,
			"AppArmor not enabled on this host"},
		{`a.yaml:3: pod p: pulling image "<x>" for container "c": invalid image reference "<x>": could not parse reference: <x>`,
			"invalid image reference"},
		{`a.yaml:3: pod p: translating: translating pod default/p: translating container "c": valueFrom names no source`,
			"valueFrom names no source"},
		// As issue 11 words them: located, the pod and container named once.
		{`a.yaml:21: pod default/p: container "c": spec.containers[0].env[0].valueFrom: not supported yet: podrun reads configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef`,
			"field spec.containers[*].env[*].valueFrom not supported"},
		{`a.yaml:4: pod default/p: container "c": spec.containers[0].securityContext.appArmorProfile: AppArmor is not enabled on this machine: a Localhost profile cannot be applied`,
			"AppArmor not enabled on this host"},
		{`a.yaml:8: pod default/p: container "c": spec.containers[0].image: invalid image reference "<x>": name images as [REGISTRY/]REPOSITORY[:TAG|@DIGEST], the repository in lower case`,
			"invalid image reference"},
		{`a.yaml:9: pod default/p: spec.volumes[0]: preparing volume "v": volume type [image]: not supported: podrun provides emptyDir`,
			"volume type image not supported"},
		{`a.yaml:10: spec.securityContext.sysctls[0]: SysctlForbidden: forbidden sysctl: "kernel.x" not allowlisted`,
			"sysctl forbidden"},
		{"a.yaml:2: yaml: line 2: mapping values are not allowed in this context", "YAML syntax error"},
		{"a.yaml:33: invalid YAML: found character that cannot start any token", "YAML syntax error"},
		{`a.yaml:4: pod p: translating: AppArmor is not enabled on this machine: profile "x" is not supported`, noAppArmor},
		// Several problems, repeated ones once, in a stable order.
		{"a.yaml:1: kind Service (v1) is not supported yet\na.yaml:14: kind StatefulSet (apps/v1) is not supported yet\nb.yaml:1: kind Service (v1) is not supported yet",
			"kind Service not supported; kind StatefulSet not supported"},
	}
	for _, tt := range tests {
		if got := reasons(tt.msg); got != tt.want {
			t.Errorf("reasons(%q)\n got %q\nwant %q", tt.msg, got, tt.want)
		}
	}
}
