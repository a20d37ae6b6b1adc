package translate

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// busyboxDB is a container root with busybox's user database.
var busyboxDB = fstest.MapFS{
	"etc/passwd": {Data: []byte("root:x:0:0:root:/root:/bin/sh\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n" +
		"www-data:x:33:33:www-data:/var/www:/bin/false\n" +
		"app:x:1000:1000:App:/home/app:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/home:/bin/false\n")},
	"etc/group": {Data: []byte("root:x:0:\n" +
		"daemon:x:1:\n" +
		"wheel:x:10:root\n" +
		"www-data:x:33:app\n" +
		"app:x:1000:app\n" +
		"video:x:44:app,root\n" +
		"nogroup:x:65534:\n")},
}

// testSeccomp is a small profile in the shape of moby's default: an
// allow-list, and a rule that only holds with CAP_SYS_ADMIN.
var testSeccomp = &SeccompProfile{
	DefaultAction:   specs.ActErrno,
	DefaultErrnoRet: func() *uint { v := uint(1); return &v }(),
	Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
	Syscalls: []SeccompRule{
		{LinuxSyscall: specs.LinuxSyscall{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}},
		{LinuxSyscall: specs.LinuxSyscall{Names: []string{"mount", "umount2"}, Action: specs.ActAllow}, IncludeCaps: []string{"CAP_SYS_ADMIN"}},
		{LinuxSyscall: specs.LinuxSyscall{Names: []string{"ptrace"}, Action: specs.ActAllow}, ExcludeCaps: []string{"CAP_SYS_PTRACE"}},
	},
}

func basePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "6a1c0d4e-0000-4000-8000-000000000001"},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyAlways,
			DNSPolicy:     corev1.DNSClusterFirst,
			Containers: []corev1.Container{{
				Name:            "app",
				Image:           "localhost/app:1",
				ImagePullPolicy: corev1.PullIfNotPresent,
			}},
		},
	}
}

func baseInput(pod *corev1.Pod) Input {
	images := map[string]Image{}
	userDB := map[string]fs.FS{}
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			images[c.Name] = Image{Ref: c.Image, Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}}
			userDB[c.Name] = busyboxDB
		}
	}
	in := Input{
		Pod:    pod,
		Images: images,
		Host: Host{
			NodeName:       "node1",
			HostIP:         "192.168.1.10",
			ResolvConf:     []byte("# host\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch example.com. corp.example.com\noptions ndots:2 edns0\n"),
			Hosts:          []byte("127.0.0.1 localhost\n192.168.1.10 node1\n"),
			SeccompDefault: testSeccomp,
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("4"),
				corev1.ResourceMemory: resource.MustParse("8Gi"),
			},
		},
		Layout: Layout{Dir: "/run/podrun/pods/" + string(pod.UID)},
		PodIP:  "10.90.0.5",
		Pause:  "/usr/local/bin/podrun",
		UserDB: userDB,
	}
	if pod.Spec.HostNetwork {
		in.PodIP = ""
	}
	return in
}

func TestProcessArgs(t *testing.T) {
	img := Image{Entrypoint: []string{"/entry"}, Cmd: []string{"cmd", "arg"}}
	tests := []struct {
		name          string
		command, args []string
		img           Image
		want          []string
		wantErr       error
	}{
		{name: "image only", img: img, want: []string{"/entry", "cmd", "arg"}},
		{name: "command drops cmd", command: []string{"/bin/x"}, img: img, want: []string{"/bin/x"}},
		{name: "args replace cmd", args: []string{"a"}, img: img, want: []string{"/entry", "a"}},
		{name: "command and args", command: []string{"/bin/x"}, args: []string{"a"}, img: img, want: []string{"/bin/x", "a"}},
		{name: "cmd only", img: Image{Cmd: []string{"sh"}}, want: []string{"sh"}},
		{name: "entrypoint only", img: Image{Entrypoint: []string{"/e"}}, want: []string{"/e"}},
		{name: "args without entrypoint", args: []string{"echo", "hi"}, img: Image{Cmd: []string{"sh"}}, want: []string{"echo", "hi"}},
		{name: "empty-string entrypoint is none", img: Image{Entrypoint: []string{""}, Cmd: []string{"sh"}}, want: []string{"sh"}},
		{name: "nothing to run", img: Image{}, wantErr: ErrNoCommand},
		{name: "empty entrypoint and no cmd", img: Image{Entrypoint: []string{""}}, wantErr: ErrNoCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := processArgs(tt.command, tt.args, tt.img, field.NewPath("spec", "containers").Index(1))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "spec.containers[1]") {
				t.Errorf("error %q does not name the field", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		name            string
		base, overrides []string
		want            []string
	}{
		{name: "append", base: []string{"A=1"}, overrides: []string{"B=2"}, want: []string{"A=1", "B=2"}},
		{name: "replace keeps first place", base: []string{"A=1", "B=2"}, overrides: []string{"A=3"}, want: []string{"A=3", "B=2"}},
		{name: "later override wins", overrides: []string{"A=1", "B=2", "A=3"}, want: []string{"A=3", "B=2"}},
		{name: "no equals unsets", base: []string{"A=1", "B=2"}, overrides: []string{"A"}, want: []string{"B=2"}},
		{name: "unset then set", base: []string{"A=1"}, overrides: []string{"A", "A=2"}, want: []string{"A=2"}},
		{name: "empty value kept", base: []string{"A=1"}, overrides: []string{"A="}, want: []string{"A="}},
		{name: "value with equals", overrides: []string{"A=b=c"}, want: []string{"A=b=c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mergeEnv(tt.base, tt.overrides)); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name     string
		imageEnv []string
		env      []corev1.EnvVar
		tty      bool
		want     []string
		wantErr  string
	}{
		{
			name: "default PATH and HOSTNAME",
			want: []string{"PATH=" + DefaultPath, "HOSTNAME=web"},
		},
		{
			name:     "image PATH replaces the default in place",
			imageEnv: []string{"FOO=img", "PATH=/img/bin"},
			want:     []string{"PATH=/img/bin", "HOSTNAME=web", "FOO=img"},
		},
		{
			name:     "container env overrides image env",
			imageEnv: []string{"FOO=img", "BAR=img"},
			env:      []corev1.EnvVar{{Name: "BAR", Value: "ctr"}, {Name: "BAZ", Value: "ctr"}, {Name: "FOO", Value: "1"}, {Name: "FOO", Value: "2"}},
			want:     []string{"PATH=" + DefaultPath, "HOSTNAME=web", "FOO=2", "BAR=ctr", "BAZ=ctr"},
		},
		{
			name: "container PATH and HOSTNAME win",
			env:  []corev1.EnvVar{{Name: "HOSTNAME", Value: "h"}, {Name: "PATH", Value: "/x"}},
			want: []string{"PATH=/x", "HOSTNAME=h"},
		},
		{
			name: "tty adds TERM=xterm before HOSTNAME",
			tty:  true,
			want: []string{"PATH=" + DefaultPath, "TERM=xterm", "HOSTNAME=web"},
		},
		{
			name:     "the image's TERM replaces tty's in place, the container's wins",
			tty:      true,
			imageEnv: []string{"TERM=vt100", "FOO=img"},
			env:      []corev1.EnvVar{{Name: "TERM", Value: "dumb"}},
			want:     []string{"PATH=" + DefaultPath, "TERM=dumb", "HOSTNAME=web", "FOO=img"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := basePod()
			pod.Spec.Containers[0].Env = tt.env
			pod.Spec.Containers[0].TTY = tt.tty
			in := baseInput(pod)
			img := in.Images["app"]
			img.Env = tt.imageEnv
			in.Images["app"] = img
			plan, err := Pod(in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotSupported) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, plan.Containers[0].Spec.Process.Env); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
			if got := plan.Containers[0].Spec.Process.Terminal; got != tt.tty {
				t.Errorf("process.terminal = %v, want %v", got, tt.tty)
			}
		})
	}
}

func TestWorkingDir(t *testing.T) {
	tests := []struct {
		name, ctr, img, want, wantErr string
	}{
		{name: "default", want: "/"},
		{name: "image", img: "/srv", want: "/srv"},
		{name: "container beats image", ctr: "/work", img: "/srv", want: "/work"},
		{name: "cleaned", ctr: "/work/../tmp/", want: "/tmp"},
		{name: "relative container dir", ctr: "work", wantErr: "spec.containers[0].workingDir"},
		{name: "relative image dir", img: "srv", wantErr: "spec.containers[0].image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := workingDir(&corev1.Container{WorkingDir: tt.ctr}, Image{WorkingDir: tt.img}, field.NewPath("spec", "containers").Index(0))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("workingDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestResolveUser(t *testing.T) {
	tests := []struct {
		user    string
		db      fs.FS
		want    specs.User
		wantErr error
	}{
		{user: "", db: busyboxDB, want: specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10, 44}}},
		{user: "", db: nil, want: specs.User{AdditionalGids: []uint32{0}}},
		{user: "0", db: busyboxDB, want: specs.User{AdditionalGids: []uint32{0, 10, 44}}},
		{user: "1000", db: busyboxDB, want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 33, 44}}},
		{user: "1234", db: busyboxDB, want: specs.User{UID: 1234, GID: 0, AdditionalGids: []uint32{0}}},
		{user: "1234", db: nil, want: specs.User{UID: 1234, AdditionalGids: []uint32{0}}},
		{user: "1000:44", db: busyboxDB, want: specs.User{UID: 1000, GID: 44, AdditionalGids: []uint32{44, 33}}},
		{user: "5:6", db: nil, want: specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{6}}},
		{user: "app", db: busyboxDB, want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 33, 44}}},
		{user: "nobody", db: busyboxDB, want: specs.User{UID: 65534, GID: 65534, AdditionalGids: []uint32{65534}}},
		{user: "app:video", db: busyboxDB, want: specs.User{UID: 1000, GID: 44, AdditionalGids: []uint32{44, 33}}},
		{user: "app:7", db: busyboxDB, want: specs.User{UID: 1000, GID: 7, AdditionalGids: []uint32{7, 33, 44}}},
		{user: "33:nogroup", db: busyboxDB, want: specs.User{UID: 33, GID: 65534, AdditionalGids: []uint32{65534}}},
		{user: "ghost", db: busyboxDB, wantErr: ErrUnknownUser},
		{user: "ghost", db: nil, wantErr: ErrUnknownUser},
		{user: "app:ghosts", db: busyboxDB, wantErr: ErrUnknownGroup},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := resolveUser(tt.user, tt.db)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveUserBoundedRead(t *testing.T) {
	db := fstest.MapFS{"etc/passwd": {Data: make([]byte, maxUserDBSize+1)}}
	if _, err := resolveUser("app", db); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error = %v, want a size error", err)
	}
}

func TestUnknownUserNamesContainer(t *testing.T) {
	pod := basePod()
	in := baseInput(pod)
	img := in.Images["app"]
	img.User = "ghost"
	in.Images["app"] = img
	_, err := Pod(in)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`container "app"`, "spec.containers[0]", `"ghost"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %s", err, want)
		}
	}
}

func TestNamespaces(t *testing.T) {
	l := Layout{Dir: "/p"}
	ns := func(t specs.LinuxNamespaceType, p string) specs.LinuxNamespace {
		return specs.LinuxNamespace{Type: t, Path: p}
	}
	yes := true
	tests := []struct {
		name       string
		spec       corev1.PodSpec
		infra, app []specs.LinuxNamespace
		pin        []string
	}{
		{
			name:  "default",
			pin:   []string{"ipc", "uts"},
			infra: []specs.LinuxNamespace{ns("pid", ""), ns("ipc", ""), ns("uts", ""), ns("mount", ""), ns("network", "/p/ns/net")},
			app:   []specs.LinuxNamespace{ns("pid", ""), ns("ipc", "/p/ns/ipc"), ns("uts", "/p/ns/uts"), ns("mount", ""), ns("network", "/p/ns/net")},
		},
		{
			name:  "shareProcessNamespace",
			pin:   []string{"pid", "ipc", "uts"},
			spec:  corev1.PodSpec{ShareProcessNamespace: &yes},
			infra: []specs.LinuxNamespace{ns("pid", ""), ns("ipc", ""), ns("uts", ""), ns("mount", ""), ns("network", "/p/ns/net")},
			app:   []specs.LinuxNamespace{ns("pid", "/p/ns/pid"), ns("ipc", "/p/ns/ipc"), ns("uts", "/p/ns/uts"), ns("mount", ""), ns("network", "/p/ns/net")},
		},
		{
			name:  "hostNetwork",
			pin:   []string{"ipc"},
			spec:  corev1.PodSpec{HostNetwork: true},
			infra: []specs.LinuxNamespace{ns("pid", ""), ns("ipc", ""), ns("mount", "")},
			app:   []specs.LinuxNamespace{ns("pid", ""), ns("ipc", "/p/ns/ipc"), ns("mount", "")},
		},
		{
			name:  "hostIPC",
			pin:   []string{"uts"},
			spec:  corev1.PodSpec{HostIPC: true},
			infra: []specs.LinuxNamespace{ns("pid", ""), ns("uts", ""), ns("mount", ""), ns("network", "/p/ns/net")},
			app:   []specs.LinuxNamespace{ns("pid", ""), ns("uts", "/p/ns/uts"), ns("mount", ""), ns("network", "/p/ns/net")},
		},
		{
			name:  "hostPID",
			pin:   []string{"ipc", "uts"},
			spec:  corev1.PodSpec{HostPID: true},
			infra: []specs.LinuxNamespace{ns("ipc", ""), ns("uts", ""), ns("mount", ""), ns("network", "/p/ns/net")},
			app:   []specs.LinuxNamespace{ns("ipc", "/p/ns/ipc"), ns("uts", "/p/ns/uts"), ns("mount", ""), ns("network", "/p/ns/net")},
		},
		{
			name:  "all host namespaces",
			pin:   nil,
			spec:  corev1.PodSpec{HostNetwork: true, HostIPC: true, HostPID: true},
			infra: []specs.LinuxNamespace{ns("mount", "")},
			app:   []specs.LinuxNamespace{ns("mount", "")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.infra, namespaces(&tt.spec, l, true)); diff != "" {
				t.Errorf("infra (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.app, namespaces(&tt.spec, l, false)); diff != "" {
				t.Errorf("app (-want +got):\n%s", diff)
			}
			checkSandbox(t, tt.spec, tt.pin)
		})
	}
}

// checkSandbox checks that Sandbox pins pin and gives the pod a network
// of its own unless hostNetwork, and that Pod's plan embeds that value.
func checkSandbox(t *testing.T, spec corev1.PodSpec, pin []string) {
	t.Helper()
	pod := basePod()
	pod.Spec.HostNetwork, pod.Spec.HostIPC, pod.Spec.HostPID = spec.HostNetwork, spec.HostIPC, spec.HostPID
	pod.Spec.ShareProcessNamespace = spec.ShareProcessNamespace
	in := baseInput(pod)
	l := in.Layout
	want := SandboxPlan{}
	for _, typ := range pin {
		want.Pin = append(want.Pin, PinnedNamespace{Type: typ, Path: l.Namespace(typ)})
	}
	if !spec.HostNetwork {
		want.NetNS = l.Namespace("net")
	}
	got := Sandbox(pod, l)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sandbox (-want +got):\n%s", diff)
	}
	if got.PodNetwork() == spec.HostNetwork {
		t.Errorf("PodNetwork() = %v with hostNetwork %v", got.PodNetwork(), spec.HostNetwork)
	}
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, plan.SandboxPlan); diff != "" {
		t.Errorf("Plan.SandboxPlan differs from Sandbox (-sandbox +plan):\n%s", diff)
	}
}

func TestHostname(t *testing.T) {
	long := strings.Repeat("a", 62) + "-b"
	yes := true
	tests := []struct {
		name         string
		mutate       func(*corev1.Pod)
		wantUTS      string // spec.hostname of the infra
		wantFile     string // /etc/hostname
		wantHostsEnd string // last line of /etc/hosts
	}{
		{name: "pod name", wantUTS: "web", wantFile: "web\n", wantHostsEnd: "10.90.0.5\tweb\n"},
		{name: "spec.hostname", mutate: func(p *corev1.Pod) { p.Spec.Hostname = "h1" }, wantUTS: "h1", wantFile: "h1\n", wantHostsEnd: "10.90.0.5\th1\n"},
		{
			name:    "long name truncated without trailing dash",
			mutate:  func(p *corev1.Pod) { p.Name = long },
			wantUTS: strings.Repeat("a", 62), wantFile: strings.Repeat("a", 62) + "\n", wantHostsEnd: "10.90.0.5\t" + strings.Repeat("a", 62) + "\n",
		},
		{
			name:    "subdomain adds the FQDN to hosts",
			mutate:  func(p *corev1.Pod) { p.Spec.Hostname = "h1"; p.Spec.Subdomain = "sub" },
			wantUTS: "h1", wantFile: "h1\n", wantHostsEnd: "10.90.0.5\th1.sub.default.svc.cluster.local\th1\n",
		},
		{
			name:    "setHostnameAsFQDN",
			mutate:  func(p *corev1.Pod) { p.Spec.Subdomain = "sub"; p.Spec.SetHostnameAsFQDN = &yes },
			wantUTS: "web.sub.default.svc.cluster.local", wantFile: "web.sub.default.svc.cluster.local\n", wantHostsEnd: "10.90.0.5\tweb.sub.default.svc.cluster.local\tweb\n",
		},
		{
			name:    "hostNetwork keeps the host's name",
			mutate:  func(p *corev1.Pod) { p.Spec.HostNetwork = true },
			wantUTS: "", wantFile: "node1\n", wantHostsEnd: "192.168.1.10 node1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := basePod()
			if tt.mutate != nil {
				tt.mutate(pod)
			}
			plan, err := Pod(baseInput(pod))
			if err != nil {
				t.Fatal(err)
			}
			if got := plan.Infra.Spec.Hostname; got != tt.wantUTS {
				t.Errorf("infra hostname = %q, want %q", got, tt.wantUTS)
			}
			if got := plan.Containers[0].Spec.Hostname; got != "" {
				t.Errorf("app container sets hostname %q; it must use the infra's UTS namespace", got)
			}
			files := planFiles(plan)
			if got := files["hostname"]; got != tt.wantFile {
				t.Errorf("/etc/hostname = %q, want %q", got, tt.wantFile)
			}
			if got := files["hosts"]; !strings.HasSuffix(got, tt.wantHostsEnd) {
				t.Errorf("/etc/hosts = %q, want it to end with %q", got, tt.wantHostsEnd)
			}
			want := "HOSTNAME=" + strings.TrimSuffix(tt.wantFile, "\n")
			if env := plan.Containers[0].Spec.Process.Env; env[1] != want {
				t.Errorf("env = %q, want %s", env, want)
			}
		})
	}
}

func planFiles(plan *Plan) map[string]string {
	files := map[string]string{}
	for _, f := range plan.Files {
		files[f.Path[strings.LastIndex(f.Path, "/")+1:]] = string(f.Data)
	}
	return files
}

func TestHostsFile(t *testing.T) {
	pod := basePod()
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.1.1.1", Hostnames: []string{"foo", "foo.local"}}, {IP: "10.1.1.2", Hostnames: []string{"bar"}}}
	got := mustFile(t)(hostsFile(pod, nil, []string{"10.90.0.5"}, "web", ""))
	want := "# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"fe00::0\tip6-mcastprefix\n" +
		"fe00::1\tip6-allnodes\n" +
		"fe00::2\tip6-allrouters\n" +
		"10.90.0.5\tweb\n" +
		"\n# Entries added by HostAliases.\n" +
		"10.1.1.1\tfoo\tfoo.local\n" +
		"10.1.1.2\tbar\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hosts (-want +got):\n%s", diff)
	}
	pod.Spec.HostNetwork = true
	got = mustFile(t)(hostsFile(pod, []byte("127.0.0.1 localhost\n"), nil, "web", ""))
	want = "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n" +
		"\n# Entries added by HostAliases.\n10.1.1.1\tfoo\tfoo.local\n10.1.1.2\tbar\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("host-network hosts (-want +got):\n%s", diff)
	}
}

func TestResolvConf(t *testing.T) {
	host := "# generated\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch old.example\nsearch example.com. corp.example.com .\noptions ndots:2 edns0\n"
	hostFmt := "search example.com corp.example.com\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions ndots:2 edns0\n"
	clusterFmt := "search ns1.svc.cluster.local svc.cluster.local cluster.local example.com corp.example.com\nnameserver 10.96.0.10\noptions ndots:5\n"
	five := "5"
	podDNS := &corev1.PodDNSConfig{
		Nameservers: []string{"10.0.0.10", "192.168.1.1"},
		Searches:    []string{"ns1.svc.cluster.local", "example.com"},
		Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: &five}, {Name: "single-request"}},
	}
	tests := []struct {
		name   string
		policy corev1.DNSPolicy
		hostNW bool
		config *corev1.PodDNSConfig
		host   string
		// noCluster leaves the cluster DNS address out, as a kubelet
		// without --cluster-dns.
		noCluster bool
		want      string
	}{
		{name: "ClusterFirst names the cluster DNS", policy: corev1.DNSClusterFirst, host: host, want: clusterFmt},
		{name: "no policy is ClusterFirst", host: host, want: clusterFmt},
		{
			name: "ClusterFirst with dnsConfig merged", policy: corev1.DNSClusterFirst, host: host, config: podDNS,
			want: "search ns1.svc.cluster.local svc.cluster.local cluster.local example.com corp.example.com\n" +
				"nameserver 10.96.0.10\nnameserver 10.0.0.10\nnameserver 192.168.1.1\noptions ndots:5 single-request\n",
		},
		{name: "ClusterFirst without cluster DNS falls back to the host", policy: corev1.DNSClusterFirst, host: host, noCluster: true, want: hostFmt},
		{name: "ClusterFirstWithHostNet off the host network", policy: corev1.DNSClusterFirstWithHostNet, host: host, want: clusterFmt},
		{name: "ClusterFirstWithHostNet on the host network", policy: corev1.DNSClusterFirstWithHostNet, hostNW: true, host: host, want: hostFmt},
		{name: "ClusterFirst on host network", policy: corev1.DNSClusterFirst, hostNW: true, host: host, want: hostFmt},
		{name: "Default", policy: corev1.DNSDefault, host: host, want: hostFmt},
		{
			name: "Default with dnsConfig merged", policy: corev1.DNSDefault, host: host, config: podDNS,
			want: "search example.com corp.example.com ns1.svc.cluster.local\n" +
				"nameserver 192.168.1.1\nnameserver 192.168.1.2\nnameserver 10.0.0.10\n" +
				"options ndots:5 edns0 single-request\n",
		},
		{
			name: "None uses only dnsConfig", policy: corev1.DNSNone, host: host, config: podDNS,
			want: "search ns1.svc.cluster.local example.com\nnameserver 10.0.0.10\nnameserver 192.168.1.1\noptions ndots:5 single-request\n",
		},
		{
			name: "nameservers capped at three", policy: corev1.DNSNone, host: host,
			config: &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"}},
			want:   "nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\n",
		},
		{name: "empty result copies the host file", policy: corev1.DNSDefault, host: "# nothing here\n", want: "# nothing here\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &corev1.PodSpec{DNSPolicy: tt.policy, HostNetwork: tt.hostNW, DNSConfig: tt.config}
			cluster := []string{"10.96.0.10"}
			if tt.noCluster {
				cluster = nil
			}
			if diff := cmp.Diff(tt.want, mustFile(t)(resolvConf(spec, "ns1", []byte(tt.host), cluster))); diff != "" {
				t.Errorf("resolv.conf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPorts(t *testing.T) {
	pod := basePod()
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", Ports: []corev1.ContainerPort{{ContainerPort: 1, HostPort: 1}}}}
	pod.Spec.Containers[0].Ports = []corev1.ContainerPort{
		{ContainerPort: 8080, HostPort: 8080, Protocol: corev1.ProtocolTCP},
		{ContainerPort: 9090, Protocol: corev1.ProtocolTCP},
		{ContainerPort: 53, HostPort: 5353, Protocol: corev1.ProtocolUDP, HostIP: "127.0.0.1"},
	}
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "side", Ports: []corev1.ContainerPort{
		{ContainerPort: 7, HostPort: 7007, Protocol: corev1.ProtocolSCTP},
		{ContainerPort: 8, HostPort: 8008},
	}})
	want := []Port{
		{HostPort: 8080, ContainerPort: 8080, Protocol: "tcp"},
		{HostPort: 5353, ContainerPort: 53, Protocol: "udp", HostIP: "127.0.0.1"},
		{HostPort: 7007, ContainerPort: 7, Protocol: "sctp"},
		{HostPort: 8008, ContainerPort: 8, Protocol: "tcp"},
	}
	if diff := cmp.Diff(want, hostPorts(pod)); diff != "" {
		t.Errorf("hostPorts (-want +got):\n%s", diff)
	}
	plan, err := Pod(baseInput(pod))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, plan.Ports); diff != "" {
		t.Errorf("Plan.Ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, Sandbox(pod, Layout{Dir: "/p"}).Ports); diff != "" {
		t.Errorf("Sandbox.Ports (-want +got):\n%s", diff)
	}
}

func TestErrorsNameContainerAndField(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Input)
		wantErr error
		want    []string
	}{
		{
			name:    "missing image config",
			mutate:  func(in *Input) { delete(in.Images, "app") },
			wantErr: ErrMissingImage,
			want:    []string{`container "app"`, "spec.containers[0].image"},
		},
		{
			name:    "nothing to run",
			mutate:  func(in *Input) { in.Images["app"] = Image{Ref: "x"} },
			wantErr: ErrNoCommand,
			want:    []string{`container "app"`, "spec.containers[0]"},
		},
		{
			name: "init container",
			mutate: func(in *Input) {
				in.Pod.Spec.InitContainers = []corev1.Container{{Name: "first"}, {Name: "second", SecurityContext: &corev1.SecurityContext{
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NOPE"}}}}}
				in.Images["first"] = Image{Cmd: []string{"true"}}
				in.Images["second"] = Image{Cmd: []string{"true"}}
			},
			wantErr: ErrUnknownCapability,
			want:    []string{`container "second"`, "spec.initContainers[1].securityContext.capabilities.add[0]"},
		},
		{
			name: "unknown group",
			mutate: func(in *Input) {
				img := in.Images["app"]
				img.User = "app:ghosts"
				in.Images["app"] = img
			},
			wantErr: ErrUnknownGroup,
			want:    []string{`container "app"`, "spec.containers[0]", `"ghosts"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput(basePod())
			tt.mutate(&in)
			_, err := Pod(in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %s", err, w)
				}
			}
		})
	}
}

func TestSpecsDoNotShareMemory(t *testing.T) {
	pod := basePod()
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "two", Image: "localhost/app:1"})
	plan, err := Pod(baseInput(pod))
	if err != nil {
		t.Fatal(err)
	}
	a, b := plan.Containers[0].Spec, plan.Containers[1].Spec
	a.Mounts[len(a.Mounts)-1].Options[0] = "changed"
	a.Process.Capabilities.Bounding[0] = "changed"
	a.Linux.MaskedPaths[0] = "changed"
	if b.Mounts[len(b.Mounts)-1].Options[0] == "changed" || b.Process.Capabilities.Bounding[0] == "changed" || b.Linux.MaskedPaths[0] == "changed" {
		t.Error("changing one container's spec changed another's")
	}
}

func TestPodNeedsUID(t *testing.T) {
	pod := basePod()
	pod.UID = ""
	if _, err := Pod(baseInput(pod)); err == nil || !strings.Contains(err.Error(), "metadata.uid") {
		t.Fatalf("error = %v, want one naming metadata.uid", err)
	}
}
