package volume

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/translate"
)

// TestPrepareUnsupportedProjection: a projected source podrun does not
// project is refused in words that say so (not "only ... are not
// supported"), as a FieldError about the volume's entry.
func TestPrepareUnsupportedProjection(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", UID: "u"}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "bundle", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "ca.pem"}}},
	}}}}
	_, err := Prepare(Config{Dir: t.TempDir()}, pod)
	want := `spec.volumes[0]: preparing volume "bundle": sources[0]: this source is not supported; podrun projects configMap, secret, downwardAPI and serviceAccountToken sources`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	var fe *translate.FieldError
	if !errors.As(err, &fe) || fe.Field != "spec.volumes[0]" {
		t.Errorf("error %q is not a FieldError about spec.volumes[0]", err)
	}
	if !errors.Is(err, ErrNotSupported) {
		t.Errorf("error %q does not match ErrNotSupported", err)
	}
}
