package translate

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure fails when a non-test file of the package imports something
// that would let translate touch the machine: the file system, processes,
// the network, the clock, randomness, or the runner.
func TestPure(t *testing.T) {
	forbidden := []string{
		"os", "os/exec", "os/signal", "os/user", "net", "net/http", "syscall", "time",
		"golang.org/x/sys/unix", "log", "math/rand", "math/rand/v2", "crypto/rand",
	}
	forbiddenPrefixes := []string{
		"github.com/containernetworking/",
		"github.com/podrun/podrun/runner",
		"github.com/podrun/podrun/cmd",
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if p == bad {
					t.Errorf("%s imports %q: translate must stay pure", fset.Position(imp.Pos()), p)
				}
			}
			for _, bad := range forbiddenPrefixes {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %q: translate must stay pure", fset.Position(imp.Pos()), p)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no Go files checked")
	}
}
