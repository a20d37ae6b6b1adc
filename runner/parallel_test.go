package runner

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// TestInParallelBound: every call runs, side by side up to the bound and
// never beyond it.
func TestInParallelBound(t *testing.T) {
	const n, limit = 20, 4
	var running, peak atomic.Int32
	var mu sync.Mutex
	seen := map[int]bool{}
	// The first limit calls wait for each other: they must run together.
	var first sync.WaitGroup
	first.Add(limit)
	inParallel(n, limit, func(i int) {
		now := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		if i < limit {
			first.Done()
			first.Wait()
		}
		mu.Lock()
		seen[i] = true
		mu.Unlock()
	})
	if len(seen) != n {
		t.Errorf("%d calls ran, want %d", len(seen), n)
	}
	if p := peak.Load(); p != limit {
		t.Errorf("at most %d calls ran at once, want %d", p, limit)
	}
}

// TestDeletedPods: outcomes keep the pods' order whatever order they
// finished in, pods already gone are neither outcomes nor errors, and
// every other error is returned.
func TestDeletedPods(t *testing.T) {
	pods := []PodRef{{"default", "a"}, {"default", "b"}, {"other", "c"}, {"default", "d"}, {"default", "e"}}
	errB := errors.New("b failed")
	errE := errors.New("e failed")
	errs := []error{nil, errB, nil, fmt.Errorf("pod default/d: %w", ErrPodNotFound), errE}
	done, err := deletedPods(pods, errs)
	want := []Outcome{{"pod", "default", "a", "deleted"}, {"pod", "other", "c", "deleted"}}
	if !slices.Equal(done, want) {
		t.Errorf("outcomes %v, want %v", done, want)
	}
	if !errors.Is(err, errB) || !errors.Is(err, errE) || errors.Is(err, ErrPodNotFound) {
		t.Errorf("error %v, want b's and e's joined, not d's", err)
	}
}

// TestDeletedPodsInParallel: results gathered by index from calls that
// finish in reverse order still come out in the pods' order.
func TestDeletedPodsInParallel(t *testing.T) {
	var pods []PodRef
	for i := range 8 {
		pods = append(pods, PodRef{"default", fmt.Sprintf("p%d", i)})
	}
	errs := make([]error, len(pods))
	turn := make([]chan struct{}, len(pods)+1)
	for i := range turn {
		turn[i] = make(chan struct{})
	}
	close(turn[len(pods)])
	inParallel(len(pods), len(pods), func(i int) {
		<-turn[i+1] // the last pod finishes first
		if i%2 == 1 {
			errs[i] = fmt.Errorf("deleting pod %s: boom", pods[i].Name)
		}
		close(turn[i])
	})
	done, err := deletedPods(pods, errs)
	var names []string
	for _, o := range done {
		names = append(names, o.Name)
	}
	if want := []string{"p0", "p2", "p4", "p6"}; !slices.Equal(names, want) {
		t.Errorf("deleted %v, want %v", names, want)
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 4 {
		t.Errorf("%d errors joined, want 4: %v", n, err)
	}
}
