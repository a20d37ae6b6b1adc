package monitor

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podrun/podrun/translate"
)

func TestSizeLimits(t *testing.T) {
	l := translate.Layout{Dir: "/pods/p"}
	q := resource.MustParse
	ptr := func(s string) *resource.Quantity { v := q(s); return &v }
	pod := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "limited", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr("1Mi")}}},
		{Name: "unlimited", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "zero", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr("0")}}},
		{Name: "memory", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: ptr("8Mi")}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
		{Name: "decimal", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr("2M")}}},
	}}}
	want := []sizeLimit{
		{name: "limited", dir: "/pods/p/volumes/limited", limit: 1 << 20, text: "1Mi"},
		{name: "decimal", dir: "/pods/p/volumes/decimal", limit: 2000000, text: "2M"},
	}
	if got := sizeLimits(pod, l); !reflect.DeepEqual(got, want) {
		t.Errorf("sizeLimits =\n%+v\nwant\n%+v", got, want)
	}
}
