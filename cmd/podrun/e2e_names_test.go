package main

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNamesCannotLeaveTheirDirectory: names given on the command line
// that climb out of the run root, or the data root, to a canary beside
// them (with a state.json, a claim.json and a _data directory, so that
// old podrun took it for a pod and a volume) are refused, as the API
// server refuses them, and the canary is left as it was.
func TestNamesCannotLeaveTheirDirectory(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Dir(e.runRoot)
	canary := filepath.Join(dir, "canary")
	if err := os.MkdirAll(filepath.Join(canary, "_data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"state.json":      `{"namespace": "default", "name": "canary", "monitor": {"pid": 1}}`,
		"claim.json":      "{}",
		"keep":            "keep me\n",
		"_data/important": "data\n",
	} {
		if err := os.WriteFile(filepath.Join(canary, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before, beside := snapshot(t, canary), listDir(t, dir)

	// With --run-root DIR/run, the pod "../../../../canary" was
	// DIR/run/pods/default_../../../../canary, which is DIR/canary; and
	// the volume of that name DIR/root/volumes/default_../../../../canary.
	bad := "../../../../canary"
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"delete pod", []string{"delete", "pod", bad}, `invalid pod name "` + bad + `"`},
		{"delete pod/NAME", []string{"delete", "pod/" + bad}, `invalid pod name "` + bad + `"`},
		{"delete --ignore-not-found", []string{"delete", "pod", bad, "--ignore-not-found"}, `invalid pod name "` + bad + `"`},
		{"describe", []string{"describe", "pod", bad}, `invalid pod name "` + bad + `"`},
		{"logs", []string{"logs", bad}, `invalid pod name "` + bad + `"`},
		{"logs pod/NAME", []string{"logs", "pod/" + bad}, `invalid pod name "` + bad + `"`},
		{"exec", []string{"exec", bad, "--", "true"}, `invalid pod name "` + bad + `"`},
		{"wait", []string{"wait", "--for=delete", "pod/" + bad, "--timeout", "1s"}, `invalid pod name "` + bad + `"`},
		{"get pod", []string{"get", "pod", bad}, `invalid pod name "` + bad + `"`},
		{"get -w", []string{"get", "pods", "-w", bad}, `invalid pod name "` + bad + `"`},
		{"monitor", []string{"monitor", "default", bad}, `invalid pod name "` + bad + `"`},
		{"volume rm", []string{"volume", "rm", bad}, `invalid persistentvolumeclaim name "` + bad + `"`},
		{"image rm", []string{"image", "rm", bad}, `invalid image reference "` + bad + `"`},
		{"image inspect", []string{"image", "inspect", bad}, `invalid image reference "` + bad + `"`},
		{"image save", []string{"image", "save", "-o", filepath.Join(t.TempDir(), "out.tar"), bad}, `invalid image reference "` + bad + `"`},
		{"-n on delete", []string{"delete", "pod", "canary", "-n", "../.."}, `invalid namespace "../.."`},
		{"-n on describe", []string{"describe", "pod", "canary", "-n", "../.."}, `invalid namespace "../.."`},
		{"-n on get", []string{"get", "pods", "-n", "../.."}, `invalid namespace "../.."`},
		{"-n on volume rm", []string{"volume", "rm", "canary", "-n", "../.."}, `invalid namespace "../.."`},
		{"-c on logs", []string{"logs", "canary", "-c", "../.."}, `invalid container name "../.."`},
		{"-c on exec", []string{"exec", "canary", "-c", "../..", "--", "true"}, `invalid container name "../.."`},
	}
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				out, errOut, err := e.run(tt.args...)
				if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() == 0 {
					t.Errorf("podrun %s: %v; want it to fail\n%s%s", strings.Join(tt.args, " "), err, out, errOut)
				}
				if !strings.Contains(errOut, tt.want) {
					t.Errorf("podrun %s said %q; want %q", strings.Join(tt.args, " "), errOut, tt.want)
				}
				if strings.Contains(out, "deleted") {
					t.Errorf("podrun %s printed %q", strings.Join(tt.args, " "), out)
				}
			})
		}
	})
	if after := snapshot(t, canary); !maps.Equal(before, after) {
		t.Errorf("the canary changed:\nbefore %q\nafter  %q", before, after)
	}
	if after := listDir(t, dir); !maps.Equal(beside, after) {
		t.Errorf("beside the roots, before %v, after %v", beside, after)
	}
}

// TestDeleteAbsentPod: a valid name of a pod that does not exist is
// still "not found", which --ignore-not-found takes as deleted.
func TestDeleteAbsentPod(t *testing.T) {
	e := newEnv(t)
	if out, errOut, err := e.run("delete", "pod", "absent"); err == nil || !strings.Contains(errOut, "not found") {
		t.Errorf("delete pod absent: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := e.run("delete", "pod", "absent", "--ignore-not-found"); err != nil || out != "" {
		t.Errorf("delete pod absent --ignore-not-found: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := e.run("delete", "pod", "absent.example", "-n", "kube-system", "--ignore-not-found"); err != nil {
		t.Errorf("delete pod absent.example -n kube-system --ignore-not-found: %v\n%s%s", err, out, errOut)
	}
}

// snapshot maps every path under dir to its mode and contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files[path] = info.Mode().String()
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files[path] += " " + string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// listDir maps the names in dir to their modes.
func listDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, e := range entries {
		names[e.Name()] = e.Type().String()
	}
	return names
}
