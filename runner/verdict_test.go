package runner

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// verdictRunner is a runner on fresh roots whose pause binary needs no
// libraries (the infra's mounts are not what these tests are about).
func verdictRunner(t *testing.T) *Runner {
	t.Helper()
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir(), Self: "/proc/self/exe"})
	if err != nil {
		t.Fatal(err)
	}
	r.pauseLibs = func() ([]string, error) { return nil, nil }
	return r
}

// renderer is r as Render runs it, with set as its input.
func renderer(r *Runner, set *kube.Set) *Runner {
	rr := *r
	rr.unstored, rr.dryRun = set, true
	return &rr
}

// verdictPod is pod "web" whose container "app" mounts volume "v" of vs
// at /v, with extra applied to the container.
func verdictPod(vs corev1.VolumeSource, extra func(*corev1.Container)) *corev1.Pod {
	c := corev1.Container{Name: "app", Image: "img", VolumeMounts: []corev1.VolumeMount{{Name: "v", MountPath: "/v"}}}
	if extra != nil {
		extra(&c)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "u1"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{c},
			Volumes:    []corev1.Volume{{Name: "v", VolumeSource: vs}},
		},
	}
}

var verdictImages = map[string]*image.Image{"img": {Ref: "img", Config: image.Config{Cmd: []string{"sh"}}}}

// planAs runs planPod for pod under dir as r is set up (apply's or
// render's), with host steps that attach and mount nothing: the
// network and root file systems do not decide these verdicts.
func planAs(t *testing.T, r *Runner, pod *corev1.Pod, dir string) (*podPlan, error) {
	t.Helper()
	t.Cleanup(func() {
		if err := unmountUnder(dir); err != nil {
			t.Error(err)
		}
	})
	return r.planPod(pod.DeepCopy(), translate.Layout{Dir: dir}, verdictImages, hostSteps{
		network: func() (string, error) { return "10.88.0.2", nil },
		rootfs: func() (map[string]fs.FS, error) {
			return map[string]fs.FS{"app": fstest.MapFS{}}, nil
		},
	})
}

// TestVerdictSameForApplyAndRender: for each pod, render's verdict is
// apply's: the same refusal, word for word, or the same containers
// waiting for the same reason. Each case stops before apply would mount
// anything, so it runs with or without root.
func TestVerdictSameForApplyAndRender(t *testing.T) {
	hostType := func(t corev1.HostPathType) *corev1.HostPathType { return &t }
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name    string
		vs      corev1.VolumeSource
		wantErr error // nil: the pod waits
		waiting string
	}{
		{"glusterfs", corev1.VolumeSource{Glusterfs: &corev1.GlusterfsVolumeSource{EndpointsName: "e", Path: "p"}}, volume.ErrNotSupported, ""},
		{"iscsi", corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "10.0.0.1:3260", IQN: "iqn.2001-04.com.example:x", Lun: 0}}, volume.ErrNotSupported, ""},
		{"cinder", corev1.VolumeSource{Cinder: &corev1.CinderVolumeSource{VolumeID: "id"}}, volume.ErrNotSupported, ""},
		{"image volume source", corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "img"}}, volume.ErrNotSupported, ""},
		{"hostPath /", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}, volume.ErrUnsafeHostPath, ""},
		{"hostPath of the wrong type", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: missing, Type: hostType(corev1.HostPathDirectory)}}, volume.ErrHostPathType, ""},
		{"hostPath FileOrCreate without its directory", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join(missing, "f"), Type: hostType(corev1.HostPathFileOrCreate)}}, fs.ErrNotExist, ""},
		{"missing secret", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db"}}, nil, `secret "db" not found`},
		{"missing configMap", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}, nil, `configmap "cfg" not found`},
		{"missing claim", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}, nil, `persistentvolumeclaim "data" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verdictRunner(t)
			pod := verdictPod(tt.vs, nil)
			applied, applyErr := planAs(t, r, pod, filepath.Join(t.TempDir(), "apply"))
			rendered, renderErr := planAs(t, renderer(r, &kube.Set{}), pod, filepath.Join(t.TempDir(), "render"))
			if tt.wantErr != nil {
				if !errors.Is(applyErr, tt.wantErr) || !errors.Is(renderErr, tt.wantErr) {
					t.Fatalf("apply: %v\nrender: %v\nwant both %v", applyErr, renderErr, tt.wantErr)
				}
				if applyErr.Error() != renderErr.Error() {
					t.Errorf("apply and render say it differently:\napply:  %v\nrender: %v", applyErr, renderErr)
				}
				return
			}
			if applyErr != nil || renderErr != nil {
				t.Fatalf("apply: %v, render: %v; want the pod to wait", applyErr, renderErr)
			}
			want := []Waiting{{Container: "app", Reason: ReasonContainerCreating, Message: tt.waiting, Field: "spec.volumes[0]"}}
			if diff := cmp.Diff(want, applied.Waiting); diff != "" {
				t.Errorf("apply's waiting (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, rendered.Waiting); diff != "" {
				t.Errorf("render's waiting (-want +got):\n%s", diff)
			}
			if applied.Plan != nil || rendered.Plan != nil {
				t.Error("a pod waiting for a volume source got a plan")
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused hostPath was made: %v", err)
	}
}

// TestRenderDoesNotCreateHostPaths: render checks a DirectoryOrCreate or
// FileOrCreate hostPath as apply would create it, and creates nothing.
func TestRenderDoesNotCreateHostPaths(t *testing.T) {
	dir := t.TempDir()
	for _, typ := range []corev1.HostPathType{corev1.HostPathDirectoryOrCreate, corev1.HostPathFileOrCreate} {
		p := filepath.Join(dir, string(typ))
		pod := verdictPod(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: p, Type: &typ}}, nil)
		pp, err := planAs(t, renderer(verdictRunner(t), &kube.Set{}), pod, filepath.Join(t.TempDir(), "render"))
		if err != nil || len(pp.Waiting) > 0 {
			t.Fatalf("%s: %v, waiting %+v; want the pod created", typ, err, pp)
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: render made %s (%v)", typ, p, err)
		}
	}
}

// TestRenderWaitsForEnvSecret: a container whose env names a missing
// Secret waits in CreateContainerConfigError with the kubelet's message,
// as apply records it; its bundle is written as apply writes it, and the
// pod's other containers are not held back.
func TestRenderWaitsForEnvSecret(t *testing.T) {
	pod := verdictPod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, func(c *corev1.Container) {
		c.Env = []corev1.EnvVar{{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}}}
	})
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "side", Image: "img"})
	dir := filepath.Join(t.TempDir(), "render")
	pp, err := planAs(t, renderer(verdictRunner(t), &kube.Set{}), pod, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Waiting{{Container: "app", Reason: ReasonConfigError, Message: `secret "db" not found`, Field: "spec.containers[0].env[0].valueFrom"}}
	if diff := cmp.Diff(want, pp.Waiting); diff != "" {
		t.Errorf("waiting (-want +got):\n%s", diff)
	}
	for _, c := range []string{"app", "side"} {
		if _, err := os.Stat(filepath.Join(translate.Layout{Dir: dir}.Bundle(c), "config.json")); err != nil {
			t.Errorf("bundle of %s: %v", c, err)
		}
	}
	// With the Secret in render's input, nothing waits.
	set := &kube.Set{Secrets: []kube.Secret{{Secret: &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"}, Data: map[string][]byte{"password": []byte("x")}}}}}
	pp, err = planAs(t, renderer(verdictRunner(t), set), pod, filepath.Join(t.TempDir(), "render"))
	if err != nil || len(pp.Waiting) > 0 {
		t.Errorf("with the Secret: %v, waiting %+v", err, pp.Waiting)
	}
}

// TestRenderClaimPath: a claim of render's input, not yet stored, is
// rendered at the path apply's volume will have once it binds the claim,
// and mounted read-only when the pod says so.
func TestRenderClaimPath(t *testing.T) {
	r := verdictRunner(t)
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "data"}}
	pod := verdictPod(corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data", ReadOnly: true}}, nil)
	pp, err := planAs(t, renderer(r, &kube.Set{Claims: []kube.Claim{{Claim: claim}}}), pod, filepath.Join(t.TempDir(), "render"))
	if err != nil || len(pp.Waiting) > 0 {
		t.Fatalf("%v, waiting %+v; want the pod created", err, pp)
	}
	if _, err := r.Claims().Bind(claim); err != nil {
		t.Fatal(err)
	}
	n, err := r.Claims().Get("default", "data")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pp.Plan.Containers[0].Spec.Mounts, func(m specs.Mount) bool { return m.Destination == "/v" })
	if i < 0 {
		t.Fatalf("no mount at /v: %+v", pp.Plan.Containers[0].Spec.Mounts)
	}
	m := pp.Plan.Containers[0].Spec.Mounts[i]
	if m.Source != n.Path || !slices.Contains(m.Options, "ro") {
		t.Errorf("claim mounted from %s %v, want %s read-only", m.Source, m.Options, n.Path)
	}
}

// TestRenderRefusesWhatApplyFindsTaken: a pod whose name a running pod
// with another spec holds is refused with apply's ErrPodExists, and a
// pod asking for a hostPort that a pod rendered before it publishes
// would be Pending, with no bundles, as apply leaves the second of two
// pods of one file Pending (the first has been placed).
func TestRenderRefusesWhatApplyFindsTaken(t *testing.T) {
	r := verdictRunner(t)
	rr := renderer(r, &kube.Set{})
	out := t.TempDir()
	withPort := func(name string, port int32) kube.Pod {
		pod := verdictPod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, func(c *corev1.Container) {
			c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: port, Protocol: corev1.ProtocolTCP}}
		})
		pod.Name = name
		return kube.Pod{Source: kube.Source{File: "pods.yaml", Line: 1}, Pod: pod}
	}
	first, err := rr.renderPod(withPort("a", 18080), out, verdictImages, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := rr.renderPod(withPort("b", 18080), out, verdictImages, []Rendered{first})
	want := "pods.yaml:1: pod b would be Pending: Unschedulable: 0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. (hostPort 18080/TCP is published by pod default/a)"
	if err != nil || second.Pending != want || second.Dir != "" {
		t.Errorf("second pod on hostPort 18080: %+v, %v; want Pending %q and no bundles", second, err, want)
	}
	if _, err := os.Stat(filepath.Join(out, "default_b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the Pending pod's directory: %v, want none", err)
	}
	if _, err := rr.renderPod(withPort("b", 18081), out, verdictImages, []Rendered{first}); err != nil {
		t.Errorf("second pod on another hostPort: %v", err)
	}

	// A running pod "a" (this test's process stands in for its monitor)
	// with another spec.
	k, _ := state.PodKey("default", "a")
	self, err := state.Identify(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	running := withPort("a", 18090).Pod
	manifest, _ := json.Marshal(running)
	h := r.pod(k)
	if err := os.MkdirAll(h.dir.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := h.dir.Write(&state.Pod{Namespace: "default", Name: "a", Manifest: manifest, Monitor: self, Stage: state.StageRunning}); err != nil {
		t.Fatal(err)
	}
	if _, err := rr.renderPod(withPort("a", 18091), out, verdictImages, nil); !errors.Is(err, ErrPodExists) {
		t.Errorf("render of a pod whose name a running pod holds: %v, want %v", err, ErrPodExists)
	}
	if _, err := rr.renderPod(kube.Pod{Source: kube.Source{File: "pods.yaml"}, Pod: running}, out, verdictImages, nil); err != nil {
		t.Errorf("render of the running pod's own spec: %v", err)
	}
}

// TestRenderPodOnThisNode: render places the pod on this machine as
// apply does, so the downward API's spec.nodeName is the host's name
// in the rendered bundle too.
func TestRenderPodOnThisNode(t *testing.T) {
	pod := verdictPod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, func(c *corev1.Container) {
		c.Env = []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}}
	})
	out := t.TempDir()
	rp, err := renderer(verdictRunner(t), &kube.Set{}).renderPod(kube.Pod{Pod: pod}, out, verdictImages, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(translate.Layout{Dir: rp.Dir}.Bundle("app"), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	name, _ := os.Hostname()
	if !slices.Contains(spec.Process.Env, "NODE="+name) {
		t.Errorf("env %q lacks NODE=%s", spec.Process.Env, name)
	}
}

// TestRenderSecretVolume: render writes a Secret volume's files as apply
// projects them, under a volumes directory only its owner can enter.
func TestRenderSecretVolume(t *testing.T) {
	set := &kube.Set{Secrets: []kube.Secret{{Secret: &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db"}, Data: map[string][]byte{"password": []byte("s3cret")}}}}}
	pod := verdictPod(corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "db"}}, nil)
	dir := filepath.Join(t.TempDir(), "render")
	pp, err := planAs(t, renderer(verdictRunner(t), set), pod, dir)
	if err != nil || len(pp.Waiting) > 0 {
		t.Fatalf("%v, waiting %+v", err, pp)
	}
	l := translate.Layout{Dir: dir}
	if data, err := os.ReadFile(filepath.Join(l.VolumeDir("v"), "password")); err != nil || string(data) != "s3cret" {
		t.Errorf("password: %q, %v", data, err)
	}
	if info, err := os.Stat(filepath.Dir(l.VolumeDir("v"))); err != nil {
		t.Error(err)
	} else if info.Mode().Perm() != 0o700 {
		t.Errorf("volumes directory mode %v, want 0700", info.Mode().Perm())
	}
}

// TestRenderRefusalWritesNothing: a refused pod leaves no directory in
// the output, as apply rolls a refused pod back, not even one an earlier
// render of it wrote.
func TestRenderRefusalWritesNothing(t *testing.T) {
	rr := renderer(verdictRunner(t), &kube.Set{})
	out := t.TempDir()
	ok := verdictPod(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, nil)
	rp, err := rr.renderPod(kube.Pod{Pod: ok}, out, verdictImages, nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := verdictPod(corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}, nil)
	if _, err := rr.renderPod(kube.Pod{Pod: refused}, out, verdictImages, nil); !errors.Is(err, volume.ErrUnsafeHostPath) {
		t.Fatalf("hostPath /: %v", err)
	}
	if _, err := os.Stat(rp.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused pod's render dir %s is there: %v", rp.Dir, err)
	}
}

// TestVerdictContainersSameForApplyAndRender: the containers that wait,
// and why, are the same at apply (which mounts: root only) and render.
func TestVerdictContainersSameForApplyAndRender(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("apply's side mounts: run as root")
		}
		t.Skip("apply's side mounts: run as root")
	}
	host := t.TempDir()
	if err := os.Symlink("/", filepath.Join(host, "out")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		vs      corev1.VolumeSource
		extra   func(*corev1.Container)
		waiting []Waiting
	}{
		{"env from a missing Secret", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{{Name: "P", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "p"}}}}
		}, []Waiting{{Container: "app", Reason: ReasonConfigError, Message: `secret "db" not found`, Field: "spec.containers[0].env[0].valueFrom"}}},
		{"subPath through a hostPath link out of it", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host}}, func(c *corev1.Container) {
			c.VolumeMounts[0].SubPath = "out/etc"
		}, []Waiting{{Container: "app", Reason: ReasonConfigError, Message: `failed to prepare subPath for volumeMount "v" of container "app": subPath "out/etc" resolves outside volume ` + host + `: path escapes the volume`, Field: "spec.containers[0]"}}},
		{"nothing missing", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verdictRunner(t)
			pod := verdictPod(tt.vs, tt.extra)
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "side", Image: "img"})
			applied, err := planAs(t, r, pod, filepath.Join(t.TempDir(), "apply"))
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			rendered, err := planAs(t, renderer(r, &kube.Set{}), pod, filepath.Join(t.TempDir(), "render"))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if diff := cmp.Diff(tt.waiting, applied.Waiting); diff != "" {
				t.Errorf("apply's waiting (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.waiting, rendered.Waiting); diff != "" {
				t.Errorf("render's waiting (-want +got):\n%s", diff)
			}
		})
	}
}
