// Package purity checks, in a package's own test, that its non-test files
// cannot touch the machine: no import of the file system, processes,
// signals, the network, randomness or logging, none of the packages a
// caller forbids, and no read of the clock. translate and kube/kubelet are
// pure, and their tests say so with Check.
package purity

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// machine are the standard imports that reach the machine.
var machine = map[string]bool{
	"os": true, "os/exec": true, "os/signal": true, "os/user": true, "syscall": true,
	"net": true, "net/http": true, "golang.org/x/sys/unix": true, "log": true,
	"math/rand": true, "math/rand/v2": true, "crypto/rand": true,
}

// clock are the functions of package time that read or wait on the clock.
var clock = map[string]bool{
	"Now": true, "Since": true, "Until": true, "After": true, "AfterFunc": true,
	"Sleep": true, "Tick": true, "NewTimer": true, "NewTicker": true,
}

// Check fails t for each import of a non-test .go file in the current
// directory (a package's tests run in it) that reaches the machine or
// starts with one of forbiddenPrefixes, and for each read of the clock.
func Check(t *testing.T, forbiddenPrefixes ...string) {
	t.Helper()
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
			bad := machine[p]
			for _, prefix := range forbiddenPrefixes {
				bad = bad || strings.HasPrefix(p, prefix)
			}
			if bad {
				t.Errorf("%s imports %q: package %s must stay pure", fset.Position(imp.Pos()), p, f.Name.Name)
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
