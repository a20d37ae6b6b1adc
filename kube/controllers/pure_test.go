package controllers

import (
	"testing"

	"github.com/podrun/podrun/internal/purity"
)

// TestPure fails when a non-test file of the package imports something
// that would let it touch the machine (the file system, processes,
// signals, the network, randomness) or the runner and translate, or reads
// the clock.
func TestPure(t *testing.T) {
	purity.Check(t, "github.com/podrun/podrun/runner", "github.com/podrun/podrun/translate", "github.com/podrun/podrun/cmd")
}
