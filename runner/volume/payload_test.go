package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type fakeObjects struct {
	cms     map[string]*corev1.ConfigMap
	secrets map[string]*corev1.Secret
	sas     map[string]*corev1.ServiceAccount
}

func (f fakeObjects) ServiceAccount(ns, name string) (*corev1.ServiceAccount, error) {
	if s, ok := f.sas[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("serviceaccount %q: %w", name, ErrNotFound)
}

func (f fakeObjects) ConfigMap(ns, name string) (*corev1.ConfigMap, error) {
	if c, ok := f.cms[ns+"/"+name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("configmap %q: %w", name, ErrNotFound)
}

func (f fakeObjects) Secret(ns, name string) (*corev1.Secret, error) {
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("secret %q: %w", name, ErrNotFound)
}

var testObjects = fakeObjects{
	cms: map[string]*corev1.ConfigMap{"default/cfg": {
		Data:       map[string]string{"a.conf": "A", "b.conf": "B"},
		BinaryData: map[string][]byte{"blob": {0, 1, 2}},
	}},
	secrets: map[string]*corev1.Secret{"default/creds": {Data: map[string][]byte{"password": []byte("s3cret")}}},
}

func ptr[T any](v T) *T { return &v }

func payloadPod(v corev1.VolumeSource) (*corev1.Pod, *corev1.Volume) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u-1",
			Labels: map[string]string{"app": "web", "tier": "front"}, Annotations: map[string]string{"note": "say \"hi\""}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
		}}}},
	}
	pod.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: v}}
	return pod, &pod.Spec.Volumes[0]
}

func TestPayload(t *testing.T) {
	node := Node{CPU: resource.MustParse("4"), Memory: resource.MustParse("8Gi")}
	tests := []struct {
		name    string
		source  corev1.VolumeSource
		want    map[string]File
		wantErr error
	}{
		{"configMap every key", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr[int32](0o644)}},
			map[string]File{"a.conf": {[]byte("A"), 0o644}, "b.conf": {[]byte("B"), 0o644}, "blob": {[]byte{0, 1, 2}, 0o644}}, nil},
		{"configMap items and modes", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr[int32](0o640),
			Items: []corev1.KeyToPath{{Key: "a.conf", Path: "sub/a"}, {Key: "b.conf", Path: "b", Mode: ptr[int32](0o400)}}}},
			map[string]File{"sub/a": {[]byte("A"), 0o640}, "b": {[]byte("B"), 0o400}}, nil},
		{"configMap missing", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}}, nil, ErrNotFound},
		{"configMap missing optional", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: ptr(true)}}, map[string]File{}, nil},
		{"secret", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds", DefaultMode: ptr[int32](0o400)}},
			map[string]File{"password": {[]byte("s3cret"), 0o400}}, nil},
		{"downwardAPI", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{DefaultMode: ptr[int32](0o644), Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "annotations", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}},
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
			{Path: "tier", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['tier']"}},
			{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
			{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.cpu"}},
			{Path: "cpureq", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "requests.cpu", Divisor: resource.MustParse("1m")}},
		}}}, map[string]File{
			"labels":      {[]byte("app=\"web\"\ntier=\"front\""), 0o644},
			"annotations": {[]byte(`note="say \"hi\""`), 0o644},
			"name":        {[]byte("web"), 0o644},
			"tier":        {[]byte("front"), 0o644},
			"mem":         {[]byte("64"), 0o644},
			"cpu":         {[]byte("4"), 0o644},
			"cpureq":      {[]byte("250"), 0o644},
		}, nil},
		{"projected", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: ptr[int32](0o440), Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "a.conf", Path: "a"}}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}}, map[string]File{"a": {[]byte("A"), 0o440}, "password": {[]byte("s3cret"), 0o440}, "ns": {[]byte("default"), 0o440}}, nil},
		{"projected trust bundle", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "ca.pem"}}}}}, nil, ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod, v := payloadPod(tt.source)
			got, ok, err := Payload(pod, v, testObjects, node)
			if !ok {
				t.Fatal("not an atomic-writer volume")
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b fs.FileMode) bool { return a == b })); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}
}
