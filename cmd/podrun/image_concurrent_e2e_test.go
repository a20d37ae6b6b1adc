package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/podrun/podrun/internal/testregistry"
)

// TestImagePullTwoProcesses: four podrun processes pull the same image
// from a registry on 127.0.0.1 at once; all succeed, and every layer is
// stored and unpacked once.
func TestImagePullTwoProcesses(t *testing.T) {
	e := newEnv(t)
	reg := testregistry.Start(t, "", "")
	// The demo image and three random layers, so that the pulls overlap.
	extra, err := random.Image(2<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := extra.Layers()
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(testregistry.Demo(t), layers...)
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Push(t, "podrun/concurrent:v1", img)

	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	digests := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errOut, err := e.run("image", "pull", "-q", ref)
			digests[i] = strings.TrimSpace(out)
			if err != nil {
				errs[i] = fmt.Errorf("pull %d: %v: %s", i, err, errOut)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, d := range digests[1:] {
		if d != digests[0] || !strings.HasPrefix(d, "sha256:") {
			t.Errorf("the pulls disagree on the digest: %q", digests)
			break
		}
	}
	unpacked, err := os.ReadDir(filepath.Join(e.root, "images", "layers", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	if len(unpacked) != 4 { // the demo layer and the three random ones
		t.Errorf("%d unpacked layers, want 4 (each stored once): %v", len(unpacked), unpacked)
	}
	if tmp, _ := os.ReadDir(filepath.Join(e.root, "images", "tmp")); len(tmp) != 0 {
		t.Errorf("work in progress left behind: %v", tmp)
	}
	// The stored image runs.
	path := e.manifest("pod.yaml", strings.Replace(podYAML("pulled", "", container("main", "ls /bin/busybox", "    imagePullPolicy: Never\n")),
		"localhost/podrun/busybox:demo", ref, 1))
	e.must("apply", "-f", path)
	e.must("delete", "pod", "pulled", "--grace-period", "0")
}
