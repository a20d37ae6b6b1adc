package translate

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two", "EMPTY": ""}
	tests := []struct{ in, want string }{
		{"$(A)", "1"},
		{"x$(A)y$(B)z", "x1ytwoz"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$1"},
		{"$(UNKNOWN)", "$(UNKNOWN)"},
		{"$(EMPTY)!", "!"},
		{"$(A", "$(A"},
		{"$A", "$A"},
		{"a$", "a$"},
		{"$$", "$"},
		{"$()", "$()"},
		{"$(A)$(A)", "11"},
	}
	for _, tt := range tests {
		if got := expand(tt.in, vars); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// envPod is basePod with objects to read and labels to show.
func envInput(env []corev1.EnvVar, from []corev1.EnvFromSource) Input {
	pod := basePod()
	pod.Labels = map[string]string{"app": "web"}
	pod.Annotations = map[string]string{"team": "blue"}
	pod.Spec.NodeName = "node1"
	pod.Spec.ServiceAccountName = "default"
	c := &pod.Spec.Containers[0]
	c.Env, c.EnvFrom = env, from
	c.Resources = corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	}
	in := baseInput(pod)
	in.ConfigMaps = map[string]*corev1.ConfigMap{
		"cfg": {Data: map[string]string{"MODE": "fast", "LEVEL": "3", "bad-key": "x", "1X": "y"}},
	}
	in.Secrets = map[string]*corev1.Secret{
		"sec": {Data: map[string][]byte{"PASSWORD": []byte("hunter2"), "MODE": []byte("secret")}},
	}
	return in
}

func ref(name, key string, optional bool) (*corev1.ConfigMapKeySelector, *corev1.SecretKeySelector) {
	o := &optional
	return &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: o},
		&corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: o}
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
}

func resourceEnv(name, res, divisor string) corev1.EnvVar {
	sel := &corev1.ResourceFieldSelector{Resource: res}
	if divisor != "" {
		sel.Divisor = resource.MustParse(divisor)
	}
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: sel}}
}

func TestKubeEnv(t *testing.T) {
	cmKey, _ := ref("cfg", "MODE", false)
	_, secKey := ref("sec", "PASSWORD", false)
	optCM, _ := ref("nope", "X", true)
	_, optKey := ref("sec", "NOPE", true)
	yes := true
	tests := []struct {
		name    string
		env     []corev1.EnvVar
		from    []corev1.EnvFromSource
		want    []string // after PATH and HOSTNAME
		cfgErr  string
		warning string
	}{{
		name: "expansion sees earlier entries only; $$ escapes; unknown stays",
		env: []corev1.EnvVar{
			{Name: "A", Value: "a"}, {Name: "B", Value: "$(A)-$(C)"}, {Name: "C", Value: "c"},
			{Name: "D", Value: "$$(A) $(PATH) $(C)"},
		},
		want: []string{"A=a", "B=a-$(C)", "C=c", "D=$(A) $(PATH) c"},
	}, {
		name: "envFrom with prefix, keys sorted, invalid keys skipped, env wins",
		from: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
			{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
		},
		env:     []corev1.EnvVar{{Name: "MODE", Value: "env-$(S_MODE)"}},
		want:    []string{"1X=y", "LEVEL=3", "MODE=env-secret", "bad-key=x", "S_MODE=secret", "S_PASSWORD=hunter2"},
		warning: "",
	}, {
		name: "optional envFrom sources that are absent",
		from: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: &yes}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: &yes}},
		},
		env:  []corev1.EnvVar{{Name: "A", Value: "1"}},
		want: []string{"A=1"},
	}, {
		name: "keys, and optional keys that are absent",
		env: []corev1.EnvVar{
			{Name: "M", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: cmKey}},
			{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: secKey}},
			{Name: "O1", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: optCM}},
			{Name: "O2", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: optKey}},
			{Name: "X", Value: "$(M)/$(P)/$(O1)"},
		},
		want: []string{"M=fast", "P=hunter2", "X=fast/hunter2/$(O1)"},
	}, {
		name: "downward API",
		env: []corev1.EnvVar{
			fieldEnv("NAME", "metadata.name"), fieldEnv("NS", "metadata.namespace"), fieldEnv("UID", "metadata.uid"),
			fieldEnv("APP", "metadata.labels['app']"), fieldEnv("TEAM", "metadata.annotations['team']"),
			fieldEnv("MISSING", "metadata.labels['nope']"),
			fieldEnv("NODE", "spec.nodeName"), fieldEnv("SA", "spec.serviceAccountName"),
			fieldEnv("IP", "status.podIP"), fieldEnv("IPS", "status.podIPs"), fieldEnv("HOST", "status.hostIP"), fieldEnv("HOSTS", "status.hostIPs"),
		},
		want: []string{"NAME=web", "NS=default", "UID=6a1c0d4e-0000-4000-8000-000000000001", "APP=web", "TEAM=blue", "MISSING=",
			"NODE=node1", "SA=default", "IP=10.90.0.5", "IPS=10.90.0.5", "HOST=192.168.1.10", "HOSTS=192.168.1.10"},
	}, {
		name: "resources: CPU rounds up; a missing limit is the node's allocatable",
		env: []corev1.EnvVar{
			resourceEnv("REQ_CPU", "requests.cpu", ""), resourceEnv("REQ_CPU_M", "requests.cpu", "1m"),
			resourceEnv("LIM_CPU", "limits.cpu", ""), resourceEnv("LIM_MEM", "limits.memory", "1Mi"),
			resourceEnv("REQ_MEM", "requests.memory", "1M"), resourceEnv("LIM_MEM_B", "limits.memory", ""),
		},
		want: []string{"REQ_CPU=1", "REQ_CPU_M=250", "LIM_CPU=4", "LIM_MEM=100", "REQ_MEM=68", "LIM_MEM_B=104857600"},
	}, {
		name:   "a missing configmap is the container's config error",
		env:    []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}, Key: "k"}}}},
		cfgErr: `configmap "x" not found`,
	}, {
		name:   "a missing secret key",
		env:    []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "k"}}}},
		cfgErr: `couldn't find key k in Secret default/sec`,
	}, {
		name:   "a missing envFrom secret",
		from:   []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}},
		cfgErr: `secret "gone" not found`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := envInput(tt.env, tt.from)
			plan, err := Pod(in)
			if err != nil {
				t.Fatal(err)
			}
			c := plan.Containers[0]
			if c.ConfigError != tt.cfgErr {
				t.Errorf("ConfigError = %q, want %q", c.ConfigError, tt.cfgErr)
			}
			if tt.cfgErr != "" {
				return
			}
			if diff := cmp.Diff(append([]string{"PATH=/bin", "HOSTNAME=web"}, tt.want...), c.Spec.Process.Env); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvFromSkipsInvalidNamesWithAWarning(t *testing.T) {
	in := envInput(nil, []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}})
	in.ConfigMaps["cfg"].Data["A=B"] = "x"
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Warning{{Field: "spec.containers[0].envFrom[0]",
		Message: `keys [A=B] from the EnvFrom configMap default/cfg were skipped since they are considered invalid environment variable names`}}
	if diff := cmp.Diff(want, plan.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestCommandExpansion(t *testing.T) {
	in := envInput([]corev1.EnvVar{{Name: "GREETING", Value: "hi"}}, nil)
	c := &in.Pod.Spec.Containers[0]
	c.Command = []string{"echo", "$(GREETING)"}
	c.Args = []string{"$(HOSTNAME)", "$$(GREETING)", "$(PATH)"}
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	// Only the kubelet's variables count: not the image's PATH nor HOSTNAME.
	want := []string{"echo", "hi", "$(HOSTNAME)", "$(GREETING)", "$(PATH)"}
	if diff := cmp.Diff(want, plan.Containers[0].Spec.Process.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}

func i64(v int64) *int64 { return &v }

func TestSecurity(t *testing.T) {
	yes, no := true, false
	strict := corev1.SupplementalGroupsPolicyStrict
	tests := []struct {
		name   string
		pod    *corev1.PodSecurityContext
		ctr    *corev1.SecurityContext
		user   string // image USER
		check  func(t *testing.T, s *specs.Spec)
		cfgErr string
	}{{
		name: "image user with its groups",
		user: "app",
		check: func(t *testing.T, s *specs.Spec) {
			want := specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 33, 44}}
			if diff := cmp.Diff(want, s.Process.User); diff != "" {
				t.Error(diff)
			}
		},
	}, {
		name: "pod runAsUser and runAsGroup, container runAsUser wins; supplementalGroups and fsGroup added",
		pod:  &corev1.PodSecurityContext{RunAsUser: i64(1000), RunAsGroup: i64(3000), SupplementalGroups: []int64{4000, 44}, FSGroup: i64(2000)},
		ctr:  &corev1.SecurityContext{RunAsUser: i64(33)},
		user: "nobody",
		check: func(t *testing.T, s *specs.Spec) {
			want := specs.User{UID: 33, GID: 3000, AdditionalGids: []uint32{3000, 4000, 44, 2000}}
			if diff := cmp.Diff(want, s.Process.User); diff != "" {
				t.Error(diff)
			}
		},
	}, {
		name: "runAsUser not in /etc/passwd gets gid 0",
		pod:  &corev1.PodSecurityContext{RunAsUser: i64(4242)},
		check: func(t *testing.T, s *specs.Spec) {
			if u := s.Process.User; u.UID != 4242 || u.GID != 0 {
				t.Errorf("user %+v", u)
			}
		},
	}, {
		name: "supplementalGroupsPolicy Strict ignores /etc/group",
		pod:  &corev1.PodSecurityContext{SupplementalGroupsPolicy: &strict, SupplementalGroups: []int64{5}},
		user: "app",
		check: func(t *testing.T, s *specs.Spec) {
			if diff := cmp.Diff([]uint32{1000, 5}, s.Process.User.AdditionalGids); diff != "" {
				t.Error(diff)
			}
		},
	}, {
		name:   "runAsNonRoot refuses an image without USER",
		pod:    &corev1.PodSecurityContext{RunAsNonRoot: &yes},
		cfgErr: `container has runAsNonRoot and image will run as root (pod: "web_default(6a1c0d4e-0000-4000-8000-000000000001)", container: app)`,
	}, {
		name:   "runAsNonRoot refuses a named USER",
		ctr:    &corev1.SecurityContext{RunAsNonRoot: &yes},
		user:   "app",
		cfgErr: `container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: "web_default(6a1c0d4e-0000-4000-8000-000000000001)", container: app)`,
	}, {
		name:   "runAsNonRoot refuses runAsUser 0",
		pod:    &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: i64(0)},
		cfgErr: `container's runAsUser breaks non-root policy (pod: "web_default(6a1c0d4e-0000-4000-8000-000000000001)", container: app)`,
	}, {
		name: "runAsNonRoot with a numeric non-root user; container false wins over pod true",
		pod:  &corev1.PodSecurityContext{RunAsNonRoot: &yes},
		ctr:  &corev1.SecurityContext{RunAsNonRoot: &no},
		check: func(t *testing.T, s *specs.Spec) {
			if s.Process.User.UID != 0 {
				t.Errorf("uid %d", s.Process.User.UID)
			}
		},
	}, {
		name: "capabilities: drop ALL then add, any spelling",
		ctr:  &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"net_admin", "CAP_CHOWN"}}},
		check: func(t *testing.T, s *specs.Spec) {
			want := []string{"CAP_NET_ADMIN", "CAP_CHOWN"}
			for _, set := range [][]string{s.Process.Capabilities.Bounding, s.Process.Capabilities.Effective, s.Process.Capabilities.Permitted} {
				if diff := cmp.Diff(want, set); diff != "" {
					t.Error(diff)
				}
			}
		},
	}, {
		name: "capabilities: add ALL, drop one",
		ctr:  &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"ALL"}, Drop: []corev1.Capability{"SYS_ADMIN"}}},
		check: func(t *testing.T, s *specs.Spec) {
			caps := s.Process.Capabilities.Bounding
			if len(caps) != len(allCapabilities)-1 || strings.Contains(strings.Join(caps, ","), "CAP_SYS_ADMIN") {
				t.Errorf("caps %v", caps)
			}
		},
	}, {
		name: "allowPrivilegeEscalation false sets no_new_privs; readOnlyRootFilesystem",
		ctr:  &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes},
		check: func(t *testing.T, s *specs.Spec) {
			if !s.Process.NoNewPrivileges || !s.Root.Readonly {
				t.Errorf("noNewPrivileges %v, readonly root %v", s.Process.NoNewPrivileges, s.Root.Readonly)
			}
		},
	}, {
		name: "defaults: no_new_privs unset, RuntimeDefault seccomp filtered by capabilities",
		check: func(t *testing.T, s *specs.Spec) {
			if s.Process.NoNewPrivileges || s.Root.Readonly {
				t.Error("confined more than the default")
			}
			want := testSeccomp.Filter(defaultCapabilities())
			if diff := cmp.Diff(want, s.Linux.Seccomp); diff != "" {
				t.Error(diff)
			}
			if len(s.Linux.Seccomp.Syscalls) != 2 || s.Linux.Seccomp.Syscalls[1].Names[0] != "ptrace" {
				t.Errorf("rules %+v", s.Linux.Seccomp.Syscalls)
			}
		},
	}, {
		name: "pod Unconfined; container Localhost wins",
		pod:  &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
		ctr: &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost,
			LocalhostProfile: func() *string { s := "prof.json"; return &s }()}},
		check: func(t *testing.T, s *specs.Spec) {
			if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActLog {
				t.Errorf("seccomp %+v", s.Linux.Seccomp)
			}
		},
	}, {
		name: "pod Unconfined",
		pod:  &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
		check: func(t *testing.T, s *specs.Spec) {
			if s.Linux.Seccomp != nil {
				t.Errorf("seccomp %+v", s.Linux.Seccomp)
			}
		},
	}, {
		name: "privileged: every capability and device, no masks, rw /sys, no seccomp",
		ctr:  &corev1.SecurityContext{Privileged: &yes},
		check: func(t *testing.T, s *specs.Spec) {
			if len(s.Process.Capabilities.Bounding) != len(allCapabilities) || s.Linux.Seccomp != nil ||
				s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil || len(s.Linux.Devices) != 1 {
				t.Errorf("privileged spec: %+v", s.Linux)
			}
			for _, m := range s.Mounts {
				if m.Destination == "/sys" && strings.Contains(strings.Join(m.Options, ","), "ro") {
					t.Errorf("/sys: %v", m.Options)
				}
			}
			if d := s.Linux.Resources.Devices; len(d) != 1 || !d[0].Allow || d[0].Type != "" {
				t.Errorf("device rules %+v", d)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := basePod()
			pod.Spec.SecurityContext = tt.pod
			pod.Spec.Containers[0].SecurityContext = tt.ctr
			in := baseInput(pod)
			img := in.Images["app"]
			img.User = tt.user
			in.Images["app"] = img
			in.SeccompProfiles = map[string]*SeccompProfile{"prof.json": {DefaultAction: specs.ActLog}}
			in.Host.Devices = []specs.LinuxDevice{{Path: "/dev/kvm", Type: "c", Major: 10, Minor: 232}}
			plan, err := Pod(in)
			if err != nil {
				t.Fatal(err)
			}
			c := plan.Containers[0]
			if c.ConfigError != tt.cfgErr {
				t.Fatalf("ConfigError = %q, want %q", c.ConfigError, tt.cfgErr)
			}
			if tt.check != nil {
				tt.check(t, c.Spec)
			}
		})
	}
}

func TestUserString(t *testing.T) {
	tests := []struct {
		image       string
		user, group *int64
		want        string
	}{
		{"app:staff", nil, nil, "app:staff"},
		{"app:staff", i64(5), nil, "5"},
		{"app:staff", nil, i64(7), "app:7"},
		{"1000", i64(5), i64(7), "5:7"},
		{"", nil, i64(7), ":7"},
	}
	for _, tt := range tests {
		if got := userString(tt.image, tt.user, tt.group); got != tt.want {
			t.Errorf("userString(%q, %v, %v) = %q, want %q", tt.image, tt.user, tt.group, got, tt.want)
		}
	}
}

func TestSysctls(t *testing.T) {
	tests := []struct {
		name    string
		sysctls []corev1.Sysctl
		unsafe  []string
		want    map[string]string
		wantErr string
	}{
		{name: "safe set", sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_local_port_range", Value: "1024 2000"}, {Name: "kernel/shm_rmid_forced", Value: "1"}},
			want: map[string]string{"net.ipv4.ip_local_port_range": "1024 2000", "kernel.shm_rmid_forced": "1"}},
		{name: "unsafe refused", sysctls: []corev1.Sysctl{{Name: "net.core.somaxconn", Value: "1024"}},
			wantErr: `spec.securityContext.sysctls[0]: SysctlForbidden: forbidden sysctl: "net.core.somaxconn" not allowlisted`},
		{name: "unsafe allowed by pattern", sysctls: []corev1.Sysctl{{Name: "net.core.somaxconn", Value: "1024"}}, unsafe: []string{"net.core.*"},
			want: map[string]string{"net.core.somaxconn": "1024"}},
		{name: "not namespaced, even if allowed", sysctls: []corev1.Sysctl{{Name: "vm.swappiness", Value: "1"}}, unsafe: []string{"vm.swappiness"},
			wantErr: `SysctlForbidden: sysctl "vm.swappiness" is not namespaced`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := basePod()
			pod.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: tt.sysctls}
			in := baseInput(pod)
			in.AllowedUnsafeSysctls = tt.unsafe
			plan, err := Pod(in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrSysctlForbidden) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, plan.Infra.Spec.Linux.Sysctl); diff != "" {
				t.Errorf("infra sysctls (-want +got):\n%s", diff)
			}
			if plan.Containers[0].Spec.Linux.Sysctl != nil {
				t.Error("sysctls belong to the infra container only")
			}
		})
	}
}

func TestResources(t *testing.T) {
	tests := []struct {
		name              string
		limits, requests  corev1.ResourceList
		shares            uint64
		quota             int64
		memory            int64
		oomAdj            int
		qos               corev1.PodQOSClass
		other, otherLimit bool
	}{
		{name: "best effort", shares: 2, oomAdj: 1000, qos: corev1.PodQOSBestEffort},
		{name: "guaranteed", limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			shares:   512, quota: 50000, memory: 128 << 20, oomAdj: -997, qos: corev1.PodQOSGuaranteed},
		{name: "burstable", requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("2Gi")},
			limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m")},
			shares: 2, quota: 1000, oomAdj: 750, qos: corev1.PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := basePod()
			pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{Limits: tt.limits, Requests: tt.requests}
			if q := QOSClass(pod); q != tt.qos {
				t.Errorf("QOSClass = %s, want %s", q, tt.qos)
			}
			plan, err := Pod(baseInput(pod))
			if err != nil {
				t.Fatal(err)
			}
			s := plan.Containers[0].Spec
			r := s.Linux.Resources
			if *r.CPU.Shares != tt.shares || *r.Pids.Limit != DefaultPidsLimit || *s.Process.OOMScoreAdj != tt.oomAdj {
				t.Errorf("shares %d, pids %d, oom_score_adj %d", *r.CPU.Shares, *r.Pids.Limit, *s.Process.OOMScoreAdj)
			}
			if got := r.CPU.Quota; (got == nil) != (tt.quota == 0) || (got != nil && (*got != tt.quota || *r.CPU.Period != 100000)) {
				t.Errorf("quota %v, want %d", got, tt.quota)
			}
			if got := r.Memory; (got == nil) != (tt.memory == 0) || (got != nil && *got.Limit != tt.memory) {
				t.Errorf("memory %+v, want %d", got, tt.memory)
			}
		})
	}
}

func TestMilliCPU(t *testing.T) {
	for milli, want := range map[int64]uint64{0: 2, 1: 2, 2: 2, 100: 102, 1000: 1024, 1000000: 262144} {
		if got := MilliCPUToShares(milli); got != want {
			t.Errorf("MilliCPUToShares(%d) = %d, want %d", milli, got, want)
		}
	}
	for milli, want := range map[int64]int64{0: 0, 1: 1000, 10: 1000, 250: 25000, 2000: 200000} {
		if got := MilliCPUToQuota(milli, 100000); got != want {
			t.Errorf("MilliCPUToQuota(%d) = %d, want %d", milli, got, want)
		}
	}
}

func TestTerminationMessageFile(t *testing.T) {
	pod := basePod()
	pod.Spec.Containers[0].TerminationMessagePath = "/tmp/done"
	plan, err := Pod(baseInput(pod))
	if err != nil {
		t.Fatal(err)
	}
	file := plan.Containers[0].Spec.Mounts
	var found bool
	for _, m := range file {
		if m.Destination == "/tmp/done" && m.Source == "/run/podrun/pods/6a1c0d4e-0000-4000-8000-000000000001/termination/app" {
			found = true
		}
	}
	if !found {
		t.Errorf("no termination mount in %+v", file)
	}
	for _, f := range plan.Files {
		if strings.HasSuffix(f.Path, "/termination/app") && f.Mode == 0o666 && len(f.Data) == 0 {
			return
		}
	}
	t.Errorf("no world-writable termination file in %+v", plan.Files)
}

func TestPrivilegedGetsWhatPodrunHolds(t *testing.T) {
	yes := true
	pod := basePod()
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &yes}
	in := baseInput(pod)
	in.Host.Capabilities = CapabilitiesFromMask(0x1fffeffffff) // all but CAP_SYS_RESOURCE (24)
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	caps := plan.Containers[0].Spec.Process.Capabilities.Bounding
	if len(caps) != len(allCapabilities)-1 || strings.Contains(strings.Join(caps, ","), "CAP_SYS_RESOURCE") {
		t.Errorf("caps: %v", caps)
	}
}

// TestUserMountOverHostsWins: a volume mounted at /etc/hosts replaces the
// Kubernetes-managed file, as on a kubelet.
func TestUserMountOverHostsWins(t *testing.T) {
	pod := basePod()
	pod.Spec.Volumes = []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/hosts"}}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "h", MountPath: "/etc/hosts"}}
	plan, err := Pod(baseInput(pod))
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, m := range plan.Containers[0].Spec.Mounts {
		if m.Destination == "/etc/hosts" {
			sources = append(sources, m.Source)
		}
	}
	if len(sources) != 1 || sources[0] != "/srv/hosts" {
		t.Errorf("/etc/hosts mounts from %v, want only /srv/hosts", sources)
	}
}
