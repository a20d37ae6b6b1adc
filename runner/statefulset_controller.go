package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	kcontrollers "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
	"github.com/podrun/podrun/runner/volume"
)

func init() { registerController("statefulset", statefulSetController{}) }

// revisionKind is how a StatefulSet's ControllerRevisions are stored
// among the objects it owns.
const revisionKind = "controllerrevision"

// statefulSetController is the StatefulSet controller's glue: it observes
// the set's pods and the claims of its namespace, hands them to
// kcontrollers.StatefulSet, and carries out the result: claims (the
// runner's named volumes) before pods, then deletions, then the
// revision of the template and the status.
type statefulSetController struct{ r *Runner }

func (c statefulSetController) withRunner(r *Runner) supervise.Controller {
	c.r = r
	return c
}

func (c statefulSetController) Sync(ctx context.Context, w *supervise.Workload, env supervise.Env) (time.Duration, error) {
	if c.r == nil {
		return 0, errors.New("the StatefulSet controller runs in a supervisor only")
	}
	set, err := decodeStatefulSet(w)
	if err != nil {
		return 0, err
	}
	claims, err := c.r.claimNames(set.Namespace)
	if err != nil {
		return 0, err
	}
	now := env.Now()
	res := kcontrollers.StatefulSet(set, currentTemplate(w, set), observedPods(env.Pods()), claims, now)
	if err := c.createClaims(env, set, res.CreateClaims); err != nil {
		return 0, err // its pods would wait for the claims
	}
	errs := []error{
		c.r.claimOwners(set),
		c.createPods(ctx, env, set, res.Create),
		deletePods(ctx, env, "StatefulSet", set.Name, res.Delete),
		c.deleteClaims(env, set, res.DeleteClaims),
		keepRevisions(ctx, env, w, res.StatefulSet),
		env.SetStatus(res.StatefulSet.Status),
	}
	return requeueAfter(res.RequeueAt, now), errors.Join(errs...)
}

// decodeStatefulSet is the set as applied, with the status its controller
// last recorded: the pure controller reads its current revision there.
func decodeStatefulSet(w *supervise.Workload) (*appsv1.StatefulSet, error) {
	var set appsv1.StatefulSet
	if err := w.Decode(&set); err != nil {
		return nil, err
	}
	if len(w.Status) > 0 {
		if err := json.Unmarshal(w.Status, &set.Status); err != nil {
			return nil, fmt.Errorf("decoding the status of %s: %w", w.Key, err)
		}
	}
	return &set, nil
}

// claimNames are the claims of namespace that exist: bound, or
// Terminating while a pod still uses them.
func (r *Runner) claimNames(namespace string) (map[string]bool, error) {
	named, err := r.Claims().List()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, n := range named {
		if n.Namespace == namespace && n.Bound() {
			out[n.Name] = true
		}
	}
	return out, nil
}

// createClaims binds the claims of new ordinals through the runner's claim
// path: named volumes, which outlive the pods and the set.
func (c statefulSetController) createClaims(env supervise.Env, set *appsv1.StatefulSet, claims []*corev1.PersistentVolumeClaim) error {
	if len(claims) == 0 {
		return nil
	}
	out, err := c.r.ApplyClaims(claims)
	for _, o := range out {
		env.Event(corev1.EventTypeNormal, "SuccessfulCreate", fmt.Sprintf("create Claim %s in StatefulSet %s success", o.Name, set.Name))
	}
	if err != nil {
		env.Event(corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("create Claim in StatefulSet %s failed error: %v", set.Name, err))
	}
	return err
}

func (c statefulSetController) createPods(ctx context.Context, env supervise.Env, set *appsv1.StatefulSet, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	if err := env.CreatePods(ctx, pods...); err != nil {
		env.Event(corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("create Pod %s in StatefulSet %s failed error: %v", podList(pods), set.Name, err))
		return err
	}
	for _, p := range pods {
		env.Event(corev1.EventTypeNormal, "SuccessfulCreate", fmt.Sprintf("create Pod %s in StatefulSet %s successful", p.Name, set.Name))
	}
	return nil
}

func podList(pods []*corev1.Pod) string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	return fmt.Sprint(names)
}

// deletePods deletes names through env, with the controller's events.
func deletePods(ctx context.Context, env supervise.Env, kind, owner string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	if err := env.DeletePods(ctx, names...); err != nil {
		env.Event(corev1.EventTypeWarning, "FailedDelete", fmt.Sprintf("delete Pod %v in %s %s failed error: %v", names, kind, owner, err))
		return err
	}
	for _, n := range names {
		env.Event(corev1.EventTypeNormal, "SuccessfulDelete", fmt.Sprintf("delete Pod %s in %s %s successful", n, kind, owner))
	}
	return nil
}

// deleteClaims deletes, under whenScaled Delete, the claims of the
// ordinals scaled away: claim and data, as a volume whose reclaim policy
// is Delete (a dynamically provisioned volume's default) goes with its
// claim.
func (c statefulSetController) deleteClaims(env supervise.Env, set *appsv1.StatefulSet, names []string) error {
	var errs []error
	for _, n := range names {
		if err := c.r.removeClaim(set.Namespace, n); err != nil {
			errs = append(errs, err)
			continue
		}
		env.Event(corev1.EventTypeNormal, "SuccessfulDelete", fmt.Sprintf("delete Claim %s in StatefulSet %s success", n, set.Name))
	}
	return errors.Join(errs...)
}

// removeClaim deletes claim namespace/name and its volume's data; one
// already gone is no error.
func (r *Runner) removeClaim(namespace, name string) error {
	err := r.RemoveVolume(namespace, name)
	if errors.Is(err, volume.ErrNotFound) {
		return nil
	}
	return err
}

// currentTemplate is the template of the set's current revision, kept as
// a ControllerRevision it owns, while it differs from the set's own; nil
// otherwise (or when it is lost: the set's own template is then used).
func currentTemplate(w *supervise.Workload, set *appsv1.StatefulSet) *corev1.PodTemplateSpec {
	cur := set.Status.CurrentRevision
	if cur == "" || cur == kcontrollers.StatefulSetRevision(set) {
		return nil
	}
	for _, o := range w.Owned {
		if o.Kind != revisionKind || o.Name != cur {
			continue
		}
		var rev appsv1.ControllerRevision
		var data struct {
			Spec struct {
				Template corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		if json.Unmarshal(o.Object, &rev) != nil || json.Unmarshal(rev.Data.Raw, &data) != nil {
			return nil
		}
		return &data.Spec.Template
	}
	return nil
}

// keepRevisions stores the set's template as a ControllerRevision named
// after its revision, as the controller's history does, and removes the
// revisions that are neither current nor the update revision beyond
// revisionHistoryLimit, oldest first.
func keepRevisions(ctx context.Context, env supervise.Env, w *supervise.Workload, set *appsv1.StatefulSet) error {
	update := set.Status.UpdateRevision
	var revs []appsv1.ControllerRevision
	for _, o := range w.Owned {
		var rev appsv1.ControllerRevision
		if o.Kind == revisionKind && json.Unmarshal(o.Object, &rev) == nil {
			revs = append(revs, rev)
		}
	}
	if !slices.ContainsFunc(revs, func(r appsv1.ControllerRevision) bool { return r.Name == update }) {
		rev, err := newRevision(set, revs)
		if err != nil {
			return err
		}
		if _, err := env.PutOwned(ctx, revisionKind, update, rev); err != nil {
			return err
		}
	}
	slices.SortFunc(revs, func(a, b appsv1.ControllerRevision) int { return int(a.Revision - b.Revision) })
	revs = slices.DeleteFunc(revs, func(r appsv1.ControllerRevision) bool {
		return r.Name == update || r.Name == set.Status.CurrentRevision
	})
	limit := 10
	if l := set.Spec.RevisionHistoryLimit; l != nil {
		limit = int(*l)
	}
	var errs []error
	for _, r := range revs[:max(len(revs)-limit, 0)] {
		errs = append(errs, env.DeleteOwned(ctx, revisionKind, r.Name))
	}
	return errors.Join(errs...)
}

// newRevision is the ControllerRevision of the set's template: the
// template as a patch of the set, numbered after the last.
func newRevision(set *appsv1.StatefulSet, revs []appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": set.Spec.Template}})
	if err != nil {
		return nil, err
	}
	var n int64
	for _, r := range revs {
		n = max(n, r.Revision)
	}
	hash := set.Status.UpdateRevision[len(set.Name)+1:]
	return &appsv1.ControllerRevision{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"},
		ObjectMeta: metav1.ObjectMeta{
			Name: set.Status.UpdateRevision, Namespace: set.Namespace,
			Labels:          map[string]string{kcontrollers.LabelControllerRevision: hash},
			OwnerReferences: []metav1.OwnerReference{kcontrollers.OwnerReference("apps/v1", "StatefulSet", &set.ObjectMeta)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: n + 1,
	}, nil
}

// cascadeClaims deletes the claims of namespace that name one of uids in
// an ownerReference (a StatefulSet's, under whenDeleted Delete), claim
// and data, once their pods are gone; with orphan, it removes those
// references instead and the claims stay.
func (r *Runner) cascadeClaims(namespace string, uids []string, orphan bool) error {
	named, err := r.Claims().List()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range named {
		if n.Namespace != namespace || !n.Bound() || !ownsAny(n.Claim.OwnerReferences, uids) {
			continue
		}
		if !orphan {
			errs = append(errs, r.removeClaim(n.Namespace, n.Name))
			continue
		}
		c := n.Claim.DeepCopy()
		c.OwnerReferences = slices.DeleteFunc(c.OwnerReferences, func(ref metav1.OwnerReference) bool {
			return slices.Contains(uids, string(ref.UID))
		})
		_, err := r.Claims().Bind(c)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func ownsAny(refs []metav1.OwnerReference, uids []string) bool {
	return slices.ContainsFunc(refs, func(ref metav1.OwnerReference) bool {
		return ref.UID != "" && slices.Contains(uids, string(ref.UID))
	})
}

// claimOwners makes the claims of the set's ordinals name the set in an
// ownerReference under whenDeleted Delete, and not otherwise, as the
// controller keeps them when the policy changes on an existing set.
func (r *Runner) claimOwners(set *appsv1.StatefulSet) error {
	policy := set.Spec.PersistentVolumeClaimRetentionPolicy
	owned := policy != nil && policy.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	start, replicas := 0, 1
	if o := set.Spec.Ordinals; o != nil {
		start = int(o.Start)
	}
	if set.Spec.Replicas != nil {
		replicas = int(*set.Spec.Replicas)
	}
	var errs []error
	for ord := start; ord < start+replicas; ord++ {
		for _, ct := range set.Spec.VolumeClaimTemplates {
			n, err := r.Claims().Get(set.Namespace, kcontrollers.ClaimName(ct.Name, set.Name, ord))
			if err != nil || n.Terminating() || ownsAny(n.Claim.OwnerReferences, []string{string(set.UID)}) == owned {
				continue
			}
			c := n.Claim.DeepCopy()
			c.OwnerReferences = slices.DeleteFunc(c.OwnerReferences, func(ref metav1.OwnerReference) bool { return ref.UID == set.UID })
			if owned {
				ref := kcontrollers.OwnerReference("apps/v1", "StatefulSet", &set.ObjectMeta)
				ref.Controller = nil
				c.OwnerReferences = append(c.OwnerReferences, ref)
			}
			_, err = r.Claims().Bind(c)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
