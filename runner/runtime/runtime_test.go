package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) {
	if os.Getenv("PODRUN_FAKE_RUNTIME") == "1" {
		os.Exit(fakeRuntime(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeRuntime plays runc for the Cmder tests: container "gone" does not
// exist, every other one is running.
func fakeRuntime(args []string) int {
	var logPath string
	for len(args) > 0 && strings.HasPrefix(args[0], "--") {
		if args[0] == "--log" {
			logPath = args[1]
		}
		args = args[2:]
	}
	verb, id := args[0], args[len(args)-1]
	switch verb {
	case "exec":
		id = args[1]
	case "kill":
		id = args[len(args)-2]
	}
	switch id {
	case "gone":
		f, _ := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		fmt.Fprintln(f, `{"level":"info","msg":"looking"}`)
		fmt.Fprintln(f, `{"level":"error","msg":"container does not exist","time":"2024-01-01T00:00:00Z"}`)
		f.Close()
		fmt.Fprintln(os.Stderr, "container does not exist")
		return 1
	case "mute":
		return 2
	}
	switch verb {
	case "state":
		fmt.Printf(`{"ociVersion":"1.0.2","id":%q,"pid":42,"status":"running","bundle":"/b","created":"2024-01-01T00:00:00Z"}`, id)
	case "list":
		fmt.Print("null")
	case "ps":
		fmt.Print("[42,43]")
	case "exec":
		fmt.Print("output")
		return 3
	}
	return 0
}

// recorder is a Cmder that runs the test binary as a fake runtime and
// records every argv.
type recorder struct{ argvs [][]string }

func (r *recorder) cmder(ctx context.Context, name string, args ...string) *exec.Cmd {
	r.argvs = append(r.argvs, append([]string{name}, args...))
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PODRUN_FAKE_RUNTIME=1")
	return cmd
}

func TestArgs(t *testing.T) {
	f3, f4 := os.Stdin, os.Stdout // any files: only their count matters
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"create", CreateOpts{}.args("c1", "/b"), []string{"create", "--bundle", "/b", "c1"}},
		{"create all", CreateOpts{PidFile: "/p", NoPivot: true, ExtraFiles: []*os.File{f3, f4}}.args("c1", "/b"),
			[]string{"create", "--bundle", "/b", "--pid-file", "/p", "--no-pivot", "--preserve-fds", "2", "c1"}},
		{"create with a terminal", CreateOpts{PidFile: "/p", ConsoleSocket: "/pod/console/c/sock"}.args("c1", "/b"),
			[]string{"create", "--bundle", "/b", "--pid-file", "/p", "--console-socket", "/pod/console/c/sock", "c1"}},
		{"start", startOpts{}.args("c1"), []string{"start", "c1"}},
		{"kill", killOpts{}.args("c1", syscall.SIGTERM), []string{"kill", "c1", "15"}},
		{"kill all", killOpts{All: true}.args("c1", syscall.SIGKILL), []string{"kill", "--all", "c1", "9"}},
		{"delete", deleteOpts{}.args("c1"), []string{"delete", "c1"}},
		{"delete force", deleteOpts{Force: true}.args("c1"), []string{"delete", "--force", "c1"}},
		{"state", stateOpts{}.args("c1"), []string{"state", "c1"}},
		{"list", listOpts{}.args(), []string{"list", "--format", "json"}},
		{"ps", psOpts{}.args("c1"), []string{"ps", "--format", "json", "c1"}},
		{"exec", ExecOpts{Args: []string{"ls", "-l"}}.args("c1"), []string{"exec", "c1", "ls", "-l"}},
		{"exec all", ExecOpts{Args: []string{"sh", "-c", "env"}, Env: []string{"A=1", "B=2"}, Cwd: "/tmp", User: "1000:1000", PidFile: "/p"}.args("c1"),
			[]string{"exec", "--cwd", "/tmp", "--env", "A=1", "--env", "B=2", "--user", "1000:1000", "--pid-file", "/p", "c1", "sh", "-c", "env"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s args (-want +got):\n%s", tt.name, diff)
		}
	}
	r := &CLI{Root: "/run/podrun/runc"}
	if diff := cmp.Diff([]string{"--root", "/run/podrun/runc", "--log", "/l", "--log-format", "json"}, r.globalArgs("/l")); diff != "" {
		t.Errorf("global args (-want +got):\n%s", diff)
	}
}

func TestErrorIs(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want bool
	}{
		{"runc log", &Error{Args: []string{"runc", "--root", "/r", "delete", "c"}, Message: "container does not exist"}, true},
		{"stderr only", &Error{Args: []string{"runc", "--root", "/r", "kill", "c", "9"}, Stderr: "container does not exist\n"}, true},
		{"not found", &Error{Args: []string{"crun", "--root=/r", "state", "c"}, Message: "container not found"}, true},
		{"other", &Error{Args: []string{"runc", "--root", "/r", "delete", "c"}, Message: "permission denied"}, false},
		{"create", &Error{Args: []string{"runc", "--root", "/r", "--log", "/l", "create", "--bundle", "/b", "c"}, Message: "bundle does not exist"}, false},
	}
	for _, tt := range tests {
		if got := errors.Is(fmt.Errorf("wrapped: %w", tt.err), ErrNotExist); got != tt.want {
			t.Errorf("%s: errors.Is(ErrNotExist) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Args: []string{"runc", "delete", "c"}, ExitCode: 1, Stderr: "noise\n", Message: "container does not exist"}
	if got, want := e.Error(), "running runc delete c: exit status 1: container does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e.Message = ""
	if got, want := e.Error(), "running runc delete c: exit status 1: noise"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLastErrorIn(t *testing.T) {
	log := `{"level":"error","msg":"first","time":"x"}
not json
{"level":"warning","msg":"warn"}
{"level":"error","msg":"second"}
{"level":"info","msg":"after"}
`
	if got := lastErrorIn(strings.NewReader(log)); got != "second" {
		t.Errorf("lastErrorIn = %q, want %q", got, "second")
	}
}

func TestNoRoot(t *testing.T) {
	r := &CLI{Binary: "runc", Cmder: func(context.Context, string, ...string) *exec.Cmd {
		t.Fatal("a CLI without Root ran a command")
		return nil
	}}
	if err := r.Start(context.Background(), "c"); !errors.Is(err, ErrNoRoot) {
		t.Errorf("Start without Root: %v, want ErrNoRoot", err)
	}
}

func TestFakeRuntime(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	root := t.TempDir()
	r := &CLI{Binary: "fake-runc", Root: root, Cmder: rec.cmder}

	s, err := r.State(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "c1" || s.Pid != 42 || s.Status != StatusRunning || s.Created.IsZero() {
		t.Errorf("State = %+v", s)
	}
	argv := rec.argvs[0]
	want := []string{"fake-runc", "--root", root, "--log", argv[4], "--log-format", "json", "state", "c1"}
	if diff := cmp.Diff(want, argv); diff != "" {
		t.Errorf("state argv (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(argv[4]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary log %s left behind: %v", argv[4], err)
	}

	err = r.Delete(ctx, "gone", true)
	var rerr *Error
	if !errors.As(err, &rerr) {
		t.Fatalf("Delete(gone) = %v, want *Error", err)
	}
	if !errors.Is(err, ErrNotExist) || IgnoreNotExist(err) != nil {
		t.Errorf("Delete(gone) = %v, want ErrNotExist", err)
	}
	if rerr.ExitCode != 1 || rerr.Message != "container does not exist" || rerr.Args[len(rerr.Args)-1] != "gone" {
		t.Errorf("Delete(gone) error = %+v", rerr)
	}
	if !strings.Contains(err.Error(), "delete --force gone: exit status 1: container does not exist") {
		t.Errorf("Delete(gone) message = %q", err)
	}

	list, err := r.List(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v; want empty", list, err)
	}
	pids, err := r.Ps(ctx, "c1")
	if err != nil || !cmp.Equal(pids, []int{42, 43}) {
		t.Errorf("Ps = %v, %v", pids, err)
	}

	var out strings.Builder
	code, err := r.Exec(ctx, "c1", ExecOpts{Args: []string{"true"}, IO: IO{Stdout: &out}})
	if err != nil || code != 3 || out.String() != "output" {
		t.Errorf("Exec = %d, %v, output %q; want 3, nil, %q", code, err, out.String(), "output")
	}
	if _, err := r.Exec(ctx, "gone", ExecOpts{Args: []string{"true"}}); !errors.Is(err, ErrNotExist) {
		t.Errorf("Exec(gone) = %v, want ErrNotExist", err)
	}
}

func TestSharedLog(t *testing.T) {
	rec := &recorder{}
	logPath := t.TempDir() + "/runtime.log"
	os.WriteFile(logPath, []byte(`{"level":"error","msg":"an old failure"}`+"\n"), 0o600)
	r := &CLI{Binary: "fake-runc", Root: t.TempDir(), Log: logPath, Cmder: rec.cmder}
	ctx := context.Background()
	// A failure that logs nothing must not be blamed on an older entry.
	err := r.Kill(ctx, "mute", syscall.SIGTERM, false)
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.ExitCode != 2 || rerr.Message != "" {
		t.Errorf("Kill(mute) = %#v", err)
	}
	err = r.Kill(ctx, "gone", syscall.SIGTERM, false)
	if !errors.As(err, &rerr) || rerr.Message != "container does not exist" || !errors.Is(err, ErrNotExist) {
		t.Errorf("Kill(gone) = %v", err)
	}
	if _, err := os.Stat(logPath); err != nil {
		t.Errorf("shared log removed: %v", err)
	}
}

func TestListMissingRoot(t *testing.T) {
	rec := &recorder{}
	r := &CLI{Binary: "fake-runc", Root: t.TempDir() + "/none", Cmder: rec.cmder}
	list, err := r.List(context.Background())
	if err != nil || len(list) != 0 || len(rec.argvs) != 0 {
		t.Errorf("List on a missing root = %v, %v after %d runs; want empty, no runs", list, err, len(rec.argvs))
	}
}
