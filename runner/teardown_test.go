package runner

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountOptions(t *testing.T) {
	tests := []struct {
		opts      []string
		wantFlags uintptr
		wantData  string
	}{
		{nil, 0, ""},
		{[]string{"nosuid", "nodev", "noexec"}, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
		{[]string{"ro"}, unix.MS_RDONLY, ""},
		{[]string{"relatime"}, unix.MS_RELATIME, ""},
		{[]string{"strictatime"}, unix.MS_STRICTATIME, ""},
		{[]string{"mode=1777", "size=65536k"}, 0, "mode=1777,size=65536k"},
		{[]string{"nosuid", "mode=755", "nodev", "size=64m", "ro"}, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_RDONLY, "mode=755,size=64m"},
	}
	for _, tt := range tests {
		flags, data := mountOptions(tt.opts)
		if flags != tt.wantFlags || data != tt.wantData {
			t.Errorf("mountOptions(%q) = %#x, %q; want %#x, %q", tt.opts, flags, data, tt.wantFlags, tt.wantData)
		}
	}
}
