package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// DefaultResolvConf is the host resolver configuration read when
// Config.ResolvConf is empty, as the kubelet's --resolv-conf default.
const DefaultResolvConf = "/etc/resolv.conf"

// clusterDNSIP is the cluster DNS address of the service range in use
// under the run root (the one its Services were stored with, else the
// configured one).
func (r *Runner) clusterDNSIP() (string, error) {
	cidr, err := r.ServiceCIDR()
	if err != nil {
		return "", err
	}
	return kube.ClusterDNSIP(cidr).String(), nil
}

// hostDNS replaces the host facts' resolver configuration with that of
// Config.ResolvConf, and names the cluster DNS address, as a kubelet's
// --resolv-conf and --cluster-dns do.
func (r *Runner) hostDNS(facts *translate.Host) error {
	data, err := os.ReadFile(r.cfg.ResolvConf)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading the host's resolver configuration %s (--resolv-conf): %w", r.cfg.ResolvConf, err)
	}
	dnsIP, err := r.clusterDNSIP()
	if err != nil {
		return err
	}
	facts.ResolvConf = data
	facts.ClusterDNS = []string{dnsIP}
	return nil
}

// podDNS is what the pod's monitor needs to serve cluster DNS, for a pod
// whose resolver is the cluster's; nil for others.
func (r *Runner) podDNS(pod *corev1.Pod) (*state.DNS, error) {
	if !translate.ClusterDNS(&pod.Spec) {
		return nil, nil
	}
	addr, err := r.clusterDNSIP()
	if err != nil {
		return nil, err
	}
	return &state.DNS{
		Addr:       addr,
		Objects:    filepath.Join(r.cfg.RunRoot, "objects"),
		ResolvConf: r.cfg.ResolvConf,
	}, nil
}
