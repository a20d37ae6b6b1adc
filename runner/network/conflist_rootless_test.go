package network

import (
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

// TestDefaultConflistFor checks that a rootless user's default network
// differs from root's only in its subnet and host-local data directory.
func TestDefaultConflistFor(t *testing.T) {
	raw := DefaultConflistFor("10.131.232.0/24", "/run/user/1000/podrun/cni/ipam")
	if _, err := libcni.ConfListFromBytes(raw); err != nil {
		t.Fatalf("not a conflist: %v\n%s", err, raw)
	}
	got := string(raw)
	for _, s := range []string{`"subnet": "10.131.232.0/24"`, `"dataDir": "/run/user/1000/podrun/cni/ipam"`, `"bridge": "podrun0"`} {
		if !strings.Contains(got, s) {
			t.Errorf("conflist lacks %s:\n%s", s, got)
		}
	}
	if strings.Contains(got, "10.90.0.0/16") || strings.Contains(got, "/run/cni/") {
		t.Errorf("conflist keeps root's subnet or data directory:\n%s", got)
	}
	dir := t.TempDir()
	list, err := loadConflist(dir, DefaultName, raw)
	if err != nil || !strings.Contains(string(list.Bytes), "10.131.232.0/24") {
		t.Fatalf("loadConflist with a default of its own: %v", err)
	}
}
