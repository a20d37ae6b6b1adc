package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/libcni"

	"github.com/podrun/podrun/runner/state"
)

// DefaultName is the network Open writes on first use.
const DefaultName = "podrun"

// DefaultConflistFile is where, under Config.ConfDir, the default network
// is written.
const DefaultConflistFile = "87-podrun.conflist"

// defaultConflist is the "podrun" network: bridge podrun0 as the pods'
// gateway, masquerading their traffic out; host-local addresses from
// 10.90.0.0/16 kept under /run (so a reboot, which ends every pod, frees
// them); portmap for hostPort, with snat so that 127.0.0.1:hostPort on the
// host reaches the pod; firewall to let the bridge's traffic through a
// host whose FORWARD policy drops.
const defaultConflist = `{
  "cniVersion": "1.0.0",
  "name": "podrun",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "podrun0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "10.90.0.0/16"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "/run/cni/podrun-ipam"
      }
    },
    {
      "type": "portmap",
      "capabilities": {"portMappings": true},
      "snat": true
    },
    {
      "type": "firewall"
    }
  ]
}
`

// loopbackConf brings lo up in the pod's namespace, run on its own as CRI
// runtimes do, so that any conflist gets a working loopback.
const loopbackConf = `{"cniVersion": "1.0.0", "name": "cni-loopback", "type": "loopback"}`

// DefaultConflist returns the content of the default "podrun" conflist.
func DefaultConflist() []byte { return []byte(defaultConflist) }

// DefaultConflistFor is the default "podrun" conflist with another
// subnet and host-local data directory: a rootless user's, whose bridge
// lives in the user's own network namespace and whose addresses are
// kept under the user's run root.
func DefaultConflistFor(subnet, ipamDir string) []byte {
	s := strings.Replace(defaultConflist, `"10.90.0.0/16"`, strconv.Quote(subnet), 1)
	return []byte(strings.Replace(s, `"/run/cni/podrun-ipam"`, strconv.Quote(ipamDir), 1))
}

// loadConflist finds the conflist named name in dir, writing the default
// one (def, or DefaultConflist) first if that is the one asked for and
// there is none.
func loadConflist(dir, name string, def []byte) (*libcni.NetworkConfigList, error) {
	list, err := findConflist(dir, name)
	if err == nil || !errors.Is(err, ErrUnknownNetwork) || name != DefaultName {
		return list, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("writing the default network: %w", err)
	}
	if def == nil {
		def = DefaultConflist()
	}
	if err := state.WriteFile(filepath.Join(dir, DefaultConflistFile), def, 0o644); err != nil {
		return nil, fmt.Errorf("writing the default network: %w", err)
	}
	return findConflist(dir, name)
}

// findConflist returns the first conflist in dir, in name order, whose
// "name" is name. Its absence is ErrUnknownNetwork, listing what is there.
func findConflist(dir, name string) (*libcni.NetworkConfigList, error) {
	files, err := libcni.ConfFiles(dir, []string{".conflist"})
	if err != nil {
		return nil, fmt.Errorf("listing CNI networks in %s: %w", dir, err)
	}
	sort.Strings(files)
	var names []string
	for _, f := range files {
		list, err := libcni.NetworkConfFromFile(f)
		if err != nil {
			return nil, fmt.Errorf("loading CNI network %s: %w", f, err)
		}
		if list.Name == name {
			return list, nil
		}
		names = append(names, list.Name)
	}
	found := "none"
	if len(names) > 0 {
		found = strings.Join(names, ", ")
	}
	return nil, fmt.Errorf("%w %q: the networks in %s are: %s", ErrUnknownNetwork, name, dir, found)
}

// checkPlugins makes sure each plugin type in list, their IPAM plugins and
// loopback have a binary in dirs.
func checkPlugins(list *libcni.NetworkConfigList, dirs []string) error {
	types := []string{"loopback"}
	for _, p := range list.Plugins {
		types = append(types, p.Network.Type)
		if p.Network.IPAM.Type != "" {
			types = append(types, p.Network.IPAM.Type)
		}
	}
	for _, t := range types {
		if !pluginExists(t, dirs) {
			return fmt.Errorf("%w: %q is not in %s: install Debian's containernetworking-plugins (make deps)",
				ErrPluginMissing, t, strings.Join(dirs, ", "))
		}
	}
	return nil
}

// pluginExists reports whether an executable named typ is in one of dirs.
func pluginExists(typ string, dirs []string) bool {
	if typ == "" || strings.ContainsRune(typ, '/') {
		return false
	}
	for _, d := range dirs {
		fi, err := os.Stat(filepath.Join(d, typ))
		if err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}
