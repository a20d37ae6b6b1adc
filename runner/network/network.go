package network

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

// Config says which CNI network to use and where things are. Empty fields
// take the defaults named beside them.
type Config struct {
	Name       string   // network (conflist) name, default "podrun", written on first use
	ConfDir    string   // where conflists live, default /etc/cni/net.d
	PluginDirs []string // default /usr/lib/cni, /opt/cni/bin
	CacheDir   string   // libcni's cache, under the run root; default /run/podrun/cni
	LockFile   string   // serialises CNI calls, under the run root; default /run/podrun/cni.lock
	// Default is the conflist written for Name "podrun" on first use;
	// nil is DefaultConflist (root's). Rootless users get their own.
	Default []byte
	Logger  *slog.Logger // receives plugins' stderr at debug level; default discards
}

// withDefaults fills cfg's empty fields.
func (cfg Config) withDefaults() Config {
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.ConfDir == "" {
		cfg.ConfDir = "/etc/cni/net.d"
	}
	if len(cfg.PluginDirs) == 0 {
		cfg.PluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = "/run/podrun/cni"
	}
	if cfg.LockFile == "" {
		cfg.LockFile = "/run/podrun/cni.lock"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Network is a loaded CNI network.
type Network struct {
	cfg      Config
	list     *libcni.NetworkConfigList
	loopback *libcni.PluginConfig
	cni      *libcni.CNIConfig
}

// Open loads the network named by cfg, writing the default "podrun"
// conflist (DefaultConflist) if that is the one asked for and it does not
// exist. An unknown name is ErrUnknownNetwork, listing the networks there
// are; a missing plugin binary is ErrPluginMissing, naming it and how to
// install it.
func Open(cfg Config) (*Network, error) {
	cfg = cfg.withDefaults()
	list, err := loadConflist(cfg.ConfDir, cfg.Name, cfg.Default)
	if err != nil {
		return nil, err
	}
	if err := checkPlugins(list, cfg.PluginDirs); err != nil {
		return nil, fmt.Errorf("opening network %q: %w", cfg.Name, err)
	}
	lo, err := libcni.NetworkPluginConfFromBytes([]byte(loopbackConf))
	if err != nil {
		return nil, fmt.Errorf("loading the loopback network: %w", err)
	}
	exec := prevExec{&invoke.DefaultExec{
		RawExec:       &invoke.RawExec{Stderr: logWriter{cfg.Logger}},
		PluginDecoder: version.PluginDecoder{},
	}}
	return &Network{
		cfg:      cfg,
		list:     list,
		loopback: lo,
		cni:      libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, cfg.CacheDir, exec),
	}, nil
}

// Name is the network's name.
func (n *Network) Name() string { return n.list.Name }

// Attachment is the outcome of Attach, kept in the pod's state and handed
// back to Detach.
type Attachment struct {
	IP      string          // the pod's IPv4 address
	Gateway string          // its default gateway, if the network has one
	Result  json.RawMessage // the CNI ADD result, verbatim
}

// logWriter hands what plugins write to stderr to a logger.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Debug("CNI plugin stderr", "output", string(bytes.TrimSpace(p)))
	return len(p), nil
}
