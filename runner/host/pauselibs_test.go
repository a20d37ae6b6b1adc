package host

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLDD(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    []string
		wantErr string
	}{{
		name: "glibc",
		out: "\tlinux-vdso.so.1 (0x00007ffd3b5e8000)\n" +
			"\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4ccd5e7000)\n" +
			"\t/lib64/ld-linux-x86-64.so.2 (0x00007f4ccd7dc000)\n",
		want: []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"},
	}, {
		name: "more libraries, arm64",
		out: "\tlinux-vdso.so.1 (0x0000ffff9c5d0000)\n" +
			"\tlibseccomp.so.2 => /lib/aarch64-linux-gnu/libseccomp.so.2 (0x0000ffff9c540000)\n" +
			"\tlibc.so.6 => /lib/aarch64-linux-gnu/libc.so.6 (0x0000ffff9c390000)\n" +
			"\t/lib/ld-linux-aarch64.so.1 (0x0000ffff9c593000)\n",
		want: []string{"/lib/aarch64-linux-gnu/libseccomp.so.2", "/lib/aarch64-linux-gnu/libc.so.6", "/lib/ld-linux-aarch64.so.1"},
	}, {
		name: "old-style vdso with an empty arrow",
		out:  "\tlinux-gate.so.1 =>  (0xb7f1c000)\n\tlibc.so.6 => /lib/libc.so.6 (0xb7d9c000)\n\t/lib/ld-linux.so.2 (0xb7f1d000)\n",
		want: []string{"/lib/libc.so.6", "/lib/ld-linux.so.2"},
	}, {
		name: "musl",
		out:  "\t/lib/ld-musl-x86_64.so.1 (0x7f5a2b4f1000)\n\tlibc.musl-x86_64.so.1 => /lib/ld-musl-x86_64.so.1 (0x7f5a2b4f1000)\n",
		want: []string{"/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-x86_64.so.1"},
	}, {
		name:    "missing library",
		out:     "\tlinux-vdso.so.1 (0x00007ffd3b5e8000)\n\tlibfoo.so.1 => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4ccd5e7000)\n",
		wantErr: "finds no libfoo.so.1",
	}, {
		name: "statically linked",
		out:  "\tstatically linked\n",
	}, {
		name: "empty",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLDD([]byte(tt.out))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("libraries (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolvePauseLibs: the test binary itself (static or not, depending
// on how go test built it) and a program known to be dynamic.
func TestResolvePauseLibs(t *testing.T) {
	ctx := context.Background()
	libs, err := PauseLibs(ctx, "")
	if err != nil || libs != nil {
		t.Errorf("no binary: %v %v", libs, err)
	}
	if _, err := PauseLibs(ctx, "/no/such/podrun"); err == nil {
		t.Error("a missing binary resolved")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	sh, _ = filepath.EvalSymlinks(sh)
	interp, err := elfInterp(sh)
	if err != nil || interp == "" {
		t.Skipf("%s is not a dynamic ELF program: %q %v", sh, interp, err)
	}
	libs, err = PauseLibs(ctx, sh)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(libs, interp) || len(libs) < 2 || !slices.IsSorted(libs) {
		t.Errorf("libraries of %s: %v (interpreter %s)", sh, libs, interp)
	}
	for _, l := range libs {
		if _, err := os.Stat(l); err != nil {
			t.Errorf("library %s: %v", l, err)
		}
	}
}

// TestResolvePauseLibsStatic: a static program needs nothing.
func TestResolvePauseLibsStatic(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "static")
	src := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	libs, err := PauseLibs(context.Background(), bin)
	if err != nil || libs != nil {
		t.Errorf("static binary: %v %v", libs, err)
	}
}

// TestResolvePauseLibsRefuses: a dynamic binary whose interpreter is not
// there is refused with the reason and the fix.
func TestResolvePauseLibsRefuses(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is missing")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.c")
	if err := os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "prog")
	if out, err := exec.Command("gcc", "-o", bin, "-Wl,--dynamic-linker=/no/such/ld.so", src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	_, err := PauseLibs(context.Background(), bin)
	if err == nil || !strings.Contains(err.Error(), "/no/such/ld.so") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("error %v, want one naming the interpreter and the fix", err)
	}
}
