package volume

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestClaimTerminating: a claim marked Terminating stays bound, keeps its
// state through a new apply of it, and is Released by Release.
func TestClaimTerminating(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c"}}
	status := func() string {
		t.Helper()
		n, err := s.Claimed("ns", "c")
		if err != nil {
			t.Fatal(err)
		}
		return n.Status()
	}
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"bind", func() error { _, err := s.Bind(claim); return err }, "Bound"},
		{"mark", func() error { return s.MarkTerminating("ns", "c", time.Now()) }, "Terminating"},
		{"apply again", func() error { _, err := s.Bind(claim); return err }, "Terminating"},
		{"mark again", func() error { return s.MarkTerminating("ns", "c", time.Now()) }, "Terminating"},
		{"release", func() error { return s.Release("ns", "c") }, "Released"},
		{"mark released", func() error { return s.MarkTerminating("ns", "c", time.Now()) }, "Released"},
		{"bind anew", func() error { _, err := s.Bind(claim); return err }, "Bound"},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := status(); got != st.want {
			t.Errorf("after %s: status %s, want %s", st.name, got, st.want)
		}
	}
	n, _ := s.Get("ns", "c")
	if n == nil || len(n.Claim.Finalizers) != 0 {
		t.Errorf("a claim bound anew kept a finalizer: %+v", n)
	}
}
