// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package main

import (
	"fmt"
	"strings"
)

// layout is what the C compiler says of one struct: its size and alignment,
// and the offset, size and alignment of each field, all in bytes.
type layout struct {
	size, align int64
	fields      map[string]fieldLayout // by C field name
}

type fieldLayout struct{ offset, size, align int64 }

// probeLayout asks the architecture's C compiler itself, through a second
// cgo -godefs run whose constants are sizeof and offsetof expressions. The
// alignment of a type is measured the way a struct lays it out (the offset
// after a char), which is what the kernel ABI follows; __alignof__ would say
// 8 for a 64-bit integer on 386, where a struct member gets 4.
func probeLayout(a arch, cflags []string, defs *cdefs, structs []cStruct) (map[string]layout, error) {
	var c, g strings.Builder
	probe := func(name, expr string) {
		fmt.Fprintf(&c, "\taioprobe_%s = %s,\n", name, expr)
		fmt.Fprintf(&g, "\taioprobe_%s = C.aioprobe_%s\n", name, name)
	}
	for i, s := range structs {
		probe(fmt.Sprintf("%d_size", i), fmt.Sprintf("sizeof(%s)", s.cName))
		probe(fmt.Sprintf("%d_align", i), fmt.Sprintf("offsetof(struct { char c; %s x; }, x)", s.cName))
		for j, f := range s.fields {
			if f.cName == "" {
				continue
			}
			member := fmt.Sprintf("((%s *)0)->%s", s.cName, f.cName)
			probe(fmt.Sprintf("%d_%d_offset", i, j), fmt.Sprintf("offsetof(%s, %s)", s.cName, f.cName))
			probe(fmt.Sprintf("%d_%d_size", i, j), fmt.Sprintf("sizeof(%s)", member))
			probe(fmt.Sprintf("%d_%d_align", i, j), fmt.Sprintf("offsetof(struct { char c; __typeof__(%s) x; }, x)", member))
		}
	}
	src := fmt.Sprintf("//go:build ignore\n\npackage aio\n\n/*\n%s\n#include <stddef.h>\n\nenum {\n%s};\n*/\nimport \"C\"\n\nconst (\n%s)\n",
		defs.preamble, c.String(), g.String())
	o, err := godefs(a, cflags, []byte(src))
	if err != nil {
		return nil, fmt.Errorf("layout probe: %w", err)
	}
	get := func(name string) (int64, error) {
		v, ok := o.constant("aioprobe_" + name)
		if !ok {
			return 0, fmt.Errorf("layout probe: cgo printed no aioprobe_%s", name)
		}
		return v, nil
	}
	res := map[string]layout{}
	for i, s := range structs {
		var l layout
		var err error
		if l.size, err = get(fmt.Sprintf("%d_size", i)); err != nil {
			return nil, err
		}
		if l.align, err = get(fmt.Sprintf("%d_align", i)); err != nil {
			return nil, err
		}
		l.fields = map[string]fieldLayout{}
		for j, f := range s.fields {
			if f.cName == "" {
				continue
			}
			var fl fieldLayout
			for _, p := range []struct {
				dst  *int64
				what string
			}{{&fl.offset, "offset"}, {&fl.size, "size"}, {&fl.align, "align"}} {
				if *p.dst, err = get(fmt.Sprintf("%d_%d_%s", i, j, p.what)); err != nil {
					return nil, err
				}
			}
			l.fields[f.cName] = fl
		}
		res[s.cName] = l
	}
	return res, nil
}
