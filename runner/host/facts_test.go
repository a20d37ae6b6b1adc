package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPodInterface(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"podrun0", true},
		{"podrun-test3", true},
		{"veth1a2b3c4d", true},
		{"cni0", true},
		{"cni-podman0", true},
		{"prn3f2a1b", true},
		{"docker0", true},
		{"br-0123456789ab", true},
		{"eth0", false},
		{"ens3", false},
		{"enp0s31f6", false},
		{"wlan0", false},
		{"wlp2s0", false},
		{"lo", false},
		{"bond0", false},
		{"bridge0", false}, // "br" without the dash is a host bridge
		{"virbr0", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := podInterface(tt.name); got != tt.want {
			t.Errorf("podInterface(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFacts reads this machine: its name, and a bounding set and memory
// that any machine running the tests has.
func TestFacts(t *testing.T) {
	f, err := Facts()
	if err != nil {
		t.Fatal(err)
	}
	name, _ := os.Hostname()
	if f.NodeName != name || f.HostIP == "" || len(f.Capabilities) == 0 {
		t.Errorf("Facts: node %q (want %q), IP %q, %d capabilities", f.NodeName, name, f.HostIP, len(f.Capabilities))
	}
	if mem := f.Allocatable[corev1.ResourceMemory]; mem.IsZero() {
		t.Errorf("Facts: no allocatable memory in %v", f.Allocatable)
	}
}

// TestDevices lists /dev as a privileged container gets it: /dev/null is
// char 1:3, and the container's own pts are left out.
func TestDevices(t *testing.T) {
	devs, err := Devices("/dev")
	if err != nil {
		t.Fatal(err)
	}
	var null bool
	for _, d := range devs {
		if d.Path == "/dev/null" {
			null = d.Type == "c" && d.Major == 1 && d.Minor == 3
		}
		if strings.HasPrefix(d.Path, "/dev/pts/") {
			t.Errorf("Devices lists %s: pts are the container's own", d.Path)
		}
	}
	if !null {
		t.Errorf("Devices lists no /dev/null as char 1:3 among %d devices", len(devs))
	}
}

func TestAppArmorEnabled(t *testing.T) {
	tests := []struct {
		name    string
		enabled string // the module parameter; "" for no file
		fs      bool   // /sys/kernel/security/apparmor exists
		want    bool
	}{
		{"enabled", "Y\n", true, true},
		{"module says N", "N\n", true, false},
		{"no security file system", "Y\n", false, false},
		{"no module", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := t.TempDir()
			if tt.fs {
				if err := os.MkdirAll(filepath.Join(sys, "kernel/security/apparmor"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tt.enabled != "" {
				dir := filepath.Join(sys, "module/apparmor/parameters")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "enabled"), []byte(tt.enabled), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := appArmorEnabled(sys); got != tt.want {
				t.Errorf("appArmorEnabled = %v, want %v", got, tt.want)
			}
		})
	}
}
