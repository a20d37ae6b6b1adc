package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// servicesYAML are a ClusterIP, a NodePort (its port given) and a
// LoadBalancer Service.
func servicesYAML(nodePort int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-np}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, nodePort: %d}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 443}]
`, nodePort)
}

// storedServices reads get svc -o json, by name.
func (e *env) storedServices() map[string]corev1.Service {
	e.t.Helper()
	var list struct{ Items []corev1.Service }
	if err := json.Unmarshal([]byte(e.must("get", "svc", "-o", "json")), &list); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]corev1.Service{}
	for _, s := range list.Items {
		out[s.Name] = s
	}
	return out
}

// TestServices: Services apply before the pod, which has their variables;
// get svc prints kubectl's columns; a re-apply keeps the addresses; a
// file whose Service wants a taken ClusterIP applies nothing; delete -f
// removes exactly the file's Services.
func TestServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	nodePort := e.nodePortBase + 1
	svcPath := e.manifest("svc.yaml", servicesYAML(nodePort))
	podPath := e.manifest("pod.yaml", podYAML("client", "  terminationGracePeriodSeconds: 1\n",
		container("c", "exec sleep 600", "")))
	out := e.must("apply", "-f", svcPath, "-f", podPath)
	if want := linesWith([]string{"service/web", "service/web-np", "service/web-lb", "pod/client"}, " created"); out != want {
		t.Errorf("apply printed\n%s\nwant\n%s", out, want)
	}

	svcs := e.storedServices()
	web, np, lb := svcs["web"], svcs["web-np"], svcs["web-lb"]
	lbNodePort := lb.Spec.Ports[0].NodePort
	if lbNodePort < 30000 || lbNodePort > 32767 {
		t.Errorf("LoadBalancer nodePort %d", lbNodePort)
	}
	table := e.must("get", "svc")
	rows := []string{
		`NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE`,
		fmt.Sprintf(`web\s+ClusterIP\s+%s\s+<none>\s+80/TCP\s+\d+s`, regexp.QuoteMeta(web.Spec.ClusterIP)),
		fmt.Sprintf(`web-lb\s+LoadBalancer\s+%s\s+127\.0\.0\.1\s+443:%d/TCP\s+\d+s`, regexp.QuoteMeta(lb.Spec.ClusterIP), lbNodePort),
		fmt.Sprintf(`web-np\s+NodePort\s+%s\s+<none>\s+80:%d/TCP\s+\d+s`, regexp.QuoteMeta(np.Spec.ClusterIP), nodePort),
	}
	if !regexp.MustCompile(`^` + strings.Join(rows, `\n`) + `\n$`).MatchString(table) {
		t.Errorf("get svc:\n%s", table)
	}
	for _, s := range []corev1.Service{web, np, lb} {
		if !strings.HasPrefix(s.Spec.ClusterIP, strings.TrimSuffix(e.serviceCIDR, "0/24")) {
			t.Errorf("%s: ClusterIP %q not of the test's range %s", s.Name, s.Spec.ClusterIP, e.serviceCIDR)
		}
	}

	// get all lists them with the other kinds, in the same columns.
	if all := e.must("get", "all"); !regexp.MustCompile(`(?m)^NAME\s+TYPE\s+CLUSTER-IP.*\nservice/web\s+ClusterIP\s+`+
		regexp.QuoteMeta(web.Spec.ClusterIP)+`\s+<none>\s+80/TCP`).MatchString(all) || !strings.Contains(all, "pod/client") {
		t.Errorf("get all:\n%s", all)
	}
	if wide := e.must("get", "svc", "web", "-o", "wide"); !regexp.MustCompile(`SELECTOR\n.*\s+app=web\n$`).MatchString(wide) {
		t.Errorf("get svc web -o wide:\n%s", wide)
	}
	if got := e.must("get", "svc", "-l", "tier=none", "-o", "name"); got != "" {
		t.Errorf("get svc -l matching none: %q", got)
	}

	// The pod started after the Services has their variables.
	envOut := e.must("exec", "client", "--", "env")
	wantLines(t, "the pod's env", envOut,
		"WEB_SERVICE_HOST="+web.Spec.ClusterIP+"\n", "WEB_SERVICE_PORT=80\n", "WEB_SERVICE_PORT_HTTP=80\n",
		"WEB_PORT=tcp://"+web.Spec.ClusterIP+":80\n", "WEB_PORT_80_TCP_ADDR="+web.Spec.ClusterIP+"\n",
		"WEB_NP_SERVICE_HOST="+np.Spec.ClusterIP+"\n", "WEB_LB_SERVICE_PORT=443\n")

	// Applied again: unchanged, the same addresses and ports.
	if out := e.must("apply", "-f", svcPath); out != linesWith([]string{"service/web", "service/web-np", "service/web-lb"}, " unchanged") {
		t.Errorf("second apply printed\n%s", out)
	}
	again := e.storedServices()
	if again["web"].Spec.ClusterIP != web.Spec.ClusterIP || again["web-lb"].Spec.Ports[0].NodePort != lbNodePort {
		t.Errorf("re-apply changed the allocation: %v %v", again["web"].Spec, again["web-lb"].Spec)
	}
	wantLines(t, "describe svc web-np", e.must("describe", "svc", "web-np"),
		"Type:                     NodePort\n", fmt.Sprintf("NodePort:                 <unset>  %d/TCP\n", nodePort),
		"IP:                       "+np.Spec.ClusterIP+"\n", "External Traffic Policy:  Cluster\n")

	// A second file wanting web's address applies none of its objects.
	conflict := e.manifest("conflict.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\ndata: {a: b}\n---\n"+
		"apiVersion: v1\nkind: Service\nmetadata: {name: other}\nspec:\n  clusterIP: "+web.Spec.ClusterIP+"\n  ports: [{port: 80}]\n")
	out, errOut, err := e.run("apply", "-f", conflict)
	if err == nil || !strings.Contains(errOut, conflict+":10: service default/other: spec.clusterIP: Invalid value: \""+web.Spec.ClusterIP+
		"\": failed to allocate IP "+web.Spec.ClusterIP+": provided IP is already allocated to service default/web") {
		t.Errorf("conflicting apply: %v\n%s%s", err, out, errOut)
	}
	if out != "" {
		t.Errorf("conflicting apply applied:\n%s", out)
	}
	if _, errOut, err := e.run("get", "cm", "cm2"); err == nil {
		t.Errorf("configmap of the refused file stored: %s", errOut)
	}
	if _, errOut, err := e.run("get", "svc", "other"); err == nil || !strings.Contains(errOut, `services "other" not found`) {
		t.Errorf("get svc other: %v %s", err, errOut)
	}

	// delete -f removes exactly the file's Services; the pod stays.
	e.must("apply", "-f", e.manifest("keep.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: keep}\nspec:\n  ports: [{port: 80}]\n"))
	if out := e.must("delete", "-f", svcPath); out != "service \"web\" deleted\nservice \"web-np\" deleted\nservice \"web-lb\" deleted\n" {
		t.Errorf("delete -f printed\n%s", out)
	}
	if got := e.must("get", "svc", "-o", "name"); got != "service/keep\n" {
		t.Errorf("left after delete -f: %q", got)
	}
	if out := e.must("delete", "svc", "keep"); out != "service \"keep\" deleted\n" {
		t.Errorf("delete svc keep printed %q", out)
	}
	e.must("delete", "-f", podPath, "--grace-period", "0")
}
