package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// unreachableRef names an image of a registry that refuses connections.
const unreachableRef = "127.0.0.1:1/errpos/app:latest"

// errposRunner is a runner whose store holds localhost/errpos/app:1 and
// unreachableRef, an image of no layers that runs sh, and whose log is
// written to logs.
func errposRunner(t *testing.T, logs *bytes.Buffer) *Runner {
	t.Helper()
	r, err := New(Config{
		Root: t.TempDir(), RunRoot: t.TempDir(), Runtime: filepath.Join(t.TempDir(), "no-runtime"),
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Config(empty.Image, v1.Config{Cmd: []string{"sh"}})
	if err != nil {
		t.Fatal(err)
	}
	refs := map[name.Reference]v1.Image{}
	for _, ref := range []string{"localhost/errpos/app:1", unreachableRef} {
		tag, err := name.NewTag(ref)
		if err != nil {
			t.Fatal(err)
		}
		refs[tag] = img
	}
	archive := filepath.Join(t.TempDir(), "app.tar")
	if err := tarball.MultiRefWriteToFile(archive, refs); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Images().Load(archive); err != nil {
		t.Fatal(err)
	}
	return r
}

// loadSet reads testdata/errpos/file.
func loadSet(t *testing.T, file string) *kube.Set {
	t.Helper()
	set, err := Manifests{Paths: []string{filepath.Join("testdata", "errpos", file)}}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestRenderErrorsAreLocated: whatever stage refuses a pod (translate,
// image resolution), its error gives the line of the field it is about,
// names the pod once, and says no phrase twice.
func TestRenderErrorsAreLocated(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{{
		file: "sysctl.yaml",
		want: `testdata/errpos/sysctl.yaml:10: pod default/test-sysctl: spec.securityContext.sysctls[1]: SysctlForbidden: forbidden sysctl: "net.core.somaxconn" not allowlisted (allow it with --allowed-unsafe-sysctls)
testdata/errpos/sysctl.yaml:12: pod default/test-sysctl: spec.securityContext.sysctls[2]: SysctlForbidden: forbidden sysctl: "net.core.rmem_max" not allowlisted (allow it with --allowed-unsafe-sysctls)`,
	}, {
		file: "workdir.yaml",
		want: `testdata/errpos/workdir.yaml:12: pod default/workdir: container "app": spec.containers[0].workingDir: "srv" is not an absolute path`,
	}, {
		file: "never.yaml",
		want: `testdata/errpos/never.yaml:11: pod team/never: container "missing": spec.containers[1].image: image localhost/errpos/missing:1 is not stored and imagePullPolicy is Never (ErrImageNeverPull): load it with podrun image load, or pull it with podrun image pull`,
	}, {
		file: "unreachable.yaml",
		want: `testdata/errpos/unreachable.yaml:11: pod default/unreachable: container "latest": spec.containers[1].image: the registry cannot be reached (pulling 127.0.0.1:1/errpos/app:latest: ` +
			`Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused; ` +
			`Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused); the image is in the local store: run with --pull=missing to use it, or set imagePullPolicy: IfNotPresent`,
	}, {
		file: "seccomp.yaml",
		want: `testdata/errpos/seccomp.yaml:14: pod default/seccomp: spec.containers[1].securityContext.seccompProfile.localhostProfile: reading seccomp profile "profiles/nope.json": no such file or directory (Localhost profiles live under ROOT/seccomp)`,
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var logs bytes.Buffer
			r := errposRunner(t, &logs)
			tt.want = strings.ReplaceAll(tt.want, "ROOT", r.cfg.Root)
			_, err := r.Render(context.Background(), loadSet(t, tt.file), t.TempDir())
			if err == nil {
				t.Fatalf("render succeeded, want:\n%s", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				saysOnce(t, line, "pod ", "translating", "pulling")
			}
		})
	}
}

// saysOnce fails t when line says one of phrases more than once, or
// says a field path (spec....[i]) twice.
func saysOnce(t *testing.T, line string, phrases ...string) {
	t.Helper()
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "spec.") {
			phrases = append(phrases, strings.TrimSuffix(w, ":"))
		}
	}
	for _, p := range phrases {
		if n := strings.Count(line, p); n > 1 {
			t.Errorf("%q says %q %d times", line, p, n)
		}
	}
}

// TestVolumeErrorIsLocated: a volume that cannot be prepared (a hostPath
// of type Directory that is absent) is reported at its spec.volumes line.
func TestVolumeErrorIsLocated(t *testing.T) {
	set := loadSet(t, "hostpath.yaml")
	p := set.Pods[0]
	_, err := volume.Prepare(volume.Config{Dir: t.TempDir()}, p.Pod)
	if err == nil {
		t.Fatal("preparing a hostPath of type Directory that is absent succeeded")
	}
	got := podError(p, err).Error()
	want := `testdata/errpos/hostpath.yaml:9: pod default/hostpath: spec.volumes[1]: preparing volume "data": hostPath type check failed: /nonexistent/podrun-errpos: no such file or directory`
	if got != want {
		t.Errorf("error:\n%s\nwant:\n%s", got, want)
	}
	saysOnce(t, got, "pod ", "preparing volume", "/nonexistent/podrun-errpos")
}

// TestPullSecretWarningIsLocated: a missing imagePullSecret is a warning
// naming the line of its imagePullSecrets entry.
func TestPullSecretWarningIsLocated(t *testing.T) {
	var logs bytes.Buffer
	r := errposRunner(t, &logs)
	set := loadSet(t, "pullsecret.yaml")
	present := kube.Secret{Secret: &corev1.Secret{Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}}
	present.Secret.Namespace, present.Secret.Name = "default", "present"
	if got := r.pullSecrets(set.Pods[0], []kube.Secret{present}); len(got) != 1 {
		t.Errorf("%d pull secrets, want the present one", len(got))
	}
	want := `testdata/errpos/pullsecret.yaml:8: pod default/pullsecret: spec.imagePullSecrets[1]: secret \"absent\" not found, or not of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg; pulling without it`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log:\n%s\nlacks:\n%s", logs.String(), want)
	}
	if strings.Count(logs.String(), "level=WARN") != 1 {
		t.Errorf("log:\n%s\nwant one warning", logs.String())
	}
}

// TestPodErrorKeepsTheChain: a located error still matches what it wraps.
func TestPodErrorKeepsTheChain(t *testing.T) {
	p := kube.Pod{Source: kube.Source{File: "f.yaml", Line: 1}, Pod: &corev1.Pod{}}
	p.Pod.Namespace, p.Pod.Name = "default", "p"
	p.Lines = kube.Lines{"": 1, "spec.containers[0]": 7}
	inner := &translate.FieldError{Field: "spec.containers[0].command", Err: translate.ErrNoCommand}
	err := podError(p, errors.Join(inner, errors.New("other")))
	if !errors.Is(err, translate.ErrNoCommand) {
		t.Errorf("%v does not match %v", err, translate.ErrNoCommand)
	}
	want := "f.yaml:7: pod default/p: spec.containers[0].command: no command specified\nf.yaml:1: pod default/p: other"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}

// TestHostPortClashIsLocated: a hostPort another pod publishes is
// reported at the line of the hostPort that asks for it.
func TestHostPortClashIsLocated(t *testing.T) {
	var logs bytes.Buffer
	r := errposRunner(t, &logs)
	k, err := state.PodKey("default", "other")
	if err != nil {
		t.Fatal(err)
	}
	h := r.pod(k)
	if err := os.MkdirAll(h.dir.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	other := &state.Pod{Name: "other", Namespace: "default", Stage: state.StageRunning,
		Ports: []state.Port{{ContainerPort: 8443, HostPort: 8443, Protocol: "tcp"}}}
	if err := h.dir.Write(other); err != nil {
		t.Fatal(err)
	}
	p := loadSet(t, "hostport.yaml").Pods[0]
	err = podError(p, r.checkHostPorts(p.Pod, translate.Sandbox(p.Pod, translate.Layout{}).Ports))
	want := "testdata/errpos/hostport.yaml:16: pod default/hostport: spec.containers[1].ports[1].hostPort: " +
		"hostPort 8443/TCP is already published by pod default/other: choose another hostPort or delete that pod"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

// TestPortInUseIsLocated: a hostPort the network finds taken on the host
// is reported at the line of the hostPort that asks for it.
func TestPortInUseIsLocated(t *testing.T) {
	p := loadSet(t, "hostport.yaml").Pods[0]
	dns := translate.Sandbox(p.Pod, translate.Layout{}).Ports[0]
	inUse := &network.PortError{Port: dns, Err: fmt.Errorf("%w: 5353/UDP is held by another process on this machine", network.ErrPortInUse)}
	err := podError(p, portFieldError(p.Pod, fmt.Errorf("attaching: %w", inUse)))
	want := "testdata/errpos/hostport.yaml:10: pod default/hostport: spec.containers[0].ports[0].hostPort: attaching: hostPort in use: 5353/UDP is held by another process on this machine"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if !errors.Is(err, network.ErrPortInUse) {
		t.Errorf("error %v does not match ErrPortInUse", err)
	}
}

// TestRenderWaitsAreLocated: a container render says would wait is
// located at the field it waits for: the env entry of a missing
// ConfigMap, the volume of one.
func TestRenderWaitsAreLocated(t *testing.T) {
	var logs bytes.Buffer
	r := errposRunner(t, &logs)
	pods, err := r.Render(context.Background(), loadSet(t, "waits.yaml"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"env": `testdata/errpos/waits.yaml:13: CreateContainerConfigError: configmap "settings" not found`,
		"vol": `testdata/errpos/waits.yaml:24: ContainerCreating: configmap "settings" not found`,
	}
	for _, p := range pods {
		if len(p.Waiting) != 1 {
			t.Errorf("pod %s: %d containers wait, want 1", p.Name, len(p.Waiting))
			continue
		}
		w := p.Waiting[0]
		if got := fmt.Sprintf("%s: %s: %s", w.Source, w.Reason, w.Message); got != want[p.Name] {
			t.Errorf("pod %s waits:\n%s\nwant:\n%s", p.Name, got, want[p.Name])
		}
	}
}

// TestPlanWarningsAreLocated: a translation warning is a line at the
// field it is about, as apply logs it and render prints it.
func TestPlanWarningsAreLocated(t *testing.T) {
	p := kube.Pod{Source: kube.Source{File: "f.yaml", Line: 1}, Pod: &corev1.Pod{}}
	p.Pod.Namespace, p.Pod.Name = "default", "p"
	p.Lines = kube.Lines{"": 1, "spec.containers[0]": 7, "spec.containers[0].envFrom[1]": 12}
	pp := &podPlan{Warnings: []translate.Warning{{Field: "spec.containers[0].envFrom[1]", Message: "keys [a b] were skipped"}}}
	want := []string{"f.yaml:12: pod default/p: spec.containers[0].envFrom[1]: keys [a b] were skipped"}
	if got := pp.warnings(p); !slices.Equal(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}
}
