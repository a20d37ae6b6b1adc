package controllers

import (
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StatefulSetResult is one step of the StatefulSet controller.
type StatefulSetResult struct {
	// StatefulSet is the set with its new status, to store.
	StatefulSet *appsv1.StatefulSet
	PodActions
	// CreateClaims are the claims of the pods created that do not exist
	// yet; create them before the pods. DeleteClaims are the names of the
	// claims of ordinals scaled away, once their pods are gone, when
	// whenScaled is Delete. A claim created under whenDeleted Delete is
	// owned by the set, so deleting the set deletes it.
	CreateClaims []*corev1.PersistentVolumeClaim
	DeleteClaims []string
	// UpdateRevision is the revision of the set's template, which pods
	// carry in their controller-revision-hash label; the supervisor keeps
	// its template, as ControllerRevisions do, to pass back as the current
	// template while a rollout goes on.
	UpdateRevision string
	// RequeueAt is when a pod becomes available after minReadySeconds.
	RequeueAt time.Time
}

// StatefulSetRevision is the revision name of a StatefulSet's template:
// `<set>-<hash>`.
func StatefulSetRevision(set *appsv1.StatefulSet) string {
	return set.Name + "-" + TemplateHash(&set.Spec.Template, set.Status.CollisionCount)
}

type setSync struct {
	set             *appsv1.StatefulSet
	current         *corev1.PodTemplateSpec
	claims          map[string]bool
	now             time.Time
	res             StatefulSetResult
	currentRevision string
	updateRevision  string
	next            time.Time
}

// StatefulSet is one sync of the StatefulSet controller. current is the
// template of status.currentRevision when it differs from the set's own
// (nil otherwise); pods are the pods the set owns; claims the names of the
// claims that exist in its namespace. OrderedReady creates ordinal i only
// when every lower one is Running and available, and deletes the highest
// surplus ordinal first, one at a time once the rest are healthy;
// Parallel does both at once. Finished pods are deleted to be created
// again. RollingUpdate then replaces, from the highest ordinal down to
// partition, one pod at a time, each once the one above is healthy;
// OnDelete replaces only what the user deletes.
func StatefulSet(set *appsv1.StatefulSet, current *corev1.PodTemplateSpec, pods []Pod, claims map[string]bool, now time.Time) StatefulSetResult {
	s := &setSync{set: set.DeepCopy(), current: current, claims: claims, now: now}
	s.updateRevision = StatefulSetRevision(set)
	s.currentRevision = set.Status.CurrentRevision
	if s.currentRevision == "" || current == nil {
		s.currentRevision = s.updateRevision
	}
	s.res.StatefulSet, s.res.UpdateRevision = s.set, s.updateRevision
	replicas, condemned := s.split(pods)
	if s.scale(replicas, condemned) && s.set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
		s.rollingUpdate(replicas)
	}
	s.status(pods)
	s.res.RequeueAt = s.next
	return s.res
}

func (s *setSync) start() int {
	if o := s.set.Spec.Ordinals; o != nil {
		return int(o.Start)
	}
	return 0
}

func (s *setSync) monotonic() bool {
	return s.set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
}

// ordinal is the ordinal in a pod's name `<set>-<ordinal>`, -1 when the
// name is not the set's.
func (s *setSync) ordinal(p *corev1.Pod) int {
	rest, ok := strings.CutPrefix(p.Name, s.set.Name+"-")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || strconv.Itoa(n) != rest {
		return -1
	}
	return n
}

// split places each pod at its ordinal's slot, or among the condemned
// (out of range), those sorted by ordinal.
func (s *setSync) split(pods []Pod) ([]*Pod, []*Pod) {
	replicas := make([]*Pod, int(replicas(s.set.Spec.Replicas)))
	var condemned []*Pod
	for i := range pods {
		p := &pods[i]
		o := s.ordinal(p.Pod)
		switch {
		case o < 0:
		case o >= s.start() && o < s.start()+len(replicas):
			replicas[o-s.start()] = p
		default:
			condemned = append(condemned, p)
		}
	}
	sortByOrdinal(condemned, s.ordinal)
	return replicas, condemned
}

func sortByOrdinal(pods []*Pod, ordinal func(*corev1.Pod) int) {
	sort.SliceStable(pods, func(i, j int) bool { return ordinal(pods[i].Pod) < ordinal(pods[j].Pod) })
}

// healthy is Running, ready and available for minReadySeconds.
func (s *setSync) healthy(p *Pod) bool {
	if p.phase() != corev1.PodRunning || p.Deleting {
		return false
	}
	s.next = earliest(s.next, p.availableAt(s.set.Spec.MinReadySeconds, s.now))
	return p.available(s.set.Spec.MinReadySeconds, s.now)
}

// scale creates the missing ordinals, replaces finished pods and deletes
// the condemned ones; it reports whether everything is in place for a
// rolling update to go on.
func (s *setSync) scale(replicas, condemned []*Pod) bool {
	mono := s.monotonic()
	for i, p := range replicas {
		ord := s.start() + i
		switch {
		case p == nil:
			s.createPod(ord)
			if mono {
				return false
			}
		case p.terminal() && !p.Deleting:
			s.res.Delete = append(s.res.Delete, p.Pod.Name)
			if mono {
				return false
			}
		case mono && !s.healthy(p):
			return false
		}
	}
	var firstUnhealthy *Pod
	for _, p := range replicas {
		if p != nil && !s.healthy(p) {
			firstUnhealthy = p
			break
		}
	}
	if firstUnhealthy == nil {
		for _, p := range condemned {
			if !s.healthy(p) {
				firstUnhealthy = p
				break
			}
		}
	}
	for i := len(condemned) - 1; i >= 0; i-- {
		p := condemned[i]
		if p.Deleting {
			if mono {
				return false
			}
			continue
		}
		if mono && firstUnhealthy != nil && firstUnhealthy != p {
			return false
		}
		s.res.Delete = append(s.res.Delete, p.Pod.Name)
		if mono {
			return false
		}
	}
	if len(condemned) == 0 {
		s.releaseClaims()
	}
	return len(condemned) == 0
}

// rollingUpdate deletes, from the highest ordinal down to partition, the
// first pod not at the update revision, once those above are healthy.
func (s *setSync) rollingUpdate(replicas []*Pod) {
	for i := len(replicas) - 1; i >= s.partition()-s.start() && i >= 0; i-- {
		p := replicas[i]
		if p == nil {
			return
		}
		if p.Pod.Labels[LabelControllerRevision] != s.updateRevision && !p.Deleting {
			s.res.Delete = append(s.res.Delete, p.Pod.Name)
			return
		}
		if !s.healthy(p) {
			return
		}
	}
}

// templateFor is the template an ordinal's new pod is made from: the
// current revision's below partition during a RollingUpdate, the set's
// otherwise.
func (s *setSync) templateFor(ord int) (*corev1.PodTemplateSpec, string) {
	if s.currentRevision != s.updateRevision && s.set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType &&
		ord < s.partition() {
		return s.current, s.currentRevision
	}
	return &s.set.Spec.Template, s.updateRevision
}

// partition is the RollingUpdate's partition, 0 by the API server's
// default.
func (s *setSync) partition() int {
	if ru := s.set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}

// createPod adds ordinal's pod and the claims it needs that are missing.
func (s *setSync) createPod(ord int) {
	set := s.set
	name := StatefulSetPodName(set.Name, ord)
	template, revision := s.templateFor(ord)
	p := podFromTemplate(template, set.Namespace, name, OwnerReference("apps/v1", "StatefulSet", &set.ObjectMeta))
	p.Labels = withLabel(p.Labels, LabelStatefulSetPodName, name)
	p.Labels[LabelPodIndex] = strconv.Itoa(ord)
	p.Labels[LabelControllerRevision] = revision
	p.Spec.Hostname, p.Spec.Subdomain = name, set.Spec.ServiceName
	for _, ct := range set.Spec.VolumeClaimTemplates {
		claim := ClaimName(ct.Name, set.Name, ord)
		setClaimVolume(&p.Spec, ct.Name, claim)
		if !s.claims[claim] {
			s.res.CreateClaims = append(s.res.CreateClaims, s.newClaim(&ct, claim))
		}
	}
	s.res.Create = append(s.res.Create, p)
}

func setClaimVolume(spec *corev1.PodSpec, volume, claim string) {
	v := corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim},
	}}
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == volume {
			spec.Volumes[i] = v
			return
		}
	}
	spec.Volumes = append(spec.Volumes, v)
}

// newClaim is a claim from template for one ordinal, with the set's
// selector labels; owned by the set when whenDeleted is Delete.
func (s *setSync) newClaim(template *corev1.PersistentVolumeClaim, name string) *corev1.PersistentVolumeClaim {
	c := template.DeepCopy()
	c.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"}
	c.Name, c.Namespace = name, s.set.Namespace
	if sel := s.set.Spec.Selector; sel != nil {
		for k, v := range sel.MatchLabels {
			c.Labels = withLabel(c.Labels, k, v)
		}
	}
	if p := s.set.Spec.PersistentVolumeClaimRetentionPolicy; p != nil && p.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		ref := OwnerReference("apps/v1", "StatefulSet", &s.set.ObjectMeta)
		ref.Controller = nil
		c.OwnerReferences = []metav1.OwnerReference{ref}
	}
	return c
}

// releaseClaims deletes, under whenScaled Delete, the claims of ordinals
// past replicas whose pods are gone.
func (s *setSync) releaseClaims() {
	p := s.set.Spec.PersistentVolumeClaimRetentionPolicy
	if p == nil || p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		return
	}
	for _, ct := range s.set.Spec.VolumeClaimTemplates {
		prefix := ct.Name + "-" + s.set.Name + "-"
		for claim := range s.claims {
			rest, ok := strings.CutPrefix(claim, prefix)
			n, err := strconv.Atoi(rest)
			if ok && err == nil && strconv.Itoa(n) == rest && (n < s.start() || n >= s.start()+int(replicas(s.set.Spec.Replicas))) {
				s.res.DeleteClaims = append(s.res.DeleteClaims, claim)
			}
		}
	}
	sort.Strings(s.res.DeleteClaims)
}

// status counts the set's pods: those that exist, ready, available, at
// the current and at the update revision; a finished rollout makes the
// update revision current.
func (s *setSync) status(pods []Pod) {
	st := appsv1.StatefulSetStatus{
		ObservedGeneration: s.set.Generation, CollisionCount: s.set.Status.CollisionCount,
		CurrentRevision: s.currentRevision, UpdateRevision: s.updateRevision, Conditions: s.set.Status.Conditions,
	}
	for i := range pods {
		p := &pods[i]
		if p.terminal() || s.ordinal(p.Pod) < 0 {
			continue
		}
		st.Replicas++
		if p.phase() == corev1.PodRunning && p.Ready {
			st.ReadyReplicas++
			if p.available(s.set.Spec.MinReadySeconds, s.now) {
				st.AvailableReplicas++
			}
		}
		switch p.Pod.Labels[LabelControllerRevision] {
		case s.currentRevision:
			st.CurrentReplicas++
			if s.currentRevision == s.updateRevision {
				st.UpdatedReplicas++
			}
		case s.updateRevision:
			st.UpdatedReplicas++
		}
	}
	if s.set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType &&
		st.UpdatedReplicas == st.Replicas && st.ReadyReplicas == st.Replicas {
		st.CurrentRevision, st.CurrentReplicas = st.UpdateRevision, st.UpdatedReplicas
	}
	s.set.Status = st
}
