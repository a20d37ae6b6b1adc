package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/rootless"
	"github.com/podrun/podrun/runner/runtime"
)

// globals are the flags every verb shares.
type globals struct {
	root, runRoot string
	runtime       string
	network       string
	cniConfDir    string
	cniPluginDirs string
	namespace     string
	logLevel      string
	insecure      []string
	serviceCIDR   string
	publish       string
	resolvConf    string
	hostLoopback  bool
	// progress, set by verbs that pull on a terminal, shows image pulls.
	progress func(image.Progress)
}

func newRootCommand() *cobra.Command {
	g := &globals{}
	cmd := &cobra.Command{
		Use:   "podrun",
		Short: "Run Kubernetes manifests on this machine, with runc and CNI, no daemon",
		Long: `podrun reads Kubernetes manifests, turns every pod into OCI bundles whose
containers share an infra container's namespaces, and runs them with runc
(or crun) and CNI networking. There is no cluster, API server or daemon:
each pod is supervised by a small monitor process of its own.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: g.preRun,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&g.root, "root", "/var/lib/podrun", "directory for images and other data that survive reboots")
	f.StringVar(&g.runRoot, "run-root", "/run/podrun", "directory for pods, bundles, logs and locks")
	f.StringVar(&g.runtime, "runtime", "", "OCI runtime binary: runc, crun or a path (default: podrun's own runc, "+runtime.Bundled+", where `make deps` installed it; else runc from $PATH)")
	f.StringVar(&g.network, "network", "podrun", "CNI network for pods (written on first use if it is \"podrun\")")
	f.StringVar(&g.cniConfDir, "cni-config-dir", "/etc/cni/net.d", "directory of CNI network configurations")
	f.StringVar(&g.cniPluginDirs, "cni-plugin-dir", "/usr/lib/cni:/opt/cni/bin", "directories of CNI plugins, colon-separated")
	f.StringVarP(&g.namespace, "namespace", "n", "", "namespace (default \"default\")")
	f.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	f.StringVar(&g.serviceCIDR, "service-cidr", kube.DefaultServiceCIDR, "range Services get their ClusterIPs from; the cluster DNS address is its tenth")
	f.StringVar(&g.resolvConf, "resolv-conf", runner.DefaultResolvConf, "the host's resolver configuration: Default pods get it, ClusterFirst pods its search domains, and the cluster DNS forwards to its nameservers")
	f.StringVar(&g.publish, "publish-address", "", "address NodePort and LoadBalancer Services are published on, 0.0.0.0 for every address (default 127.0.0.1; fixed while Services exist)")
	f.BoolVar(&g.hostLoopback, "rootless-host-loopback", false, "rootless: let pods reach the host's loopback services at 10.0.2.2 (set by the first pod's command)")
	f.StringArrayVar(&g.insecure, "insecure-registry", nil, "registry (HOST or HOST:PORT) that may be reached over plain HTTP; loopback always may (repeatable)")

	cmd.AddCommand(
		newApplyCommand(g),
		newDeleteCommand(g),
		newGetCommand(g),
		newLogsCommand(g),
		newRenderCommand(g),
		newImageCommand(g),
		newVolumeCommand(g),
		newDescribeCommand(g),
		newExecCommand(g),
		newWaitCommand(g),
		newUpCommand(g),
		newVersionCommand(g),
		newMonitorCommand(g),
		newSuperviseCommand(g),
		newScaleCommand(g),
		newRolloutCommand(g),
		newCreateCommand(g),
		newPortForwardCommand(g),
		newUnshareCommand(),
		newInfoCommand(g),
		newHolderCommand(),
	)
	g.rootlessDefaults(cmd)
	if testWorkloads() {
		cmd.AddCommand(newTestWorkloadCommand(g))
	}
	return cmd
}

// runner opens the runner the flags describe. Rootless, it first
// publishes the hostPorts of running pods again if the holder's uplink is
// new (a holder that crashed took its forwards).
func (g *globals) runner() (*runner.Runner, error) {
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	r, err := runner.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := r.RepublishPorts(context.Background(), os.Getenv(rootless.EnvUplink)); err != nil {
		cfg.Log.Warn("the holder's uplink is new, and publishing the pods' hostPorts on it failed", "error", err)
	}
	return r, nil
}

// config is the runner's configuration that the global flags describe.
func (g *globals) config() (runner.Config, error) {
	self, err := os.Executable()
	if err != nil {
		return runner.Config{}, fmt.Errorf("finding the podrun binary: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return runner.Config{}, fmt.Errorf("finding the podrun binary: %w", err)
	}
	progress := g.progress
	if progress == nil {
		// Apply pulls on a terminal show their progress there.
		progress, _ = newProgress(os.Stderr)
	}
	netCfg := network.Config{
		Name:       g.network,
		ConfDir:    g.cniConfDir,
		PluginDirs: filepath.SplitList(g.cniPluginDirs),
	}
	g.rootlessNetwork(&netCfg)
	return runner.Config{
		Root:           g.root,
		RunRoot:        g.runRoot,
		Runtime:        g.runtime,
		Network:        netCfg,
		Self:           self,
		Log:            g.logger(),
		Pull:           image.PullOptions{Insecure: g.insecure, Progress: progress},
		ServiceCIDR:    g.serviceCIDR,
		PublishAddress: g.publish,
		ResolvConf:     g.resolvConf,
		PortDriver:     portDriver(),
	}, nil
}

// ns is the namespace to act in: the flag, or "default".
func (g *globals) ns() string {
	if g.namespace == "" {
		return "default"
	}
	return g.namespace
}

func (g *globals) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			if a.Key == slog.LevelKey && len(groups) == 0 {
				return slog.String(a.Key, strings.ToLower(a.Value.String()))
			}
			return a
		},
	}))
}

func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
