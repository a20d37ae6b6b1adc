package volume

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// decodeToken splits a token and returns its header and claims, failing
// unless it is an unsecured JWT: three base64url parts, the last empty.
func decodeToken(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("token %q: want header.payload. with an empty signature", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d of %q: %v", i, tok, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("part %d of %q: %v", i, tok, err)
		}
	}
	return header, claims
}

var tokenPod = &corev1.Pod{
	ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "pod-uid"},
	Spec:       corev1.PodSpec{ServiceAccountName: "builder"},
}

func TestTokenClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder", UID: "sa-uid"}}
	tok := Token(TokenRequest{Pod: tokenPod, ServiceAccount: sa, Audience: "vault", ExpirationSeconds: 600, Now: now, ID: "jti-1"})
	header, claims := decodeToken(t, tok)
	if diff := cmp.Diff(map[string]any{"alg": "none", "typ": "JWT"}, header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	want := map[string]any{
		"aud": []any{"vault"},
		"iss": "podrun: not a Kubernetes API server; this token authenticates nothing",
		"sub": "system:serviceaccount:shop:builder",
		"iat": 1_800_000_000.0, "nbf": 1_800_000_000.0, "exp": 1_800_000_600.0,
		"jti": "jti-1",
		"kubernetes.io": map[string]any{
			"namespace":      "shop",
			"pod":            map[string]any{"name": "web", "uid": "pod-uid"},
			"serviceaccount": map[string]any{"name": "builder", "uid": "sa-uid"},
		},
	}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
}

// The admission plugin's 3607 s is extended to a year with a warning
// after the hour, as the API server does; no audience means the issuer's.
func TestTokenLegacyExpirationAndDefaults(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	pod := tokenPod.DeepCopy()
	pod.Spec.ServiceAccountName = ""
	_, claims := decodeToken(t, Token(TokenRequest{Pod: pod, ExpirationSeconds: 3607, Now: now}))
	if got, want := claims["exp"], float64(1_800_000_000+365*24*3600); got != want {
		t.Errorf("exp = %v, want %v", got, want)
	}
	k := claims["kubernetes.io"].(map[string]any)
	if got := k["warnafter"]; got != float64(1_800_003_607) {
		t.Errorf("warnafter = %v, want iat+3607", got)
	}
	if got := claims["aud"].([]any); len(got) != 1 || got[0] != TokenIssuer {
		t.Errorf("aud = %v, want the issuer", got)
	}
	if got := claims["sub"]; got != "system:serviceaccount:shop:default" {
		t.Errorf("sub = %v", got)
	}
	// The implicit ServiceAccount's uid is the same for every token.
	_, again := decodeToken(t, Token(TokenRequest{Pod: pod, Now: now.Add(time.Hour)}))
	uid := k["serviceaccount"].(map[string]any)["uid"]
	if again := again["kubernetes.io"].(map[string]any)["serviceaccount"].(map[string]any)["uid"]; uid == "" || uid != again {
		t.Errorf("implicit ServiceAccount uids %v and %v, want one, not empty", uid, again)
	}
	if got := again["exp"].(float64) - again["iat"].(float64); got != 3600 {
		t.Errorf("lifetime without expirationSeconds = %v, want 3600", got)
	}
}

// A projected volume's token source is filled with the stored
// ServiceAccount's token at its path, in the volume's default mode.
func TestPayloadToken(t *testing.T) {
	objs := fakeObjects{
		cms: testObjects.cms,
		sas: map[string]*corev1.ServiceAccount{"default/robot": {ObjectMeta: metav1.ObjectMeta{Name: "robot", UID: "robot-uid"}}},
	}
	pod, v := payloadPod(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: ptr[int32](0o640), Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "api", ExpirationSeconds: ptr[int64](7200), Path: "tokens/api"}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Items: []corev1.KeyToPath{{Key: "a.conf", Path: "a"}}}},
	}}})
	pod.Spec.ServiceAccountName = "robot"
	got, _, err := Payload(pod, v, objs, Node{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"].Mode != 0o640 {
		t.Fatalf("payload %v: want the token and a, mode 0640", got)
	}
	tok := got["tokens/api"]
	if tok.Mode != 0o640 {
		t.Errorf("token mode %v, want 0640", tok.Mode)
	}
	_, claims := decodeToken(t, string(tok.Data))
	k := claims["kubernetes.io"].(map[string]any)
	if sa := k["serviceaccount"].(map[string]any); sa["name"] != "robot" || sa["uid"] != "robot-uid" {
		t.Errorf("serviceaccount claim %v, want robot and its uid", sa)
	}
	if pod := k["pod"].(map[string]any); pod["name"] != "web" || pod["uid"] != "u-1" {
		t.Errorf("pod claim %v", pod)
	}
	if claims["exp"].(float64)-claims["iat"].(float64) != 7200 || claims["jti"] == "" {
		t.Errorf("claims %v: want a 7200 s lifetime and a jti", claims)
	}
}

func TestRootCA(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sa", "ca.crt")
	var wg sync.WaitGroup
	certs := make([][]byte, 4)
	errs := make([]error, 4)
	for i := range certs {
		wg.Add(1)
		go func() { defer wg.Done(); certs[i], errs[i] = RootCA(path) }()
	}
	wg.Wait()
	for i := range certs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if string(certs[i]) != string(certs[0]) {
			t.Fatal("concurrent callers got different certificates")
		}
	}
	block, _ := pem.Decode(certs[0])
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA || !strings.Contains(cert.Subject.CommonName, "podrun") || !strings.Contains(cert.Subject.CommonName, "not a Kubernetes API server") {
		t.Errorf("certificate CA %v, subject %q: want a CA saying it is podrun's", cert.IsCA, cert.Subject.CommonName)
	}
	if err := cert.VerifyHostname("kubernetes.default.svc"); err == nil {
		t.Error("the CA certificate is valid for the API server's name")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d files beside the certificate, want none: %v", len(entries)-1, entries)
	}
	again, err := RootCA(path)
	if err != nil || string(again) != string(certs[0]) {
		t.Errorf("second call: %v, same certificate %v", err, string(again) == string(certs[0]))
	}

	if err := os.WriteFile(path, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := RootCA(path); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("RootCA of a damaged file: %v, want an error saying to remove it", err)
	}
}
