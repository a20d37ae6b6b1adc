package runner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

func TestPodDNS(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 127.53.0.1\nsearch example.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Runner{cfg: Config{RunRoot: "/run/x", ServiceCIDR: "10.100.0.0/24", ResolvConf: conf}}
	want := &state.DNS{Addr: "10.100.0.10", Objects: "/run/x/objects", ResolvConf: conf}
	for _, tt := range []struct {
		policy  corev1.DNSPolicy
		hostNet bool
		want    *state.DNS
	}{
		{corev1.DNSClusterFirst, false, want},
		{"", false, want},
		{corev1.DNSClusterFirstWithHostNet, false, want},
		{corev1.DNSClusterFirstWithHostNet, true, nil},
		{corev1.DNSClusterFirst, true, nil},
		{corev1.DNSDefault, false, nil},
		{corev1.DNSNone, false, nil},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{DNSPolicy: tt.policy, HostNetwork: tt.hostNet}}
		got, err := r.podDNS(pod)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("policy %q hostNetwork %v (-want +got):\n%s", tt.policy, tt.hostNet, diff)
		}
	}
	var facts translate.Host
	if err := r.hostDNS(&facts); err != nil {
		t.Fatal(err)
	}
	if string(facts.ResolvConf) != "nameserver 127.53.0.1\nsearch example.test\n" || !cmp.Equal(facts.ClusterDNS, []string{"10.100.0.10"}) {
		t.Errorf("host facts: resolv.conf %q, cluster DNS %v; want --resolv-conf's and 10.100.0.10", facts.ResolvConf, facts.ClusterDNS)
	}
	r.cfg.ResolvConf = t.TempDir() // a directory: unreadable as a file
	if err := r.hostDNS(&facts); err == nil {
		t.Errorf("reading a directory as --resolv-conf succeeded")
	}
}
