package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/objects"
)

func newPortForwardCommand(g *globals) *cobra.Command {
	var addresses []string
	cmd := &cobra.Command{
		Use:   "port-forward TYPE/NAME [LOCAL:]REMOTE...",
		Short: "Forward local ports to a pod's ports, reached from inside the pod, as kubectl port-forward",
		Long: `port-forward listens on local ports and connects each connection to a port
of a pod from inside the pod's network namespace, so that a server
listening on the pod's loopback only is reached. TYPE/NAME is a pod (pod/NAME
or NAME), or a deployment, replicaset, statefulset or service whose selector
picks a running pod; a service's port is mapped to its targetPort. :REMOTE
picks a free local port. It runs until Ctrl-C, or until the pod goes.`,
		Example: `  podrun port-forward pod/web 8080:80
  podrun port-forward deployment/web :80
  podrun port-forward svc/web 8080:http --address 0.0.0.0`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			ctx := contextOf(cmd)
			pod, ports, err := forwardTarget(ctx, r, g.ns(), args[0], args[1:])
			if err != nil {
				return err
			}
			return forward(ctx, cmd, r, pod, ports, addresses)
		},
	}
	cmd.Flags().StringSliceVar(&addresses, "address", []string{"127.0.0.1"}, "addresses to listen on (comma-separated); localhost is 127.0.0.1")
	return cmd
}

// forwardPort is one LOCAL:REMOTE, REMOTE resolved to the pod's port.
type forwardPort struct {
	local  int
	remote int32
}

// forwardTarget is the pod TYPE/NAME names and the ports specs ask for,
// a service's ports mapped to its targetPorts.
func forwardTarget(ctx context.Context, r *runner.Runner, ns, target string, specs []string) (*corev1.Pod, []forwardPort, error) {
	kind, name, ok := strings.Cut(target, "/")
	if !ok {
		kind, name = "pod", target
	}
	var svc *corev1.Service
	var pod *corev1.Pod
	var err error
	switch {
	case isPodKind(kind):
		if pod, err = r.Get(ctx, ns, name); err != nil {
			return nil, nil, err
		}
	case kind == "service" || kind == "services" || kind == "svc":
		svc, err = r.Objects().Services.Get(ns, name)
		if errors.Is(err, objects.ErrNotFound) {
			return nil, nil, fmt.Errorf("services %q not found in namespace %s", name, ns)
		}
		if err != nil {
			return nil, nil, err
		}
		if len(svc.Spec.Selector) == 0 {
			return nil, nil, fmt.Errorf("service %s has no selector: it picks no pod to forward to", name)
		}
		pod, err = pickPod(ctx, r, ns, k8slabels.SelectorFromSet(svc.Spec.Selector), target)
	default:
		res := findWorkloadResource(kind)
		if res == nil || (res.kind != "deployment" && res.kind != "replicaset" && res.kind != "statefulset") {
			return nil, nil, fmt.Errorf("cannot forward to %q: give pod/NAME, deployment/NAME, replicaset/NAME, statefulset/NAME or service/NAME", target)
		}
		pod, err = forwardWorkloadPod(ctx, r, res, ns, name, target)
	}
	if err != nil {
		return nil, nil, err
	}
	var ports []forwardPort
	for _, s := range specs {
		p, err := parseForwardPort(s, pod, svc)
		if err != nil {
			return nil, nil, err
		}
		ports = append(ports, p)
	}
	return pod, ports, nil
}

// forwardWorkloadPod is a running pod of a workload, picked by its selector.
func forwardWorkloadPod(ctx context.Context, r *runner.Runner, res *workloadResource, ns, name, target string) (*corev1.Pod, error) {
	w, err := r.GetWorkload(res.kind, ns, name)
	if errors.Is(err, runner.ErrWorkloadNotFound) {
		return nil, fmt.Errorf("%s.%s %q not found in namespace %s", res.plural, res.apiGroup, name, ns)
	}
	if err != nil {
		return nil, err
	}
	var obj struct {
		Spec struct {
			Selector *metav1.LabelSelector `json:"selector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(w.Object, &obj); err != nil {
		return nil, fmt.Errorf("reading %s: %w", target, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(obj.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("the selector of %s: %w", target, err)
	}
	return pickPod(ctx, r, ns, sel, target)
}

// pickPod is a running pod sel matches, a ready one first, the oldest of
// those, as kubectl picks one.
func pickPod(ctx context.Context, r *runner.Runner, ns string, sel k8slabels.Selector, target string) (*corev1.Pod, error) {
	pods, err := r.List(ctx, ns)
	if err != nil {
		return nil, err
	}
	pods = slices.DeleteFunc(pods, func(p corev1.Pod) bool {
		return p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || !sel.Matches(k8slabels.Set(p.Labels))
	})
	if len(pods) == 0 {
		return nil, fmt.Errorf("no running pod for %s: see podrun get pods", target)
	}
	ready := func(p *corev1.Pod) bool {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	}
	slices.SortStableFunc(pods, func(a, b corev1.Pod) int {
		if ra, rb := ready(&a), ready(&b); ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	})
	return &pods[0], nil
}

// parseForwardPort reads [LOCAL:]REMOTE: REMOTE is a port number or the
// name of a container port, or of a service port when svc is given, which
// maps to its targetPort; LOCAL empty (":80") is a free port, absent the
// same as REMOTE.
func parseForwardPort(spec string, pod *corev1.Pod, svc *corev1.Service) (forwardPort, error) {
	local, remote, hasLocal := strings.Cut(spec, ":")
	if !hasLocal {
		local, remote = "", spec
	}
	bad := func(why string) (forwardPort, error) {
		return forwardPort{}, fmt.Errorf("port %q: %s: give [LOCAL:]REMOTE, as 8080:80 or :80", spec, why)
	}
	var fp forwardPort
	port := intstr.Parse(remote)
	if svc != nil {
		target, err := serviceTarget(svc, port)
		if err != nil {
			return fp, err
		}
		port = target
	}
	if port.Type == intstr.String {
		n, ok := containerPort(pod, port.StrVal)
		if !ok {
			return bad(fmt.Sprintf("pod %s has no container port named %q", pod.Name, port.StrVal))
		}
		port = intstr.FromInt32(n)
	}
	if port.IntVal < 1 || port.IntVal > 65535 {
		return bad("the remote port must be 1 to 65535")
	}
	fp.remote = port.IntVal
	switch {
	case hasLocal && local == "":
		fp.local = 0
	case !hasLocal:
		if port := intstr.Parse(remote); port.Type == intstr.Int {
			fp.local = int(port.IntVal)
		} else {
			fp.local = int(fp.remote)
		}
	default:
		n, err := strconv.Atoi(local)
		if err != nil || n < 0 || n > 65535 {
			return bad("the local port must be 0 to 65535")
		}
		fp.local = n
	}
	return fp, nil
}

// serviceTarget is the targetPort of svc's port named or numbered port.
func serviceTarget(svc *corev1.Service, port intstr.IntOrString) (intstr.IntOrString, error) {
	for _, sp := range svc.Spec.Ports {
		if (port.Type == intstr.Int && sp.Port == port.IntVal) || (port.Type == intstr.String && sp.Name == port.StrVal) {
			if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
				return port, fmt.Errorf("service %s port %s is %s: port-forward forwards TCP only", svc.Name, port.String(), sp.Protocol)
			}
			if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal == 0 || sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal == "" {
				return intstr.FromInt32(sp.Port), nil
			}
			return sp.TargetPort, nil
		}
	}
	return port, fmt.Errorf("service %s does not have a service port %s", svc.Name, port.String())
}

func containerPort(pod *corev1.Pod, name string) (int32, bool) {
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// forward listens on each address and port and forwards each connection
// to the pod, until ctx ends or the pod goes; every listener and
// connection is closed before it returns.
func forward(ctx context.Context, cmd *cobra.Command, r *runner.Runner, pod *corev1.Pod, ports []forwardPort, addresses []string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	out := cmd.OutOrStdout()
	for _, p := range ports {
		for _, a := range addresses {
			if a == "localhost" {
				a = "127.0.0.1"
			}
			l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(p.local)))
			if err != nil {
				return fmt.Errorf("listening on %s port %d: %w (is the port taken? pick another, or :%d for a free one)", a, p.local, err, p.remote)
			}
			listeners = append(listeners, l)
			fmt.Fprintf(out, "Forwarding from %s -> %d\n", l.Addr(), p.remote)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises the lines printed
	for i, l := range listeners {
		remote := ports[i/len(addresses)].remote
		wg.Add(1)
		go func() {
			defer wg.Done()
			accept(ctx, l, func(c net.Conn) {
				mu.Lock()
				fmt.Fprintf(out, "Handling connection for %d\n", l.Addr().(*net.TCPAddr).Port)
				mu.Unlock()
				if err := pipeToPod(ctx, r, pod, remote, c); err != nil {
					mu.Lock()
					fmt.Fprintf(cmd.ErrOrStderr(), "error forwarding port %d to pod %s: %v\n", remote, pod.Name, err)
					mu.Unlock()
				}
			})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchPodGone(ctx, cancel, r, pod)
	}()
	<-ctx.Done()
	for _, l := range listeners {
		l.Close()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// accept serves each connection of l with serve until l is closed, and
// waits for them.
func accept(ctx context.Context, l net.Listener, serve func(net.Conn)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := context.AfterFunc(ctx, func() { c.Close() })
			defer stop()
			defer c.Close()
			serve(c)
		}()
	}
}

// pipeToPod copies c to the pod's port and back until either side ends.
func pipeToPod(ctx context.Context, r *runner.Runner, pod *corev1.Pod, port int32, c net.Conn) error {
	p, err := r.DialPod(ctx, pod.Namespace, pod.Name, port)
	if err != nil {
		return err
	}
	defer p.Close()
	stop := context.AfterFunc(ctx, func() { p.Close() })
	defer stop()
	done := make(chan struct{}, 2)
	half := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go half(p, c)
	go half(c, p)
	<-done
	<-done
	return nil
}

// watchPodGone ends the forwarding with an error once the pod is gone,
// replaced (another UID) or no longer running.
func watchPodGone(ctx context.Context, cancel context.CancelCauseFunc, r *runner.Runner, pod *corev1.Pod) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p, err := r.Get(ctx, pod.Namespace, pod.Name)
		switch {
		case errors.Is(err, runner.ErrPodNotFound) || (err == nil && p.UID != pod.UID):
			cancel(fmt.Errorf("lost connection to pod %s: it was deleted", pod.Name))
			return
		case err == nil && (p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil):
			cancel(fmt.Errorf("lost connection to pod %s: it is %s", pod.Name, podStatusReason(p)))
			return
		}
	}
}
