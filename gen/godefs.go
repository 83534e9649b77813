// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// cdefs is what the generator learns from internal/cdefs before running cgo:
// the C preamble and, for every Go name, the C name behind it.
type cdefs struct {
	src      []byte
	preamble string            // the comment above import "C"
	cNames   map[string]string // Go name -> C name ("IoEvent" -> "struct io_event")
}

func readCdefs(path string) (*cdefs, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	d := &cdefs{src: src, cNames: map[string]string{}}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			switch s := spec.(type) {
			case *ast.ImportSpec:
				if s.Path.Value == `"C"` && gd.Doc != nil {
					d.preamble = gd.Doc.Text()
				}
			case *ast.ValueSpec:
				for i, n := range s.Names {
					if i < len(s.Values) {
						if c := cSelector(s.Values[i]); c != "" {
							d.cNames[n.Name] = c
						}
					}
				}
			case *ast.TypeSpec:
				if c := cSelector(s.Type); c != "" {
					d.cNames[s.Name.Name] = strings.Replace(c, "struct_", "struct ", 1)
				}
			}
		}
	}
	if d.preamble == "" {
		return nil, fmt.Errorf("%s: no C preamble above import \"C\"", path)
	}
	return d, nil
}

// cSelector returns "x" for the expression C.x, else "".
func cSelector(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == "C" {
			return sel.Sel.Name
		}
	}
	return ""
}

// output is what cgo -godefs printed, parsed.
type output struct {
	groups [][]constant // constant blocks, in source order
	types  []goStruct
}

type constant struct {
	name  string
	value int64
}

type goStruct struct {
	name   string
	fields []goField
}

type goField struct {
	name string
	typ  ast.Expr
}

func (o *output) constant(name string) (int64, bool) {
	for _, g := range o.groups {
		for _, c := range g {
			if c.name == name {
				return c.value, true
			}
		}
	}
	return 0, false
}

// godefs runs cgo -godefs on src for arch a, with a's C compiler and the
// compiler flags cflags.
func godefs(a arch, cflags []string, src []byte) (*output, error) {
	dir, err := os.MkdirTemp("", "aiogen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "defs.go"), src, 0o644); err != nil {
		return nil, err
	}
	args := append([]string{"tool", "cgo", "-godefs", "-objdir", dir, "--"}, cflags...)
	cmd := exec.Command("go", append(args, "defs.go")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+a.GOARCH, "CC="+a.cc(),
		"CGO_CFLAGS=", "CGO_CPPFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cgo -godefs for %s: %v\n%s", a.GOARCH, err, stderr.Bytes())
	}
	return parseOutput(out)
}

func parseOutput(src []byte) (*output, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "godefs.go", src, 0)
	if err != nil {
		return nil, fmt.Errorf("parsing cgo's output: %v\n%s", err, src)
	}
	o := &output{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		switch gd.Tok {
		case token.CONST:
			var g []constant
			for _, spec := range gd.Specs {
				s := spec.(*ast.ValueSpec)
				for i, n := range s.Names {
					lit, ok := s.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.INT {
						return nil, fmt.Errorf("cgo printed %s as %T, want an integer", n.Name, s.Values[i])
					}
					v, err := strconv.ParseInt(lit.Value, 0, 64)
					if err != nil {
						return nil, fmt.Errorf("%s: %v", n.Name, err)
					}
					g = append(g, constant{n.Name, v})
				}
			}
			o.groups = append(o.groups, g)
		case token.TYPE:
			for _, spec := range gd.Specs {
				s := spec.(*ast.TypeSpec)
				st, ok := s.Type.(*ast.StructType)
				if !ok {
					return nil, fmt.Errorf("cgo printed type %s as %T, want a struct", s.Name.Name, s.Type)
				}
				t := goStruct{name: s.Name.Name}
				for _, fl := range st.Fields.List {
					for _, n := range fl.Names {
						t.fields = append(t.fields, goField{n.Name, fl.Type})
					}
				}
				o.types = append(o.types, t)
			}
		}
	}
	return o, nil
}

// cFields returns the C field names of struct cName, in the order the docs
// table happens to list them (callers match them by name, not order).
func cFields(cStruct string) []string {
	tag := strings.TrimPrefix(cStruct, "struct ") + "."
	var fs []string
	for k := range docs {
		if strings.HasPrefix(k, tag) {
			fs = append(fs, strings.TrimPrefix(k, tag))
		}
	}
	return fs
}

// cgoFieldName is the name cgo -godefs gives C field f of a struct whose
// fields are all: it drops the prefix up to the first '_' when every field
// that has one shares it (aio_data -> Data), then capitalizes.
func cgoFieldName(f string, all []string) string {
	prefix := ""
	for _, n := range all {
		if strings.HasPrefix(n, "_") {
			continue
		}
		i := strings.Index(n, "_")
		if i < 0 {
			continue
		}
		if prefix == "" {
			prefix = n[:i+1]
		} else if prefix != n[:i+1] {
			prefix = ""
			break
		}
	}
	n := strings.TrimPrefix(f, prefix)
	return strings.ToUpper(n[:1]) + n[1:]
}

// goName camel-cases a name cgo printed: Rw_flags -> RwFlags.
func goName(cgo string) string {
	parts := strings.Split(cgo, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
