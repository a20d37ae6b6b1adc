package runner

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

func admissionRunner(t *testing.T) *Runner {
	t.Helper()
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// userPod is a pod as kube.Expand gives it: defaulted, not admitted.
func userPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
		Spec:       corev1.PodSpec{ServiceAccountName: "default", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

// recorded is the state apply records for pod: the admitted manifest,
// and what the user applied.
func recorded(t *testing.T, r *Runner, pod *corev1.Pod) *state.Pod {
	t.Helper()
	admitted := pod.DeepCopy()
	if err := r.admit(admitted); err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.Marshal(admitted)
	applied, _ := json.Marshal(pod)
	return &state.Pod{Manifest: manifest, Applied: applied}
}

// Re-applying an unchanged pod finds it the same although admission
// names its token volume at random; a changed spec is still a change.
func TestSameSpecIgnoresAdmission(t *testing.T) {
	r := admissionRunner(t)
	pod := userPod()
	st := recorded(t, r, pod)
	if !sameSpec(st, pod) {
		t.Error("an unchanged pod is not the same as its record")
	}
	again := pod.DeepCopy()
	if err := r.admit(again); err != nil {
		t.Fatal(err)
	}
	var first corev1.Pod
	_ = json.Unmarshal(st.Manifest, &first)
	if first.Spec.Volumes[0].Name == again.Spec.Volumes[0].Name {
		t.Fatalf("two admissions named the token volume %s alike: the test shows nothing", again.Spec.Volumes[0].Name)
	}
	changed := pod.DeepCopy()
	changed.Spec.Containers[0].Image = "alpine"
	if sameSpec(st, changed) {
		t.Error("a pod with another image is the same as its record")
	}
	// A record written before podrun kept Applied compares the manifest.
	old := &state.Pod{Manifest: st.Applied}
	if !sameSpec(old, pod) {
		t.Error("an unchanged pod is not the same as an old record")
	}
}

func TestAdmitMountsTheTokenVolume(t *testing.T) {
	r := admissionRunner(t)
	pod := userPod()
	if err := r.admit(pod); err != nil {
		t.Fatal(err)
	}
	m := pod.Spec.Containers[0].VolumeMounts
	if len(pod.Spec.Volumes) != 1 || len(m) != 1 || m[0].Name != pod.Spec.Volumes[0].Name || m[0].MountPath != kube.TokenMountPath {
		t.Errorf("volumes %v, mounts %v: want the token volume mounted at %s", pod.Spec.Volumes, m, kube.TokenMountPath)
	}
	off := userPod()
	off.Spec.AutomountServiceAccountToken = new(bool)
	if err := r.admit(off); err != nil {
		t.Fatal(err)
	}
	if len(off.Spec.Volumes) != 0 {
		t.Errorf("automount false: volumes %v, want none", off.Spec.Volumes)
	}
}

// Volumes find kube-root-ca.crt in every namespace, podrun's CA where the
// user stored none, the user's where they did.
func TestRootCAConfigMap(t *testing.T) {
	r := admissionRunner(t)
	objs := r.volumeObjects()
	a, err := objs.ConfigMap("a", "kube-root-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := objs.ConfigMap("b", "kube-root-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	if a.Data["ca.crt"] == "" || a.Data["ca.crt"] != b.Data["ca.crt"] || a.Namespace != "a" {
		t.Errorf("kube-root-ca.crt of a: %v; of b: %v: want one certificate in both", a, b)
	}
	own := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "kube-root-ca.crt"}, Data: map[string]string{"ca.crt": "mine"}}
	if _, err := r.Objects().ConfigMaps.Put(own); err != nil {
		t.Fatal(err)
	}
	if got, err := objs.ConfigMap("a", "kube-root-ca.crt"); err != nil || got.Data["ca.crt"] != "mine" {
		t.Errorf("stored kube-root-ca.crt: %v, %v; want the user's", got, err)
	}
	if msg, err := r.waitingFor(tokenPod(t, r)); err != nil || msg != "" {
		t.Errorf("a pod with the token volume waits: %q, %v", msg, err)
	}
}

func tokenPod(t *testing.T, r *Runner) *corev1.Pod {
	pod := userPod()
	pod.Namespace = "b"
	if err := r.admit(pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// An environment variable from kube-root-ca.crt finds podrun's CA, as it
// finds the publisher's on a cluster; the user's wins; a pod that does
// not name it makes no CA.
func TestAddRootCA(t *testing.T) {
	r := admissionRunner(t)
	plain := &translate.Input{Pod: userPod(), ConfigMaps: map[string]*corev1.ConfigMap{}}
	if err := r.addRootCA(plain); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.rootCAPath()); len(plain.ConfigMaps) != 0 || err == nil {
		t.Errorf("a pod naming no kube-root-ca.crt: ConfigMaps %v, CA file made: %v", plain.ConfigMaps, err == nil)
	}
	pod := userPod()
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "CA", ValueFrom: &corev1.EnvVarSource{
		ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Key: "ca.crt"}}}}
	in := &translate.Input{Pod: pod, ConfigMaps: map[string]*corev1.ConfigMap{}}
	if err := r.addRootCA(in); err != nil {
		t.Fatal(err)
	}
	if cm := in.ConfigMaps["kube-root-ca.crt"]; cm == nil || !strings.Contains(cm.Data["ca.crt"], "BEGIN CERTIFICATE") {
		t.Errorf("kube-root-ca.crt: %v, want podrun's CA", cm)
	}
	own := &corev1.ConfigMap{Data: map[string]string{"ca.crt": "mine"}}
	in = &translate.Input{Pod: pod, ConfigMaps: map[string]*corev1.ConfigMap{"kube-root-ca.crt": own}}
	if err := r.addRootCA(in); err != nil || in.ConfigMaps["kube-root-ca.crt"] != own {
		t.Errorf("the user's kube-root-ca.crt was replaced (%v)", err)
	}
}
