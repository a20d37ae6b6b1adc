package controllers

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations the controllers stamp on what they create, with
// the values Kubernetes uses.
const (
	LabelPodTemplateHash     = "pod-template-hash"
	LabelJobName             = "job-name"
	LabelBatchJobName        = "batch.kubernetes.io/job-name"
	LabelControllerUID       = "controller-uid"
	LabelBatchControllerUID  = "batch.kubernetes.io/controller-uid"
	LabelJobCompletionIndex  = "batch.kubernetes.io/job-completion-index"
	LabelStatefulSetPodName  = "statefulset.kubernetes.io/pod-name"
	LabelPodIndex            = "apps.kubernetes.io/pod-index"
	LabelControllerRevision  = "controller-revision-hash"
	AnnotationJobIndex       = LabelJobCompletionIndex
	AnnotationIndexFailures  = "batch.kubernetes.io/job-index-failure-count"
	AnnotationRevision       = "deployment.kubernetes.io/revision"
	AnnotationRevisionHist   = "deployment.kubernetes.io/revision-history"
	AnnotationDesiredReplica = "deployment.kubernetes.io/desired-replicas"
	AnnotationMaxReplicas    = "deployment.kubernetes.io/max-replicas"
	AnnotationRestartedAt    = "kubectl.kubernetes.io/restartedAt"
	AnnotationScheduledAt    = "batch.kubernetes.io/cronjob-scheduled-timestamp"
	AnnotationLastApplied    = "kubectl.kubernetes.io/last-applied-configuration"
	EnvJobCompletionIndex    = "JOB_COMPLETION_INDEX"
)

// alphabet is apimachinery's rand alphabet: no vowels, so that no word is
// spelt by chance, and no characters that look alike (0 and o, 1 and l, 3).
const alphabet = "bcdfghjklmnpqrstvwxz2456789"

// SuffixLength is how many random characters the API server's
// generateName appends.
const SuffixLength = 5

// maxGeneratedBase is how much of a generateName prefix the API server
// keeps: the name stays within 63 characters with the suffix.
const maxGeneratedBase = 63 - SuffixLength

// Rand is the source of random name suffixes: math/rand's *Rand has this
// method; tests pass a seeded one.
type Rand interface {
	Intn(n int) int
}

// Suffix is SuffixLength random characters from the API server's alphabet.
func Suffix(r Rand) string {
	b := make([]byte, SuffixLength)
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

// GenerateName is what the API server names an object created with
// generateName base: base cut to 58 characters, then a random suffix. A
// name in taken is drawn again, as the API server's AlreadyExists makes a
// controller retry.
func GenerateName(base string, r Rand, taken map[string]bool) string {
	if len(base) > maxGeneratedBase {
		base = base[:maxGeneratedBase]
	}
	for {
		name := base + Suffix(r)
		if !taken[name] {
			return name
		}
	}
}

// safeEncode maps each byte of s into the alphabet, as apimachinery's
// rand.SafeEncodeString does, so that a hash never spells a word.
func safeEncode(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// TemplateHash is the pod-template-hash of template: an FNV-32a hash of the
// template, and of collisionCount when it is set, written in decimal and
// mapped into the alphabet, as the controller's ComputeHash does. It hashes
// the template's JSON, not Go's printed form, so the value is stable
// across runs and builds but differs from a cluster's.
func TemplateHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, err := json.Marshal(template)
	if err != nil {
		panic("controllers: a PodTemplateSpec does not marshal: " + err.Error())
	}
	h.Write(b)
	if collisionCount != nil {
		var c [4]byte
		binary.LittleEndian.PutUint32(c[:], uint32(*collisionCount))
		h.Write(c[:])
	}
	return safeEncode(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// ReplicaSetName is the name of a Deployment's ReplicaSet for a template
// hash.
func ReplicaSetName(deployment, hash string) string { return deployment + "-" + hash }

// StatefulSetPodName is the name of a StatefulSet's pod with ordinal.
func StatefulSetPodName(set string, ordinal int) string {
	return set + "-" + strconv.Itoa(ordinal)
}

// ClaimName is the name of a StatefulSet's claim from template for ordinal.
func ClaimName(template, set string, ordinal int) string {
	return template + "-" + StatefulSetPodName(set, ordinal)
}

// JobPodBase is the generateName of a Job's pods: `<job>-`, or
// `<job>-<index>-` for an Indexed Job's pod of index (index < 0 for
// NonIndexed). A long Job name is cut so that the index survives.
func JobPodBase(job string, index int) string {
	if index < 0 {
		return job + "-"
	}
	tail := "-" + strconv.Itoa(index) + "-"
	if len(job)+len(tail) > maxGeneratedBase {
		job = job[:maxGeneratedBase-len(tail)]
	}
	return job + tail
}

// CronJobJobName is the name of the Job a CronJob starts for scheduled:
// `<cronjob>-<minutes since the epoch>`.
func CronJobJobName(cronJob string, scheduled time.Time) string {
	return cronJob + "-" + strconv.FormatInt(scheduled.Unix()/60, 10)
}

// OwnerReference is the reference a controller stamps on what it creates:
// it is the controller, and deleting the owner in the foreground waits for
// the child.
func OwnerReference(apiVersion, kind string, owner *metav1.ObjectMeta) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion: apiVersion, Kind: kind, Name: owner.Name, UID: owner.UID,
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// ownedBy reports whether meta's controller reference names owner: by UID
// when both have one, by kind and name otherwise.
func ownedBy(meta *metav1.ObjectMeta, kind string, owner *metav1.ObjectMeta) bool {
	ref := metav1.GetControllerOfNoCopy(meta)
	if ref == nil || ref.Kind != kind {
		return false
	}
	if ref.UID != "" && owner.UID != "" {
		return ref.UID == owner.UID
	}
	return ref.Name == owner.Name
}

// podFromTemplate is the pod a controller creates from template, as the
// controller's GetPodFromTemplate builds it: the template's labels,
// annotations, finalizers and spec, in the owner's namespace, owned by it.
func podFromTemplate(template *corev1.PodTemplateSpec, namespace, name string, owner metav1.OwnerReference) *corev1.Pod {
	t := template.DeepCopy()
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace,
			Labels: t.Labels, Annotations: t.Annotations, Finalizers: t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{owner},
		},
		Spec: t.Spec,
	}
}
