package kube

import (
	"strings"
	"testing"
)

func TestClaims(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"valid", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`, ""},
		{"problems", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: Data}
spec:
  accessModes: [ReadWriteSometimes]
  volumeMode: Block
  resources: {}
`, `c.yaml:3: metadata.name: Invalid value: "Data"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode("c.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			set, err := Expand(objs, Options{Namespace: "ns"})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(set.Claims) != 1 || set.Claims[0].Claim.Namespace != "ns" || *set.Claims[0].Claim.Spec.VolumeMode != "Filesystem" {
					t.Errorf("claims: %+v", set.Claims)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, part := range []string{tt.want, "spec.accessModes[0]: Unsupported value", "spec.volumeMode: Unsupported value", "spec.resources[storage]: Required value"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error lacks %q:\n%v", part, err)
				}
			}
		})
	}
}
