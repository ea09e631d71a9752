package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The package comment says every difference between SQLite and MySQL
// lives in dialect.go: no other file of the package looks at the dialect
// (config.MySQL, config.SQLite) or writes SQL only one of them speaks.
func TestDialectDifferencesLiveInDialectGo(t *testing.T) {
	onlyOne := []string{"FORCE INDEX", "NOW(6)", "information_schema", "PRAGMA", "INSERT IGNORE",
		"INSERT OR IGNORE", "ON DUPLICATE KEY", "ALTER TABLE", "FOR UPDATE"}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == "dialect.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && id.Name == "config" && (x.Sel.Name == "MySQL" || x.Sel.Name == "SQLite") {
					t.Errorf("%s: looks at the dialect (config.%s) outside dialect.go", fset.Position(x.Pos()), x.Sel.Name)
				}
			case *ast.BasicLit:
				if x.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(x.Value)
				if err != nil {
					return true
				}
				for _, w := range onlyOne {
					if strings.Contains(strings.ToUpper(s), strings.ToUpper(w)) {
						t.Errorf("%s: SQL of one dialect (%q) outside dialect.go", fset.Position(x.Pos()), w)
					}
				}
			}
			return true
		})
	}
}
