package proxy

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/network"
)

// TestWithCNIPlugins runs the proxy beside the CNI plugins of podrun's
// default network (bridge with ipMasq and hairpin, portmap with snat,
// firewall), attached for real in the lab's node: their rules keep
// working (a hostPort), the proxy's work around them (the firewall
// plugin's ACCEPT comes first on its first ADD), and Teardown gives the
// tables back as the plugins left them.
func TestWithCNIPlugins(t *testing.T) {
	t.Parallel()
	l := newLab(t, 0)
	for _, plugin := range []string{"bridge", "host-local", "portmap", "firewall"} {
		if _, err := os.Stat("/usr/lib/cni/" + plugin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the CNI plugin %s is missing (make deps), and CI=true", plugin)
			}
			t.Skipf("the CNI plugin %s is missing: make deps", plugin)
		}
	}
	conf := strings.NewReplacer(`"podrun0"`, `"pxbr0"`, `10.90.0.0/16`, `10.201.0.0/24`,
		`/run/cni/podrun-ipam`, t.TempDir()).Replace(string(network.DefaultConflist()))
	list, err := libcni.ConfListFromBytes([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{"/usr/lib/cni"}, t.TempDir(), nil)
	for i := range 2 {
		pod := fmt.Sprintf("%s-cni%d", l.node, i)
		ip(t, "netns", "add", pod)
		rt := &libcni.RuntimeConf{ContainerID: fmt.Sprintf("px%d", i), NetNS: "/run/netns/" + pod, IfName: "eth0"}
		if i == 0 {
			rt.CapabilityArgs = map[string]any{"portMappings": []map[string]any{
				{"hostPort": 18080, "containerPort": 8080, "protocol": "tcp", "hostIP": "127.0.0.1"}}}
		}
		var res *current.Result
		err := in(l.node, func() error {
			r, err := cni.AddNetworkList(context.Background(), list, rt)
			if err != nil {
				return err
			}
			res, err = current.NewResultFromResult(r)
			return err
		})
		if err != nil {
			t.Fatalf("CNI ADD of pod %d: %v", i, err)
		}
		t.Cleanup(func() {
			_ = in(l.node, func() error { return cni.DelNetworkList(context.Background(), list, rt) })
			_ = exec.Command("ip", "netns", "del", pod).Run()
		})
		addr, _ := netip.AddrFromSlice(res.IPs[0].Address.IP.To4())
		l.pods = append(l.pods, pod)
		l.ips = append(l.ips, addr)
		l.serve(t, i)
	}
	afterCNI := l.tables(t)

	p := l.proxy(t, Config{})
	np := service("np", "10.96.0.50", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080})
	p.sync(t, svcSet{}.with(l.web("web", "10.96.0.20", "0", "1")).
		with(np, slice("np", "http", corev1.ProtocolTCP, 8080, l.ips[1].String())))

	if seen := responders(t, l.pods[1], "10.96.0.20:80", 30); len(seen) != 2 {
		t.Errorf("through the ClusterIP from a pod: reached %v, want both pods", seen)
	}
	if who, err := fetch(l.pods[0], "10.96.0.20:80"); err != nil || (who != "pod0" && who != "pod1") {
		t.Errorf("hairpin or not, pod0 through the ClusterIP: %q, %v", who, err)
	}
	for addr, want := range map[string]string{"127.0.0.1:18080": "pod0", "127.0.0.1:30080": "pod1"} {
		if who, err := fetch(l.node, addr); err != nil || who != want {
			t.Errorf("from the node to %s: got %q, %v; want %s", addr, who, err, want)
		}
	}
	before := l.uplinkPackets(t)
	refusedAtOnce(t, l.pods[0], "10.96.0.99:80")
	if after := l.uplinkPackets(t); after != before {
		t.Errorf("%d packets to the service range left through the uplink", after-before)
	}
	p.teardown(t)
	if d := cmp.Diff(afterCNI, l.tables(t)); d != "" {
		t.Errorf("tables after Teardown differ from the plugins' (-plugins +after):\n%s", d)
	}
	if who, err := fetch(l.node, "127.0.0.1:18080"); err != nil || who != "pod0" {
		t.Errorf("the hostPort after Teardown: got %q, %v; want pod0", who, err)
	}
}
