package runner

import (
	"runtime"
	"sync"
)

// parallelPods bounds how many pods one command deletes at once. A pod's
// stop is mostly waiting out its grace period, a goroutine polling its
// monitor, so the bound is well above the CPU count: a file's pods wait
// their grace periods together, as a kubelet's pod workers do. What the
// bound keeps in check is teardown, which spawns runc and CNI plugins and
// unmounts (CNI calls are serialised by the network's lock in any case):
// at most 16 such pods at once on a small machine, more on a larger one.
var parallelPods = max(16, 4*runtime.NumCPU())

// inParallel calls fn(0) to fn(n-1), at most limit at a time, and returns
// once every call has.
func inParallel(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}
