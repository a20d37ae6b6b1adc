package kubelet

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure fails when a non-test file of the package imports something
// that would let it touch the machine (the file system, processes,
// signals, the network) or the runner and translate, or reads the clock.
func TestPure(t *testing.T) {
	forbidden := map[string]bool{
		"os": true, "os/exec": true, "os/signal": true, "os/user": true, "syscall": true,
		"net": true, "net/http": true, "golang.org/x/sys/unix": true, "log": true,
		"math/rand": true, "math/rand/v2": true, "crypto/rand": true,
	}
	forbiddenPrefixes := []string{"github.com/podrun/podrun/runner", "github.com/podrun/podrun/translate", "github.com/podrun/podrun/cmd"}
	clock := map[string]bool{"Now": true, "Since": true, "Until": true, "After": true, "AfterFunc": true, "Sleep": true, "Tick": true, "NewTimer": true, "NewTicker": true}
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
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			bad := forbidden[p]
			for _, prefix := range forbiddenPrefixes {
				bad = bad || strings.HasPrefix(p, prefix)
			}
			if bad {
				t.Errorf("%s imports %q: package kubelet must stay pure", fset.Position(imp.Pos()), p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, isIdent := sel.X.(*ast.Ident); isIdent && id.Name == "time" && clock[sel.Sel.Name] {
				t.Errorf("%s reads the clock (time.%s): times must be passed in", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no Go files checked")
	}
}
