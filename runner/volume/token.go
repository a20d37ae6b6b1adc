package volume

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// What a projected serviceAccountToken source holds. On a cluster the
// kubelet asks the API server for a token bound to the pod (TokenRequest)
// and the API server signs it. podrun has no API server, and nothing
// could check a signature of its own: it writes a token with the claims a
// bound token carries, so that code reading them (the namespace, the
// service account, the expiry) works, but whose issuer says plainly what
// it is, unsigned (alg "none", an empty signature). No API server accepts
// it.

// TokenIssuer is the iss of every token podrun writes, and the audience
// of those that name none (an API server's audiences default to its
// issuer).
const TokenIssuer = "podrun: not a Kubernetes API server; this token authenticates nothing"

const (
	// legacyExpiration is the lifetime the ServiceAccount admission
	// plugin asks for; the API server then issues a token valid for a
	// year, with a warnafter at the hour (--service-account-extend-token-expiration,
	// on by default).
	legacyExpiration    = 3607
	extendedExpiration  = 365 * 24 * 60 * 60
	defaultTokenSeconds = 60 * 60
)

// TokenRequest is what a token is made for.
type TokenRequest struct {
	Pod *corev1.Pod
	// ServiceAccount is the one the pod names; nil when none is stored,
	// which stands for the namespace's implicit one.
	ServiceAccount *corev1.ServiceAccount
	Audience       string
	// ExpirationSeconds is the lifetime asked for; 0 means an hour.
	ExpirationSeconds int64
	Now               time.Time
	// ID is the token's jti, unique per token.
	ID string
}

// tokenClaims are those of a bound service account token, in the JSON
// the API server writes.
type tokenClaims struct {
	Audience   []string         `json:"aud"`
	Expiry     int64            `json:"exp"`
	IssuedAt   int64            `json:"iat"`
	Issuer     string           `json:"iss"`
	ID         string           `json:"jti,omitempty"`
	Kubernetes kubernetesClaims `json:"kubernetes.io"`
	NotBefore  int64            `json:"nbf"`
	Subject    string           `json:"sub"`
}

type kubernetesClaims struct {
	Namespace      string    `json:"namespace"`
	Pod            objectRef `json:"pod"`
	ServiceAccount objectRef `json:"serviceaccount"`
	WarnAfter      int64     `json:"warnafter,omitempty"`
}

type objectRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Token is the token written for req: header.payload.signature in
// base64url without padding, the header {"alg":"none","typ":"JWT"}, the
// signature empty.
func Token(req TokenRequest) string {
	pod := req.Pod
	name := pod.Spec.ServiceAccountName
	if name == "" {
		name = "default"
	}
	saUID := ""
	if req.ServiceAccount != nil {
		saUID = string(req.ServiceAccount.UID)
	}
	if saUID == "" {
		saUID = implicitUID(pod.Namespace, name)
	}
	lifetime := req.ExpirationSeconds
	if lifetime == 0 {
		lifetime = defaultTokenSeconds
	}
	now := req.Now.Unix()
	k := kubernetesClaims{
		Namespace:      pod.Namespace,
		Pod:            objectRef{Name: pod.Name, UID: string(pod.UID)},
		ServiceAccount: objectRef{Name: name, UID: saUID},
	}
	if lifetime == legacyExpiration {
		k.WarnAfter = now + lifetime
		lifetime = extendedExpiration
	}
	aud := req.Audience
	if aud == "" {
		aud = TokenIssuer
	}
	claims := tokenClaims{
		Audience:   []string{aud},
		Expiry:     now + lifetime,
		IssuedAt:   now,
		Issuer:     TokenIssuer,
		ID:         req.ID,
		Kubernetes: k,
		NotBefore:  now,
		Subject:    fmt.Sprintf("system:serviceaccount:%s:%s", pod.Namespace, name),
	}
	payload, _ := json.Marshal(claims) // plain strings and numbers: cannot fail
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + "."
}

// implicitUID is the uid of a ServiceAccount podrun has no object for:
// the same for every token of that namespace and name.
func implicitUID(namespace, name string) string {
	h := sha256.Sum256([]byte("podrun serviceaccount " + namespace + "/" + name))
	return formatUUID(h[:16])
}

func newTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b[:])
}

// formatUUID writes 16 bytes as a version 4 (random) UUID.
func formatUUID(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tokenPayload is what a serviceAccountToken projection holds: the token
// at its path, in the projection's default mode.
func (s payloadSource) tokenPayload(t *corev1.ServiceAccountTokenProjection, def *int32) (map[string]File, error) {
	sa, err := s.serviceAccount()
	if err != nil {
		return nil, err
	}
	req := TokenRequest{Pod: s.pod, ServiceAccount: sa, Audience: t.Audience, Now: s.now(), ID: newTokenID()}
	if t.ExpirationSeconds != nil {
		req.ExpirationSeconds = *t.ExpirationSeconds
	}
	return map[string]File{t.Path: {Data: []byte(Token(req)), Mode: mode(nil, def)}}, nil
}
