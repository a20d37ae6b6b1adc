package translate

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/podrun/podrun/kube"
	"k8s.io/apimachinery/pkg/types"
)

// demoDB is the user database of localhost/podrun/busybox:demo
// (internal/demoimage), which the examples run.
var demoDB = fstest.MapFS{
	"etc/passwd": {Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
	"etc/group":  {Data: []byte("root:x:0:\nnobody:x:65534:\n")},
}

// TestExamples loads every ../examples/<example>/*.yaml with kube, as
// podrun apply would, translates each pod and compares the result with
// testdata/examples/<example>/<pod>/. Pod uids, which the runner assigns,
// are fixed here by position.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "examples", "*"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			continue
		}
		ran++
		example := filepath.Base(dir)
		t.Run(example, func(t *testing.T) {
			objs, err := kube.Load(files, nil)
			if err != nil {
				t.Fatalf("loading %s: %v", dir, err)
			}
			pods, err := kube.Pods(objs, kube.Options{})
			if err != nil {
				t.Fatalf("expanding %s: %v", dir, err)
			}
			if len(pods) == 0 {
				t.Fatalf("%s has no pods", dir)
			}
			seen := map[string]bool{}
			for i, p := range pods {
				pod := p.Pod.DeepCopy()
				pod.UID = types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1))
				name := pod.Name
				if pod.Namespace != "default" {
					name = pod.Namespace + "_" + pod.Name
				}
				if seen[name] {
					t.Fatalf("%s: two pods named %s", dir, name)
				}
				seen[name] = true
				t.Run(name, func(t *testing.T) {
					in := goldenInput(pod)
					for c, img := range in.Images {
						if img.Ref == "localhost/podrun/busybox:demo" {
							in.UserDB[c] = demoDB
						}
					}
					checkGolden(t, filepath.Join("testdata", "examples", example, name), in)
				})
			}
		})
	}
	if ran == 0 {
		t.Skip("no ../examples/*/*.yaml")
	}
	if !*update {
		checkNoStaleExamples(t, dirs)
	}
}

// checkNoStaleExamples reports golden directories of examples that are gone.
func checkNoStaleExamples(t *testing.T, dirs []string) {
	want := map[string]bool{}
	for _, d := range dirs {
		want[filepath.Base(d)] = true
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "examples"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !want[e.Name()] {
			t.Errorf("testdata/examples/%s has no example; remove it", e.Name())
		}
	}
}
