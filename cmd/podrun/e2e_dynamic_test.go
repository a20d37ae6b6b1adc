package main

import (
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/internal/testenv"
)

// TestDynamicBinaryRunsPods: a podrun built with cgo, as `go install`
// builds it, is a dynamically linked program; as the pause process in the
// infra container's empty root it still starts, because its interpreter
// and libraries are bind-mounted there. The pod runs, and is deleted
// without a leak.
func TestDynamicBinaryRunsPods(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var interp string
	e.bin, interp = buildDynamic(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("dyn", "", container("c", "echo started; sleep 600", "")))
	e.must("apply", "-f", path)
	e.waitLog(t, "dyn", "c", "started")
	pod := e.pod("dyn")
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %q, want Running", pod.Status.Phase)
	}
	b, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_dyn", "infra", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var infra specs.Spec
	if err := json.Unmarshal(b, &infra); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(infra.Mounts, func(m specs.Mount) bool {
		return m.Destination == interp && slices.Contains(m.Options, "ro")
	}) {
		t.Errorf("the infra spec does not bind %s read-only: %+v", interp, infra.Mounts)
	}
	e.must("delete", "-f", path, "--grace-period", "1")
	if out := e.must("get", "pods"); !strings.Contains(out, "No resources found") {
		t.Errorf("after delete: %s", out)
	}
}

// buildDynamic builds podrun with CGO_ENABLED=1 and checks that the
// result has an ELF interpreter, which it returns too.
func buildDynamic(t *testing.T) (bin, interp string) {
	t.Helper()
	_, err := exec.LookPath("gcc")
	testenv.Need(t, err == nil, "gcc is missing, so podrun cannot be built with cgo (apt-get install gcc)")
	bin = filepath.Join(t.TempDir(), "podrun-dyn")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building podrun with cgo: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				t.Fatal(err)
			}
			return bin, strings.TrimRight(string(b), "\x00")
		}
	}
	t.Fatalf("%s has no ELF interpreter: not the dynamic build this test needs", bin)
	return "", ""
}
