package host

import "testing"

func TestParseMemTotal(t *testing.T) {
	tests := []struct {
		meminfo string
		want    int64 // -1: an error
	}{
		{"MemTotal:       16318488 kB\nMemFree:         1234 kB\n", 16318488 * 1024},
		{"MemFree:         1234 kB\nMemTotal: 2 kB\n", 2048},
		{"MemFree:         1234 kB\n", -1},
		{"MemTotal: lots kB\n", -1},
	}
	for _, tt := range tests {
		got, err := parseMemTotal([]byte(tt.meminfo))
		if (err != nil) != (tt.want == -1) || (err == nil && got != tt.want) {
			t.Errorf("parseMemTotal(%q) = %d, %v; want %d", tt.meminfo, got, err, tt.want)
		}
	}
}
