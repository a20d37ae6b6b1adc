package translate

import (
	"testing"

	"github.com/podrun/podrun/internal/purity"
)

// TestPure fails when a non-test file of the package imports something
// that would let translate touch the machine (the file system, processes,
// the network, randomness), CNI or the runner, or reads the clock.
func TestPure(t *testing.T) {
	purity.Check(t, "github.com/containernetworking/", "github.com/podrun/podrun/runner", "github.com/podrun/podrun/cmd")
}
