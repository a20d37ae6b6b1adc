//go:build tools

package deps
import (
	_ "sigs.k8s.io/yaml"
	_ "go.yaml.in/yaml/v3"
	_ "k8s.io/api/core/v1"
	_ "k8s.io/apimachinery/pkg/util/validation/field"
	_ "k8s.io/apimachinery/pkg/api/resource"
	_ "github.com/opencontainers/runtime-spec/specs-go"
	_ "github.com/containernetworking/cni/libcni"
	_ "github.com/spf13/cobra"
	_ "github.com/google/go-containerregistry/pkg/v1/tarball"
	_ "github.com/google/go-containerregistry/pkg/v1/layout"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/go-containerregistry/pkg/v1/mutate"
	_ "github.com/cyphar/filepath-securejoin"
	_ "github.com/google/go-cmp/cmp"
	_ "golang.org/x/sys/unix"
	_ "github.com/rogpeppe/go-internal/testscript"
)
