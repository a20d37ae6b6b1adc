package volume

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// On a cluster, the root-CA publisher (kube-controller-manager) keeps a
// ConfigMap kube-root-ca.crt in every namespace, whose ca.crt is the CA
// that signed the API server's certificate; every token volume projects
// it. podrun has no API server: it publishes a CA certificate of its own,
// made once per data root, that says so and can sign nothing (its key is
// thrown away as soon as the certificate is signed), so pods that read
// the file find one and no TLS client trusting it can be fooled.

// RootCACommonName is the subject of podrun's CA certificate.
const RootCACommonName = "podrun root CA: not a Kubernetes API server's; it signs nothing"

// RootCA returns the PEM certificate at path, making it first if there is
// none. Concurrent callers get the same certificate: the first to link
// its file in place wins.
func RootCA(path string) ([]byte, error) {
	data, err := readRootCA(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	data, err = newRootCA(time.Now())
	if err != nil {
		return nil, fmt.Errorf("making podrun's root CA: %w", err)
	}
	if err := createOnce(path, data); err != nil {
		return nil, fmt.Errorf("writing podrun's root CA to %s: %w", path, err)
	}
	return readRootCA(path)
}

// readRootCA reads and checks the certificate at path.
func readRootCA(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate: remove it, and podrun makes another", path)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return nil, fmt.Errorf("%s: %w: remove it, and podrun makes another", path, err)
	}
	return data, nil
}

// newRootCA makes a self-signed CA certificate valid for ten years from
// now, with a key that is not kept.
func newRootCA(now time.Time) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: RootCACommonName, Organization: []string{"podrun"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// createOnce writes data to path unless a file is there already: through
// a synced temporary file hard-linked in place, which fails if another
// process linked its own first (that one is kept).
func createOnce(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".rootca-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
