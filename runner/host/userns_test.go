package host

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadUserNS(t *testing.T) {
	tests := []struct {
		name    string
		uidMap  string
		nested  bool
		in, out uint32
		mapped  bool
		wantErr bool
	}{
		{"initial", "         0          0 4294967295\n", false, 1000, 1000, true, false},
		{"holder", "0 1001 1\n1 100000 65536\n", true, 1000, 100999, true, false},
		{"root only", "0 1001 1\n", true, 5, 0, false, false},
		{"bad", "0 1001\n", false, 0, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"uid_map", "gid_map"} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(tt.uidMap), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			u, err := readUserNS(dir)
			if (err != nil) != tt.wantErr {
				t.Fatalf("readUserNS: err %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if u.Nested != tt.nested {
				t.Errorf("Nested = %v, want %v", u.Nested, tt.nested)
			}
			out, ok := u.UID.ToHost(tt.in)
			if ok != tt.mapped || out != tt.out {
				t.Errorf("ToHost(%d) = %d, %v; want %d, %v", tt.in, out, ok, tt.out, tt.mapped)
			}
		})
	}
}

func TestInUserNSHere(t *testing.T) {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		t.Skip(err)
	}
	m, err := ParseIDMap(data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := InUserNS(), !m.IsInitial(); got != want {
		t.Errorf("InUserNS() = %v, but uid_map %q says %v", got, data, want)
	}
}
