// Command gendocs writes concurr's man page and shell completions from the
// option table in cmd/concurr/flags.go (make man runs it).
//
// The table lives in package main, which cannot be imported, so gendocs
// reads it from the source: the string literals of each optionSpec. A test
// in cmd/concurr renders the same files from the compiled table and checks
// that the committed ones match, so a misreading here cannot go unnoticed.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"

	"concurr/internal/optdoc"
)

func main() {
	table := flag.String("table", "cmd/concurr/flags.go", "the Go file that holds the option table")
	out := flag.String("out", ".", "the folder to write docs/ under")
	flag.Parse()
	if err := run(*table, *out); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: error: %v\n", err)
		os.Exit(1)
	}
}

func run(table, out string) error {
	opts, err := readTable(table)
	if err != nil {
		return err
	}
	for _, f := range optdoc.Files {
		var b bytes.Buffer
		if err := f.Write(&b, opts); err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		path := filepath.Join(out, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readTable returns the documented options of the []optionSpec literal in
// the Go file named by path, in its order.
func readTable(path string) ([]optdoc.Option, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	var opts []optdoc.Option
	var readErr error
	ast.Inspect(file, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok || !isSpecSlice(lit.Type) {
			return true
		}
		for _, elt := range lit.Elts {
			o, err := readSpec(elt)
			if err != nil {
				readErr = fmt.Errorf("%s: %w", fset.Position(elt.Pos()), err)
				return false
			}
			if o.Help != "" {
				opts = append(opts, o)
			}
		}
		return false
	})
	if readErr != nil {
		return nil, readErr
	}
	if len(opts) == 0 {
		return nil, fmt.Errorf("%s: no []optionSpec table found", path)
	}
	return opts, nil
}

func isSpecSlice(t ast.Expr) bool {
	array, ok := t.(*ast.ArrayType)
	if !ok || array.Len != nil {
		return false
	}
	id, ok := array.Elt.(*ast.Ident)
	return ok && id.Name == "optionSpec"
}

// readSpec reads the documented fields of one optionSpec literal.
func readSpec(elt ast.Expr) (optdoc.Option, error) {
	var o optdoc.Option
	lit, ok := elt.(*ast.CompositeLit)
	if !ok {
		return o, fmt.Errorf("an option that is not a literal")
	}
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return o, fmt.Errorf("an option with unnamed fields")
		}
		key := kv.Key.(*ast.Ident).Name
		var err error
		switch key {
		case "long":
			names, ok := kv.Value.(*ast.CompositeLit)
			if !ok {
				return o, fmt.Errorf("long is not a literal")
			}
			for _, n := range names.Elts {
				s, err := stringLit(n)
				if err != nil {
					return o, fmt.Errorf("long: %w", err)
				}
				o.Long = append(o.Long, s)
			}
		case "short":
			o.Short, err = stringLit(kv.Value)
		case "arg":
			o.Arg, err = stringLit(kv.Value)
		case "group":
			o.Group, err = stringLit(kv.Value)
		case "help":
			o.Help, err = stringLit(kv.Value)
		case "optional":
			o.Optional, err = boolLit(kv.Value)
		}
		if err != nil {
			return o, fmt.Errorf("%s: %w", key, err)
		}
	}
	if len(o.Long) == 0 {
		return o, fmt.Errorf("an option with no long name")
	}
	return o, nil
}

func stringLit(e ast.Expr) (string, error) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", fmt.Errorf("not a string literal")
	}
	return strconv.Unquote(lit.Value)
}

func boolLit(e ast.Expr) (bool, error) {
	id, ok := e.(*ast.Ident)
	if !ok || id.Name != "true" && id.Name != "false" {
		return false, fmt.Errorf("not true or false")
	}
	return id.Name == "true", nil
}
