package main

import (
	"math"
	"testing"
)

func TestSplitRef(t *testing.T) {
	tests := []struct{ ref, repo, tag string }{
		{"docker.io/library/busybox:latest", "docker.io/library/busybox", "latest"},
		{"localhost/podrun/busybox:demo", "localhost/podrun/busybox", "demo"},
		{"localhost:5000/a/b:tag", "localhost:5000/a/b", "tag"},
		{"localhost:5000/a/b:1.2.3-rc.1", "localhost:5000/a/b", "1.2.3-rc.1"},
		{"localhost:5000/a/b", "localhost:5000/a/b", "<none>"},
		{"[::1]:5000/a:v1", "[::1]:5000/a", "v1"},
		{"busybox", "busybox", "<none>"},
		{"busybox:1.36", "busybox", "1.36"},
	}
	for _, tt := range tests {
		repo, tag := splitRef(tt.ref)
		if repo != tt.repo || tag != tt.tag {
			t.Errorf("splitRef(%q) = %q, %q; want %q, %q", tt.ref, repo, tag, tt.repo, tt.tag)
		}
	}
}

func TestShortDigest(t *testing.T) {
	const hex = "4b5a7d9e6f0c1d2e3f4a5b6c7d8e9f00112233445566778899aabbccddeeff00"
	tests := []struct{ in, want string }{
		{"sha256:" + hex, "4b5a7d9e6f0c"},
		{"sha512:" + hex + hex, "4b5a7d9e6f0c"},
		{"sha256:0123456789abc", "0123456789ab"}, // 13 digits: cut to 12
		{"sha256:abc", "sha256:abc"},             // too short to shorten
		{"no-algorithm", "no-algorithm"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := shortDigest(tt.in); got != tt.want {
			t.Errorf("shortDigest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{1024, "1.0 kB"},
		{1500, "1.5 kB"},
		{999_949, "999.9 kB"},
		{1_000_000, "1.0 MB"},
		{4_404_019, "4.4 MB"},
		{1_000_000_000, "1.0 GB"},
		{1_234_567_890_123, "1.2 TB"},
		{2_500_000_000_000_000, "2.5 PB"},
		{math.MaxInt64, "9.2 EB"},
	}
	for _, tt := range tests {
		if got := humanSize(tt.n); got != tt.want {
			t.Errorf("humanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
