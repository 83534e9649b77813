// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
)

// newFile starts a generated file of package aio built under constraint.
func newFile(header, constraint string) *jen.File {
	f := jen.NewFile("aio")
	// One verbatim comment, so that a blank line, not "//", separates the
	// two lines, as gofmt and x/sys lay them out.
	f.HeaderComment("// " + header + "\n\n//go:build " + constraint)
	return f
}

// renderTypes renders zaio_linux.go or zaio_linux_GOARCH.go: the constants
// and structs that cgo printed for which keep says yes, with Go names and the
// docs table's comments.
func renderTypes(header, constraint string, o *output, defs *cdefs, structs []cStruct, keep func(name string) bool) ([]byte, error) {
	f := newFile(header, constraint)
	for _, g := range o.groups {
		var exported []constant
		for _, c := range g {
			// linuxVersionCode is only for the header line.
			if c.name != "linuxVersionCode" && keep(c.name) {
				exported = append(exported, c)
			}
		}
		if len(exported) == 0 {
			continue
		}
		f.Line()
		var err error
		f.Const().DefsFunc(func(g *jen.Group) {
			for i, c := range exported {
				doc, ok := docs[defs.cNames[c.name]]
				if !ok {
					err = fmt.Errorf("no doc for constant %s (C %q): add it to gen/docs.go", c.name, defs.cNames[c.name])
					return
				}
				if i > 0 {
					g.Line()
				}
				comment(g, doc)
				g.Id(c.name).Op("=").Lit(int(c.value))
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, s := range structs {
		if !keep(s.goName) {
			continue
		}
		comment(f, docs[s.cName])
		var err error
		f.Type().Id(s.goName).StructFunc(func(g *jen.Group) {
			tag := strings.TrimPrefix(s.cName, "struct ") + "."
			for i, fl := range s.fields {
				if i > 0 {
					g.Line()
				}
				if fl.cName != "" {
					comment(g, docs[tag+fl.cName])
				}
				t, e := typeCode(fl.typ)
				if e != nil {
					err = fmt.Errorf("%s.%s: %v", s.goName, fl.goName, e)
					return
				}
				g.Id(fl.goName).Add(t)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return renderFile(f)
}

// renderLayout renders zaio_linux_GOARCH_test.go: the C compiler's layout of
// every struct, which layout_test.go holds the Go types against.
func renderLayout(header string, a arch, structs []cStruct, layouts map[string]layout) ([]byte, error) {
	f := newFile(header, "linux && "+a.GOARCH)
	comment(f, fmt.Sprintf("cLayout is the layout of the structs of <linux/aio_abi.h> as %s "+
		"computed it for %s: sizes, alignments and offsets in bytes.", a.cc(), a.GOARCH))
	f.Var().Id("cLayout").Op("=").Index().Id("cStruct").CustomFunc(multi, func(g *jen.Group) {
		for _, s := range structs {
			l := layouts[s.cName]
			g.Custom(multi,
				kv("GoName", jen.Lit(s.goName)),
				kv("CName", jen.Lit(s.cName)),
				kv("Size", jen.Lit(int(l.size))),
				kv("Align", jen.Lit(int(l.align))),
				kv("Fields", jen.Index().Id("cField").CustomFunc(multi, func(g *jen.Group) {
					for _, fl := range s.fields {
						if fl.cName == "" {
							continue
						}
						c := l.fields[fl.cName]
						g.Values(
							kv("GoName", jen.Lit(fl.goName)),
							kv("CName", jen.Lit(fl.cName)),
							kv("Offset", jen.Lit(int(c.offset))),
							kv("Size", jen.Lit(int(c.size))),
							kv("Align", jen.Lit(int(c.align))),
						)
					}
				})),
			)
		}
	})
	return renderFile(f)
}

func renderFile(f *jen.File) ([]byte, error) {
	var b bytes.Buffer
	err := f.Render(&b)
	return b.Bytes(), err
}

// multi lays a composite literal out one element a line.
var multi = jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}

// kv is one key: value element of a composite literal; unlike jen.Dict it
// keeps the order it is given.
func kv(key string, v jen.Code) jen.Code { return jen.Id(key).Op(":").Add(v) }

// typeCode turns a field type cgo printed (uint64, [4]byte) into jennifer code.
func typeCode(e ast.Expr) (jen.Code, error) {
	switch t := e.(type) {
	case *ast.Ident:
		return jen.Id(t.Name), nil
	case *ast.ArrayType:
		lit, ok := t.Len.(*ast.BasicLit)
		if !ok {
			break
		}
		n, err := strconv.Atoi(lit.Value)
		if err != nil {
			return nil, err
		}
		elem, err := typeCode(t.Elt)
		if err != nil {
			return nil, err
		}
		return jen.Index(jen.Lit(n)).Add(elem), nil
	}
	return nil, fmt.Errorf("unexpected type %T from cgo", e)
}

// comment adds doc as // lines wrapped at 76 columns, with blank // lines
// between paragraphs (jennifer would turn a multi-line string into /* */).
func comment(g interface {
	Add(...jen.Code) *jen.Statement
}, doc string) {
	for i, para := range strings.Split(doc, "\n\n") {
		if i > 0 {
			g.Add(jen.Comment(""))
		}
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(line)+1+len(w) > 76 {
				g.Add(jen.Comment(line))
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		if line != "" {
			g.Add(jen.Comment(line))
		}
	}
}
