package main

// TestCorpus renders every manifest of testdata/corpus, real files taken
// from public repositories, as a new user would, and compares each file's
// verdict with testdata/corpus/VERDICTS. It runs in-process and needs
// neither root nor a network: every image a file names is the demo image,
// loaded under that name.

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/podrun/podrun/internal/demoimage"
	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/host"
)

var updateCorpus = flag.Bool("update", false, "rewrite testdata/corpus/VERDICTS from what TestCorpus sees")

const (
	corpusDir    = "testdata/corpus"
	verdictsFile = "testdata/corpus/VERDICTS"
)

func TestCorpus(t *testing.T) {
	testenv.RequireFile(t, "/usr/bin/busybox", "install busybox-static: make deps")
	files := corpusFiles(t)
	dir := t.TempDir()
	root, runRoot := filepath.Join(dir, "root"), filepath.Join(dir, "run")
	loadStandIns(t, root, runRoot, files)

	var mu sync.Mutex
	got := map[string]string{}
	t.Run("file", func(t *testing.T) {
		for _, f := range files {
			t.Run(f, func(t *testing.T) {
				t.Parallel()
				v := renderVerdict(t, root, runRoot, f)
				mu.Lock()
				got[f] = v
				mu.Unlock()
			})
		}
	})
	text := formatVerdicts(files, got)
	if *updateCorpus {
		if err := os.WriteFile(verdictsFile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(verdictsFile)
	if err != nil {
		t.Fatalf("%v (write it with go test -run TestCorpus -update)", err)
	}
	if diff := cmp.Diff(forThisHost(t, string(want)), text); diff != "" {
		t.Errorf("verdicts differ from %s (-want +got); if the change is meant, run go test -run TestCorpus -update and review the diff:\n%s", verdictsFile, diff)
	}
}

// corpusFiles lists the corpus's manifests, relative to corpusDir, sorted.
func corpusFiles(t *testing.T) []string {
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json":
			rel, err := filepath.Rel(corpusDir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no manifests under %s", corpusDir)
	}
	sort.Strings(files)
	return files
}

// imageLine finds the value of every image: key, and of the reference:
// of image volumes, in block or flow style.
var imageLine = regexp.MustCompile(`(?m)^[\s\-{,]*"?(?:image|reference)"?\s*:\s*["']?([^"'\s,#}]+)`)

// standInRefs is every image reference the files name that a tag can
// stand for: those pinned by digest, or not references at all, are left
// for the files' verdicts to show.
func standInRefs(t *testing.T, files []string) []name.Tag {
	seen := map[string]bool{}
	var tags []name.Tag
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(corpusDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imageLine.FindAllSubmatch(data, -1) {
			tag, err := name.NewTag(string(m[1]))
			if err != nil || seen[tag.Name()] {
				continue
			}
			seen[tag.Name()] = true
			tags = append(tags, tag)
		}
	}
	return tags
}

// loadStandIns stores the demo image under every name the files use, with
// the real `podrun image load` of one docker-archive holding them all.
func loadStandIns(t *testing.T, root, runRoot string, files []string) {
	img, err := demoimage.Image("/usr/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	refs := map[name.Reference]v1.Image{}
	for _, tag := range standInRefs(t, files) {
		refs[tag] = img
	}
	archive := filepath.Join(t.TempDir(), "stand-ins.tar")
	if err := tarball.MultiRefWriteToFile(archive, refs); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := podrunInProcess(root, runRoot, "image", "load", "-i", archive); err != nil {
		t.Fatalf("loading the stand-in images: %v\n%s", err, stderr)
	}
}

// podrunInProcess runs the podrun command line in this process.
func podrunInProcess(root, runRoot string, args ...string) (stdout, stderr string, err error) {
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs(append([]string{"--root", root, "--run-root", runRoot}, args...))
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// renderVerdict renders file f with `podrun render --pull=never`, checks
// what it wrote or said, and returns its verdict.
func renderVerdict(t *testing.T, root, runRoot, f string) string {
	path := filepath.Join(corpusDir, f)
	out := t.TempDir()
	stdout, _, err := podrunInProcess(root, runRoot, "render", "--pull=never", "-f", path, "-o", out)
	if err != nil {
		if !strings.Contains(err.Error(), path+":") {
			t.Errorf("%s: the error names no position in the file:\n%v", f, err)
		}
		return "refused: " + reasons(err.Error())
	}
	checkBundles(t, path, strings.Fields(stdout))
	return "accepted"
}

// checkBundles: an accepted file has a bundle per pod, with a config.json
// for the infra container and each of the pod's containers.
func checkBundles(t *testing.T, path string, dirs []string) {
	set, err := runner.Manifests{Paths: []string{path}}.Load()
	if err != nil {
		t.Fatalf("%s renders but does not load: %v", path, err)
	}
	if len(dirs) != len(set.Pods) {
		t.Errorf("%s: %d bundle directories %q for %d pods", path, len(dirs), dirs, len(set.Pods))
		return
	}
	for _, p := range set.Pods {
		i := slices.IndexFunc(dirs, func(d string) bool { return filepath.Base(d) == p.Pod.Namespace+"_"+p.Pod.Name })
		if i < 0 {
			t.Errorf("%s: no bundle directory for pod %s/%s among %q", path, p.Pod.Namespace, p.Pod.Name, dirs)
			continue
		}
		var names []string
		for _, c := range p.Pod.Spec.InitContainers {
			names = append(names, c.Name)
		}
		for _, c := range p.Pod.Spec.Containers {
			names = append(names, c.Name)
		}
		for _, c := range names {
			if _, err := os.Stat(filepath.Join(dirs[i], "containers", c, "config.json")); err != nil {
				t.Errorf("%s: pod %s: container %s: %v", path, p.Pod.Name, c, err)
			}
		}
	}
}

// noAppArmor is the one reason that depends on the host: VERDICTS is
// written where AppArmor is not enabled, as on the CI machines.
const noAppArmor = "AppArmor not enabled on this host"

// forThisHost is the verdicts want would be on this host: where AppArmor
// is enabled, the profiles that no AppArmor refused are applied.
func forThisHost(t *testing.T, want string) string {
	facts, err := host.Facts()
	if err != nil {
		t.Fatal(err)
	}
	if !facts.AppArmor {
		return want
	}
	lines := strings.SplitAfter(want, "\n")
	for i, l := range lines {
		f, v, ok := strings.Cut(strings.TrimSuffix(l, "\n"), "\t")
		rest, refused := strings.CutPrefix(v, "refused: ")
		if !ok || !refused || !strings.Contains(rest, noAppArmor) {
			continue
		}
		var kept []string
		for _, r := range strings.Split(rest, "; ") {
			if r != noAppArmor {
				kept = append(kept, r)
			}
		}
		v = "accepted"
		if len(kept) > 0 {
			v = "refused: " + strings.Join(kept, "; ")
		}
		lines[i] = f + "\t" + v + "\n"
	}
	return strings.Join(lines, "")
}

func formatVerdicts(files []string, got map[string]string) string {
	var b strings.Builder
	b.WriteString("# The verdict of `podrun render` on each file of the corpus, with stand-in\n")
	b.WriteString("# images. Rewrite with: go test ./cmd/podrun -run TestCorpus -update\n")
	for _, f := range files {
		v := got[f]
		if v == "" {
			v = "(no verdict: the test failed before one)"
		}
		fmt.Fprintf(&b, "%s\t%s\n", f, v)
	}
	return b.String()
}
