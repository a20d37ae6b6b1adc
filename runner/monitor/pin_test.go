package monitor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// The monitor pins what the pod's state lists, not what the spec implies:
// here the spec (no host namespaces) implies ipc and uts, the state only uts.
func TestPinsRecordedNamespaces(t *testing.T) {
	store := state.Store{Dir: t.TempDir()}
	k, err := state.PodKey("default", "p")
	if err != nil {
		t.Fatal(err)
	}
	dir := store.Pod(k)
	l := translate.Layout{Dir: dir.Dir}
	manifest, _ := json.Marshal(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}})
	recorded := []state.Namespace{{Type: "uts", Path: l.Namespace("uts")}}
	if err := os.MkdirAll(dir.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := dir.Write(&state.Pod{Name: "p", Namespace: "default", Manifest: manifest, Pin: recorded, Infra: &state.Container{Name: translate.InfraName}}); err != nil {
		t.Fatal(err)
	}
	m, err := newMonitor(Config{Pod: dir, Layout: l, Runtime: &runtime.CLI{Binary: "runc"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.pin) != 1 || m.pin[0] != recorded[0] {
		t.Fatalf("monitor pins %v, want %v", m.pin, recorded)
	}
	if os.Geteuid() != 0 {
		t.Skip("pinning a namespace needs root")
	}
	if err := pinNamespaces(os.Getpid(), m.pin); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(l.Namespace("uts"), unix.MNT_DETACH)
	var pinned, self unix.Stat_t
	if err := unix.Stat(l.Namespace("uts"), &pinned); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat("/proc/self/ns/uts", &self); err != nil {
		t.Fatal(err)
	}
	if pinned.Ino != self.Ino || pinned.Dev != self.Dev {
		t.Errorf("%s is not the uts namespace of pid %d", l.Namespace("uts"), os.Getpid())
	}
	if _, err := os.Stat(filepath.Join(l.Dir, "ns", "ipc")); !os.IsNotExist(err) {
		t.Errorf("ipc, which the state does not list, was pinned (stat: %v)", err)
	}
}
