package controllers_test

import (
	"fmt"
	"math/rand"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube/controllers"
)

// A supervisor's loop for a Deployment, with the runner's side reduced
// to slices: observe, decide, act, and go round until nothing is left to
// do. Here every pod is Running and Ready as soon as it is created.
func Example() {
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d1", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewSource(1))
	var rses []*appsv1.ReplicaSet
	var pods []controllers.Pod
	for range 5 {
		res := controllers.Deployment(d, rses, pods, now)
		d = res.Deployment
		rses = append(rses, res.Create...) // and store Update, delete Delete
		for _, rs := range rses {
			rr := controllers.ReplicaSet(rs, pods, now, r) // pods owned by rs, in a real supervisor
			rs.Status = rr.Status
			for _, p := range rr.Create {
				fmt.Println("create pod", p.Name, "labels", p.Labels)
				p.Status.Phase = corev1.PodRunning
				pods = append(pods, controllers.Pod{Pod: p, Ready: true, ReadySince: now})
			}
		}
		now = now.Add(time.Second) // or until res.RequeueAt, or a pod's change
	}
	st := d.Status
	fmt.Println("revision", d.Annotations[controllers.AnnotationRevision], "ready", st.ReadyReplicas, "available", st.AvailableReplicas)
	// Output:
	// create pod web-576f766cdd-stdpg labels map[app:web pod-template-hash:576f766cdd]
	// create pod web-576f766cdd-jk9rt labels map[app:web pod-template-hash:576f766cdd]
	// revision 1 ready 2 available 2
}
