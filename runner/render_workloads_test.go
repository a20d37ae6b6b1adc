package runner

import (
	"regexp"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	kc "github.com/podrun/podrun/kube/controllers"
)

const renderDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: nginx:1
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: solo
spec:
  replicas: 0
  selector:
    matchLabels: {app: solo}
  template:
    metadata:
      labels: {app: solo}
    spec:
      containers:
      - name: main
        image: nginx:1
`

// TestWorkloadPods: render sees the pod a Deployment's controllers create
// first, named, labelled and owned as at apply, located in the
// workload's file; a ReplicaSet of no replicas has none; the same file
// renders the same name again.
func TestWorkloadPods(t *testing.T) {
	objs, err := kube.Decode("web.yaml", []byte(renderDeployment))
	if err != nil {
		t.Fatal(err)
	}
	set, err := kube.Expand(objs, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := workloadPods(set)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 {
		t.Fatalf("got %d pods, want the Deployment's first", len(pods))
	}
	p := pods[0]
	hash := p.Pod.Labels[kc.LabelPodTemplateHash]
	if !regexp.MustCompile(`^web-`+hash+`-[a-z0-9]{5}$`).MatchString(p.Pod.Name) || hash == "" || p.Pod.Namespace != "default" {
		t.Errorf("pod %s/%s, hash %q", p.Pod.Namespace, p.Pod.Name, hash)
	}
	if ref := metav1.GetControllerOf(p.Pod); ref == nil || ref.Kind != "ReplicaSet" || ref.Name != "web-"+hash || ref.UID == "" {
		t.Errorf("owner %+v", p.Pod.OwnerReferences)
	}
	if at := p.At("spec.containers[0].image"); at.File != "web.yaml" || at.Line != 15 {
		t.Errorf("the image is located at %s, want web.yaml:15", at)
	}
	again, _ := workloadPods(set)
	if again[0].Pod.Name != p.Pod.Name {
		t.Errorf("rendered %s, then %s", p.Pod.Name, again[0].Pod.Name)
	}
}
