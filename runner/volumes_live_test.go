package runner

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/state"
)

func TestWaitingFor(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := r.Objects().ConfigMaps.Put(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "there"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Objects().ConfigMaps.Put(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "keys"},
		Data: map[string]string{"a": "1"}, BinaryData: map[string][]byte{"b": {2}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Objects().Secrets.Put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sec"},
		Data: map[string][]byte{"token": []byte("t")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Claims().Bind(&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bound"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vs   corev1.VolumeSource
		want string
	}{
		{"claim bound", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "bound"}}, ""},
		{"claim missing", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "x"}}, `persistentvolumeclaim "x" not found`},
		{"configmap stored", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "there"}}}, ""},
		{"configmap missing", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}, `configmap "x" not found`},
		{"configmap optional", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}, Optional: &yes}}, ""},
		{"secret missing", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}, `secret "s" not found`},
		{"secret optional", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", Optional: &yes}}, ""},
		{"projected missing secret", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "there"}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}},
		}}}, `secret "s" not found`},
		{"emptyDir", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}, ""},
		{"configmap keys present", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "keys"},
			Items: []corev1.KeyToPath{{Key: "a", Path: "a"}, {Key: "b", Path: "b"}}}}, ""},
		{"configmap key missing", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "keys"},
			Items: []corev1.KeyToPath{{Key: "a", Path: "a"}, {Key: "x", Path: "x"}}}}, "configmap references non-existent config key: x"},
		{"configmap key missing, optional", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "keys"},
			Items: []corev1.KeyToPath{{Key: "x", Path: "x"}}, Optional: &yes}}, ""},
		{"secret key missing", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sec",
			Items: []corev1.KeyToPath{{Key: "token", Path: "t"}, {Key: "y", Path: "y"}}}}, "references non-existent secret key: y"},
		{"projected key missing", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Items: []corev1.KeyToPath{{Key: "token", Path: "t"}}}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "keys"}, Items: []corev1.KeyToPath{{Key: "z", Path: "z"}}}},
		}}}, "configmap references non-existent config key: z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"},
				Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: tc.vs}}}}
			got, err := r.waitingFor(pod)
			if err != nil || got != tc.want {
				t.Errorf("waitingFor = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestObjectRefsAndDownward(t *testing.T) {
	proj := &corev1.Volume{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}},
		{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{}},
	}}}}
	for _, tc := range []struct {
		v        *corev1.Volume
		refs     []objectRef
		downward bool
	}{
		{proj, []objectRef{{"configmap", "c"}, {"secret", "s"}}, true},
		{&corev1.Volume{VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}, []objectRef{{"secret", "s"}}, false},
		{&corev1.Volume{VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}}, nil, true},
		{&corev1.Volume{VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, nil, false},
	} {
		refs := objectRefs(tc.v)
		if len(refs) != len(tc.refs) {
			t.Errorf("objectRefs(%+v) = %v, want %v", tc.v.VolumeSource, refs, tc.refs)
			continue
		}
		for i := range refs {
			if refs[i] != tc.refs[i] {
				t.Errorf("objectRefs(%+v) = %v, want %v", tc.v.VolumeSource, refs, tc.refs)
			}
		}
		if got := usesDownwardAPI(tc.v); got != tc.downward {
			t.Errorf("usesDownwardAPI(%+v) = %v", tc.v.VolumeSource, got)
		}
	}
}

func TestWaitingForVolumes(t *testing.T) {
	waiting := state.Container{State: state.Waiting, Reason: ReasonContainerCreating, Message: `configmap "x" not found`}
	for _, tc := range []struct {
		name string
		st   state.Pod
		want bool
	}{
		{"recorded waiting", state.Pod{Containers: []state.Container{waiting}}, true},
		{"being prepared", state.Pod{Containers: []state.Container{{State: state.Waiting, Reason: ReasonContainerCreating}}, Infra: &state.Container{}}, false},
		{"no containers yet", state.Pod{}, false},
	} {
		if got := waitingForVolumes(&tc.st); got != tc.want {
			t.Errorf("%s: waitingForVolumes = %v", tc.name, got)
		}
	}
}
