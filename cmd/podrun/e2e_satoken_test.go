package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podrun/podrun/runner"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// tokenClaims decodes the claims of a token, failing unless it is an
// unsecured JWT (alg none, empty signature).
func tokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("token %q: want header.payload. with an empty signature", tok)
	}
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			t.Fatalf("part %d of token %q is not base64url JSON: %v", i, tok, err)
		}
	}
	if header["alg"] != "none" {
		t.Errorf("token header %v, want alg none", header)
	}
	return claims
}

// TestServiceAccountToken: a pod gets the ServiceAccount admission
// plugin's volume in every container (init containers too), holding a
// token with a bound token's claims that says it is podrun's, podrun's
// CA and the namespace; a serviceAccountToken projection the user writes
// is filled; re-applying is unchanged; render shows the mount; a pod with
// automountServiceAccountToken false has none. The monitor renews tokens.
func TestServiceAccountToken(t *testing.T) {
	t.Setenv(runner.TokenRefreshEnv, "300ms")
	e := newEnv(t)
	e.loadDemo()
	text := podYAML("sa", `  initContainers:
  - name: check
    image: localhost/podrun/busybox:demo
    command: ["sh", "-c", "test -s `+saDir+`/token && test -s `+saDir+`/ca.crt"]
  volumes:
  - name: vault
    projected:
      sources:
      - serviceAccountToken: {audience: vault, expirationSeconds: 600, path: vault-token}
`, container("app", "sleep 3600", "    volumeMounts: [{name: vault, mountPath: /var/run/secrets/vault}]\n")) +
		"---\n" + podYAML("nosa", "  automountServiceAccountToken: false\n", container("app", "sleep 3600", ""))
	path := e.manifest("sa.yaml", text)
	e.must("apply", "-f", path)
	defer e.must("delete", "-f", path, "--grace-period", "0")

	if out := e.must("apply", "-f", path); out != "pod/sa unchanged\npod/nosa unchanged\n" {
		t.Errorf("second apply printed %q, want both unchanged", out)
	}
	pod := e.pod("sa")
	var volume string
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			volume = v.Name
		}
	}
	if volume == "" {
		t.Errorf("get pod sa shows volumes %v, want kube-api-access-*", pod.Spec.Volumes)
	}
	if len(pod.Status.InitContainerStatuses) != 1 {
		t.Errorf("init container statuses %+v, want check's", pod.Status.InitContainerStatuses)
	}
	for _, s := range pod.Status.InitContainerStatuses {
		if s.State.Terminated == nil || s.State.Terminated.ExitCode != 0 {
			t.Errorf("init container %s, which tests the token and CA files: %+v", s.Name, s.State)
		}
	}

	cat := func(file string) string {
		t.Helper()
		return e.must("exec", "sa", "-c", "app", "--", "cat", file)
	}
	claims := tokenClaims(t, cat(saDir+"/token"))
	k, _ := claims["kubernetes.io"].(map[string]any)
	podClaim, _ := k["pod"].(map[string]any)
	switch {
	case !strings.Contains(claims["iss"].(string), "not a Kubernetes API server"):
		t.Errorf("iss %q does not say it is not an API server's", claims["iss"])
	case claims["sub"] != "system:serviceaccount:default:default":
		t.Errorf("sub %q", claims["sub"])
	case k["namespace"] != "default" || podClaim["name"] != "sa" || podClaim["uid"] != string(pod.UID):
		t.Errorf("kubernetes.io claims %v, want namespace default, pod sa, uid %s", k, pod.UID)
	}
	exp, iat := claims["exp"].(float64), claims["iat"].(float64)
	if warn, _ := k["warnafter"].(float64); warn != iat+3607 || exp-iat != 365*24*3600 {
		t.Errorf("iat %v exp %v warnafter %v: want the API server's one-year extension, warning at 3607 s", iat, exp, k["warnafter"])
	}
	vault := tokenClaims(t, cat("/var/run/secrets/vault/vault-token"))
	if aud, _ := vault["aud"].([]any); len(aud) != 1 || aud[0] != "vault" || vault["exp"].(float64)-vault["iat"].(float64) != 600 {
		t.Errorf("user-written projection's claims %v: want aud [vault] and 600 s", vault)
	}
	// The monitor renews the tokens, as the kubelet's token manager.
	first := vault["jti"]
	eventually(t, 10*time.Second, func() error {
		if again := tokenClaims(t, cat("/var/run/secrets/vault/vault-token")); again["jti"] == first {
			return fmt.Errorf("the token %v was not renewed", first)
		}
		return nil
	})
	if ns := cat(saDir + "/namespace"); ns != "default" {
		t.Errorf("namespace file %q", ns)
	}

	caPEM := cat(saDir + "/ca.crt")
	stored, err := os.ReadFile(filepath.Join(e.root, "serviceaccount", "ca.crt"))
	if err != nil || string(stored) != caPEM {
		t.Errorf("ca.crt in the pod is not the root's CA (%v)", err)
	}
	block, _ := pem.Decode([]byte(caPEM))
	if block == nil {
		t.Fatalf("ca.crt %q is no PEM", caPEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !cert.IsCA || !strings.Contains(cert.Subject.CommonName, "podrun") {
		t.Errorf("ca.crt: %v; CA %v, subject %q: want podrun's CA", err, cert != nil && cert.IsCA, cert.Subject.CommonName)
	}

	if modes := e.must("exec", "sa", "-c", "app", "--", "stat", "-L", "-c", "%a", saDir+"/token", saDir+"/ca.crt"); modes != "644\n644\n" {
		t.Errorf("token and ca.crt modes %q, want 644", modes)
	}
	if _, _, err := e.run("exec", "sa", "-c", "app", "--", "touch", saDir+"/x"); err == nil {
		t.Error("the token volume is writable")
	}

	// The pod that opts out has no such directory.
	if out, errOut, err := e.run("exec", "nosa", "--", "ls", "/var/run/secrets"); err == nil {
		t.Errorf("automount false: /var/run/secrets exists: %s%s", out, errOut)
	}
	for _, v := range e.pod("nosa").Spec.Volumes {
		t.Errorf("automount false: volume %s", v.Name)
	}

	// render shows what apply mounts.
	out := filepath.Join(t.TempDir(), "bundles")
	e.must("render", "-f", path, "-o", out)
	if !renderedMount(t, filepath.Join(out, "default_sa", "containers", "app", "config.json"), saDir) {
		t.Errorf("render: container app does not mount %s", saDir)
	}
	if renderedMount(t, filepath.Join(out, "default_nosa", "containers", "app", "config.json"), saDir) {
		t.Errorf("render: automount false, yet %s is mounted", saDir)
	}
}

func renderedMount(t *testing.T, configPath, dest string) bool {
	t.Helper()
	data, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	for _, m := range spec.Mounts {
		if m.Destination == dest {
			return true
		}
	}
	return false
}
