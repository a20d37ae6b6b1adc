package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podrun/podrun/translate"
)

// fakePlugins makes a directory with an executable for each name.
func fakePlugins(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var allPlugins = []string{"bridge", "host-local", "portmap", "firewall", "loopback"}

func TestDefaultConflist(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal(DefaultConflist(), &got); err != nil {
		t.Fatalf("the default conflist is not JSON: %v", err)
	}
	want := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "podrun",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": "podrun0",
				"isGateway": true, "ipMasq": true, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  []any{[]any{map[string]any{"subnet": "10.90.0.0/16"}}},
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"dataDir": "/run/cni/podrun-ipam",
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}, "snat": true},
			map[string]any{"type": "firewall"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default conflist (-want +got):\n%s", diff)
	}
}

func TestOpenWritesDefaultOnFirstUse(t *testing.T) {
	conf := t.TempDir()
	n, err := Open(Config{Name: "podrun", ConfDir: conf, PluginDirs: []string{fakePlugins(t, allPlugins...)}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if n.Name() != "podrun" {
		t.Errorf("Name() = %q", n.Name())
	}
	got, err := os.ReadFile(filepath.Join(conf, DefaultConflistFile))
	if err != nil {
		t.Fatalf("the default conflist was not written: %v", err)
	}
	if string(got) != string(DefaultConflist()) {
		t.Errorf("written conflist differs from DefaultConflist:\n%s", got)
	}
	entries, _ := os.ReadDir(conf)
	if len(entries) != 1 {
		t.Errorf("ConfDir holds %d entries, want only the conflist", len(entries))
	}
	// A second Open reads what is there, even if a user edited it.
	edited := strings.Replace(string(got), "10.90.0.0/16", "10.91.0.0/16", 1)
	os.WriteFile(filepath.Join(conf, DefaultConflistFile), []byte(edited), 0o644)
	n, err = Open(Config{Name: "podrun", ConfDir: conf, PluginDirs: []string{fakePlugins(t, allPlugins...)}})
	if err != nil || !strings.Contains(string(n.list.Bytes), "10.91.0.0/16") {
		t.Errorf("second Open: err %v, did not keep the edited conflist", err)
	}
}

func TestOpenMissingPlugin(t *testing.T) {
	plugins := fakePlugins(t, "bridge", "host-local", "portmap", "loopback")
	_, err := Open(Config{ConfDir: t.TempDir(), PluginDirs: []string{plugins}})
	if !errors.Is(err, ErrPluginMissing) {
		t.Fatalf("Open = %v, want ErrPluginMissing", err)
	}
	for _, want := range []string{`"firewall"`, plugins, "containernetworking-plugins (make deps)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestOpenUnknownNetwork(t *testing.T) {
	conf := t.TempDir()
	for _, name := range []string{"alpha", "beta"} {
		list := `{"cniVersion":"1.0.0","name":"` + name + `","plugins":[{"type":"bridge"}]}`
		os.WriteFile(filepath.Join(conf, name+".conflist"), []byte(list), 0o644)
	}
	_, err := Open(Config{Name: "gamma", ConfDir: conf, PluginDirs: []string{fakePlugins(t, allPlugins...)}})
	if !errors.Is(err, ErrUnknownNetwork) {
		t.Fatalf("Open = %v, want ErrUnknownNetwork", err)
	}
	for _, want := range []string{`"gamma"`, conf, "alpha, beta"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(conf, DefaultConflistFile)); err == nil {
		t.Errorf("Open wrote the default conflist for another network")
	}
}

func TestPortMappings(t *testing.T) {
	b, _ := json.Marshal(portMappings([]translate.Port{
		{HostPort: 8080, ContainerPort: 80},
		{HostPort: 53, ContainerPort: 53, Protocol: "UDP", HostIP: "127.0.0.1"},
	}))
	want := `[{"hostPort":8080,"containerPort":80,"protocol":"tcp"},{"hostPort":53,"containerPort":53,"protocol":"udp","hostIP":"127.0.0.1"}]`
	if string(b) != want {
		t.Errorf("portMappings =\n%s\nwant\n%s", b, want)
	}
}

func TestCheckPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := int32(l.Addr().(*net.TCPAddr).Port)
	for _, hostIP := range []string{"", "127.0.0.1"} {
		err := checkPorts([]translate.Port{{HostPort: port, ContainerPort: 80, Protocol: "tcp", HostIP: hostIP}})
		if !errors.Is(err, ErrPortInUse) {
			t.Fatalf("hostIP %q: checkPorts = %v, want ErrPortInUse", hostIP, err)
		}
		var pe *PortError
		if !errors.As(err, &pe) || pe.Port.HostPort != port || pe.Port.HostIP != hostIP {
			t.Errorf("hostIP %q: error %v does not say which port", hostIP, err)
		}
		want := fmt.Sprintf("hostPort in use: %d/TCP is held by another process on this machine: free it or choose another hostPort", port)
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// The same port over UDP is free.
	if err := checkPorts([]translate.Port{{HostPort: port, ContainerPort: 80, Protocol: "udp"}}); err != nil {
		t.Errorf("udp: checkPorts = %v", err)
	}
}

func TestRulesWithComment(t *testing.T) {
	save := `*nat
:POSTROUTING ACCEPT [0:0]
:CNI-aaa - [0:0]
:CNI-bbb - [0:0]
-A POSTROUTING -s 10.211.1.2/32 -m comment --comment "name: \"net\" id: \"pod1\"" -j CNI-aaa
-A POSTROUTING -s 10.211.1.3/32 -m comment --comment "name: \"net\" id: \"pod10\"" -j CNI-bbb
-A CNI-aaa -d 10.211.1.0/24 -m comment --comment "name: \"net\" id: \"pod1\"" -j ACCEPT
-A CNI-aaa ! -d 224.0.0.0/4 -m comment --comment "name: \"net\" id: \"pod1\"" -j MASQUERADE
-A CNI-bbb ! -d 224.0.0.0/4 -m comment --comment "name: \"net\" id: \"pod10\"" -j MASQUERADE
COMMIT
`
	rules, chains := rulesWithComment(save, `name: "net" id: "pod1"`)
	want := [][]string{
		{"-A", "POSTROUTING", "-s", "10.211.1.2/32", "-m", "comment", "--comment", `name: "net" id: "pod1"`, "-j", "CNI-aaa"},
		{"-A", "CNI-aaa", "-d", "10.211.1.0/24", "-m", "comment", "--comment", `name: "net" id: "pod1"`, "-j", "ACCEPT"},
		{"-A", "CNI-aaa", "!", "-d", "224.0.0.0/4", "-m", "comment", "--comment", `name: "net" id: "pod1"`, "-j", "MASQUERADE"},
	}
	if diff := cmp.Diff(want, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CNI-aaa"}, chains); diff != "" {
		t.Errorf("chains (-want +got):\n%s", diff)
	}
}

func TestInjectPrevResult(t *testing.T) {
	prev := json.RawMessage(`{"cniVersion":"1.0.0","ips":[]}`)
	got := injectPrevResult([]byte(`{"type":"firewall"}`), prev)
	if string(got) != `{"prevResult":{"cniVersion":"1.0.0","ips":[]},"type":"firewall"}` {
		t.Errorf("injected: %s", got)
	}
	has := []byte(`{"prevResult":{"cniVersion":"1.0.0"},"type":"firewall"}`)
	if got := injectPrevResult(has, prev); string(got) != string(has) {
		t.Errorf("replaced libcni's prevResult: %s", got)
	}
	if got := injectPrevResult([]byte(`{"type":"x"}`), nil); string(got) != `{"type":"x"}` {
		t.Errorf("injected nothing as: %s", got)
	}
}
