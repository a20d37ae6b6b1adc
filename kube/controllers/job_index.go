package controllers

import (
	"sort"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// indexed reports whether job's completion mode is Indexed.
func indexed(job *batchv1.Job) bool {
	return job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
}

// completionIndex is the index an Indexed Job's pod carries in its
// annotation, -1 when it has none or a bad one.
func completionIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[AnnotationJobIndex]
	if !ok {
		v, ok = p.Labels[LabelJobCompletionIndex]
	}
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return -1
	}
	return i
}

// indexSet is a set of completion indexes.
type indexSet map[int]bool

// FormatIndexes writes indexes as the status does: sorted, with runs of
// consecutive indexes as ranges, "1,3-5".
func FormatIndexes(indexes []int) string {
	ix := append([]int(nil), indexes...)
	sort.Ints(ix)
	var b strings.Builder
	for i := 0; i < len(ix); {
		j := i
		for j+1 < len(ix) && ix[j+1] <= ix[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ix[i]))
		if ix[j] != ix[i] {
			b.WriteString("-" + strconv.Itoa(ix[j]))
		}
		i = j + 1
	}
	return b.String()
}

// ParseIndexes reads indexes written by FormatIndexes, keeping those below
// completions and skipping what does not parse, as the controller does.
func ParseIndexes(s string, completions int) []int {
	var out []int
	if s == "" {
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err := strconv.Atoi(first)
		if err != nil {
			continue
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(last); err != nil {
				continue
			}
		}
		for i := lo; i <= hi && i < completions; i++ {
			out = append(out, i)
		}
	}
	return out
}

func (s indexSet) sorted() []int {
	out := make([]int, 0, len(s))
	for i := range s {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// indexedPod is the pod an Indexed Job creates for index: the index as
// annotation and label, JOB_COMPLETION_INDEX in every container's
// environment from that annotation, and hostname `<job>-<index>`.
func indexedPod(p *corev1.Pod, job string, index int) {
	v := strconv.Itoa(index)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Annotations[AnnotationJobIndex] = v
	p.Labels[LabelJobCompletionIndex] = v
	if p.Spec.Hostname == "" {
		p.Spec.Hostname = job + "-" + v
	}
	env := corev1.EnvVar{Name: EnvJobCompletionIndex, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + AnnotationJobIndex + "']"},
	}}
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range list {
			if !hasEnv(list[i].Env, EnvJobCompletionIndex) {
				list[i].Env = append(list[i].Env, env)
			}
		}
	}
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}
