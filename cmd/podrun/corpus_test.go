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
	accepted := 0
	for _, v := range got {
		if v == "accepted" {
			accepted++
		}
	}
	t.Logf("%d files: %d accepted, %d refused", len(files), accepted, len(got)-accepted)
	if *updateCorpus {
		keepHostVerdicts(t, got)
		if err := os.WriteFile(verdictsFile, []byte(formatVerdicts(files, got)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(verdictsFile)
	if err != nil {
		t.Fatalf("%v (write it with go test -run TestCorpus -update)", err)
	}
	compareVerdicts(t, forThisHost(t, string(want)), formatVerdicts(files, got))
}

// keepHostVerdicts keeps, in got, the recorded verdicts that differ from
// got only by what this host explains, so that -update on a host with
// AppArmor writes the same file as on one without.
func keepHostVerdicts(t *testing.T, got map[string]string) {
	data, err := os.ReadFile(verdictsFile)
	if err != nil {
		return // nothing recorded yet
	}
	recorded, here := parseVerdicts(string(data)), parseVerdicts(forThisHost(t, string(data)))
	for f, v := range got {
		if r, ok := recorded[f]; ok && v == here[f] {
			got[f] = r
		}
	}
}

// compareVerdicts reports each file whose verdict is not the one recorded,
// and any other difference of the two texts.
func compareVerdicts(t *testing.T, want, got string) {
	if want == got {
		return
	}
	w, g := parseVerdicts(want), parseVerdicts(got)
	var files []string
	for f := range w {
		files = append(files, f)
	}
	for f := range g {
		if _, ok := w[f]; !ok {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	n := 0
	for _, f := range files {
		if w[f] != g[f] {
			n++
			t.Errorf("%s:\n  now      %q\n  recorded %q", f, g[f], w[f])
		}
	}
	if n == 0 {
		t.Errorf("%s differs from what the test writes (-want +got):\n%s", verdictsFile, cmp.Diff(want, got))
	}
	t.Logf("if the change is meant, run go test ./cmd/podrun -run TestCorpus -update and review the diff of %s", verdictsFile)
}

// parseVerdicts reads VERDICTS' lines, "file<TAB>verdict", skipping comments.
func parseVerdicts(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if f, v, ok := strings.Cut(l, "\t"); ok && !strings.HasPrefix(l, "#") {
			m[f] = v
		}
	}
	return m
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
	stdout, stderr, err := podrunInProcess(root, runRoot, "render", "--pull=never", "-f", path, "-o", out)
	if err != nil {
		checkPositions(t, f, path, err.Error())
		return "refused: " + reasons(err.Error())
	}
	if withoutPosition[f] {
		t.Errorf("%s is accepted now: take it out of withoutPosition", f)
	}
	waiting, why := waits(t, f, path, stderr)
	unscheduled := pendings(t, f, path, stderr, waiting)
	checkBundles(t, path, strings.Fields(stdout), waiting)
	v := "accepted"
	if why != "" {
		v += "; waits: " + why
	}
	if unscheduled != "" {
		v += "; pending: " + unscheduled
	}
	return v
}

// pendingLine is render's warning for a pod the node would not take:
// "FILE:LINE: pod NAME would be Pending: Unschedulable: MESSAGE".
var pendingLine = regexp.MustCompile(`^(\S+?:\d+: )?pod (\S+) would be Pending: Unschedulable: 0/1 nodes are available: 1 (.*?)\.(?: \(.*\))?$`)

// pendings reads render's warnings for the pods that would be Pending,
// adds them to pods (they get no bundles either) and returns why, the
// scheduler's reasons. Each warning must carry a position.
func pendings(t *testing.T, f, path, stderr string, pods map[string]bool) string {
	var why []string
	for _, line := range strings.Split(stderr, "\n") {
		m := pendingLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if !strings.HasPrefix(m[1], path+":") {
			t.Errorf("%s: a Pending pod's warning has no file:line: %s", f, line)
		}
		pods[m[2]] = true
		if !slices.Contains(why, m[3]) {
			why = append(why, m[3])
		}
	}
	sort.Strings(why)
	return strings.Join(why, "; ")
}

// waitLine is render's warning for a container that apply would leave
// waiting: "FILE:LINE: pod NAME: container C would wait: REASON".
var waitLine = regexp.MustCompile(`^(\S+?:\d+: )?pod (\S+): container \S+ would wait: (.*)$`)

// waits reads render's warnings: the pods that would wait, and the reasons
// why, as reasons names a refusal's. Each warning must carry a position.
func waits(t *testing.T, f, path, stderr string) (map[string]bool, string) {
	pods := map[string]bool{}
	var lines []string
	for _, line := range strings.Split(stderr, "\n") {
		m := waitLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if !strings.HasPrefix(m[1], path+":") {
			t.Errorf("%s: a waiting container's warning has no file:line: %s", f, line)
		}
		pods[m[2]] = true
		why := strings.TrimPrefix(m[3], "CreateContainerConfigError: ")
		lines = append(lines, strings.TrimPrefix(why, "ContainerCreating: "))
	}
	return pods, reasons(strings.Join(lines, "\n"))
}

// withoutPosition are the files some of whose problems are reported
// without a file:line, which issue 11 is to fix. A file listed here that
// has a position on every line fails the test, so the list only shrinks.
var withoutPosition = map[string]bool{}

// checkPositions: every line of a refusal starts with the file:line it is
// about.
func checkPositions(t *testing.T, f, path, msg string) {
	at := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+: `)
	var bare []string
	for _, line := range strings.Split(msg, "\n") {
		if !at.MatchString(line) {
			bare = append(bare, line)
		}
	}
	switch {
	case len(bare) > 0 && !withoutPosition[f]:
		t.Errorf("%s: refused without the file:line of the problem:\n%s", f, strings.Join(bare, "\n"))
	case len(bare) == 0 && withoutPosition[f]:
		t.Errorf("%s: every problem now has its file:line: take it out of withoutPosition", f)
	}
}

// checkBundles: an accepted file has a bundle per pod, with a config.json
// for the infra container and each of the pod's containers, but for pods
// that wait for a volume's source or would be Pending, of which apply
// makes no bundles yet.
func checkBundles(t *testing.T, path string, dirs []string, waiting map[string]bool) {
	set, err := runner.Manifests{Paths: []string{path}}.Load()
	if err != nil {
		t.Fatalf("%s renders but does not load: %v", path, err)
	}
	for _, p := range set.Pods {
		i := slices.IndexFunc(dirs, func(d string) bool { return filepath.Base(d) == p.Pod.Namespace+"_"+p.Pod.Name })
		if i < 0 && waiting[p.Pod.Name] {
			continue // waiting for a volume's source, or Pending: apply makes no bundles yet
		}
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
	return forHost(want, facts.AppArmor)
}

// forHost is want on a host where AppArmor is enabled or not.
func forHost(want string, appArmor bool) string {
	if !appArmor {
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

// TestCorpusForHost: where AppArmor is enabled, its absence is no reason.
func TestCorpusForHost(t *testing.T) {
	recorded := "# comment\n" +
		"a.yaml\taccepted\n" +
		"b.yaml\trefused: " + noAppArmor + "\n" +
		"c.yaml\trefused: " + noAppArmor + "; kind Service not supported\n"
	if got := forHost(recorded, false); got != recorded {
		t.Errorf("without AppArmor:\n%s", got)
	}
	want := "# comment\na.yaml\taccepted\nb.yaml\taccepted\nc.yaml\trefused: kind Service not supported\n"
	if got := forHost(recorded, true); got != want {
		t.Errorf("with AppArmor:\n got %q\nwant %q", got, want)
	}
}
