package controllers

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// cluster is a supervisor loop in miniature: it carries out what
// Deployment and ReplicaSet decide, stamps UIDs and creation times as the
// API server would, and makes a pod Ready one tick after it is created.
type cluster struct {
	t    *testing.T
	d    *appsv1.Deployment
	rses []*appsv1.ReplicaSet
	pods []Pod
	now  time.Time
	r    Rand
	uids int
	last DeploymentResult
	// notReady holds pods that never become ready, by image.
	notReady string
}

func newCluster(t *testing.T, d *appsv1.Deployment) *cluster {
	d.UID = "deploy-uid"
	return &cluster{t: t, d: d, now: t0, r: seeded()}
}

func (c *cluster) uid() types.UID {
	c.uids++
	return types.UID(fmt.Sprintf("uid-%d", c.uids))
}

// step runs the Deployment controller, then each ReplicaSet's, then moves
// the clock one second on, readying the pods created before.
func (c *cluster) step() {
	res := Deployment(c.d, c.rses, c.pods, c.now)
	c.last = res
	c.d = res.Deployment
	for _, rs := range res.Create {
		rs.UID = c.uid()
		c.rses = append(c.rses, rs)
	}
	for _, up := range res.Update {
		for i, rs := range c.rses {
			if rs.Name == up.Name {
				c.rses[i] = up
			}
		}
	}
	for _, name := range res.Delete {
		for i, rs := range c.rses {
			if rs.Name == name {
				c.rses = append(c.rses[:i], c.rses[i+1:]...)
				break
			}
		}
	}
	for _, rs := range c.rses {
		var mine []Pod
		for _, p := range c.pods {
			if ownedBy(&p.Pod.ObjectMeta, "ReplicaSet", &rs.ObjectMeta) {
				mine = append(mine, p)
			}
		}
		rr := ReplicaSet(rs, mine, c.now, c.r)
		rs.Status = rr.Status
		for _, p := range rr.Create {
			p.UID, p.CreationTimestamp = c.uid(), metav1.NewTime(c.now)
			p.Status.Phase = corev1.PodRunning
			c.pods = append(c.pods, Pod{Pod: p})
		}
		c.delete(rr.Delete)
	}
	c.now = c.now.Add(time.Second)
	for i := range c.pods {
		p := &c.pods[i]
		if !p.Ready && p.Pod.Spec.Containers[0].Image != c.notReady {
			p.Ready, p.ReadySince = true, c.now
		}
	}
}

func (c *cluster) delete(names []string) {
	gone := map[string]bool{}
	for _, n := range names {
		gone[n] = true
	}
	kept := c.pods[:0]
	for _, p := range c.pods {
		if !gone[p.Pod.Name] {
			kept = append(kept, p)
		}
	}
	c.pods = kept
}

// run steps until the rollout is complete and stable, calling check after
// each step, and fails after limit steps.
func (c *cluster) run(limit int, check func()) {
	c.t.Helper()
	for i := 0; i < limit; i++ {
		before := c.d.Status
		c.step()
		if check != nil {
			check()
		}
		if deploymentComplete(c.d, &c.d.Status) && cmpStatus(before, c.d.Status) && len(c.last.Update)+len(c.last.Create)+len(c.last.Delete) == 0 {
			return
		}
	}
	c.t.Fatalf("no rollout after %d steps: status %+v", limit, c.d.Status)
}

func cmpStatus(a, b appsv1.DeploymentStatus) bool {
	return a.Replicas == b.Replicas && a.UpdatedReplicas == b.UpdatedReplicas && a.AvailableReplicas == b.AvailableReplicas
}

// podsOf counts the live pods by image, and the ready ones.
func (c *cluster) podsOf(image string) (live, ready int) {
	for _, p := range c.pods {
		if p.Pod.Spec.Containers[0].Image == image && p.active() {
			live++
			if p.Ready {
				ready++
			}
		}
	}
	return live, ready
}
