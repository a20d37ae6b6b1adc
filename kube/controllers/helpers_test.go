package controllers

import (
	"math/rand"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func seeded() Rand { return rand.New(rand.NewSource(1)) }

func ptr[T any](v T) *T { return &v }

// pod is a test pod named name in phase, created at created seconds.
func pod(name string, phase corev1.PodPhase, created int) Pod {
	return Pod{Pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(at(created))},
		Status:     corev1.PodStatus{Phase: phase},
	}}
}

// ready is p Ready since since seconds.
func ready(p Pod, since int) Pod {
	p.Ready, p.ReadySince = true, at(since)
	return p
}

func withRestarts(p Pod, n int32) Pod {
	p.Pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: n}}
	return p
}

func owned(p Pod, kind, owner string) Pod {
	p.Pod.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: owner, Controller: ptr(true)}}
	return p
}

func template(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}
