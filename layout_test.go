// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"reflect"
	"testing"
	"unsafe"
)

// cStruct and cField hold what the C compiler said of a struct for this
// GOARCH; the generated zaio_linux_GOARCH_test.go fills cLayout with them.
type cStruct struct {
	GoName, CName string
	Size, Align   uintptr
	Fields        []cField
}

type cField struct {
	GoName, CName       string
	Offset, Size, Align uintptr
}

// goAlignMax is the largest alignment Go gives any field on this GOARCH: 4
// on 32-bit ones, where Go aligns 64-bit integers to 4 even when the C ABI
// (arm, mips) aligns them to 8.
const goAlignMax = unsafe.Alignof(uint64(0))

// TestLayoutAgainstC holds every Go struct and field against the sizes,
// offsets and alignments that the architecture's C compiler computed.
func TestLayoutAgainstC(t *testing.T) {
	types := map[string]reflect.Type{
		"IoControlBlock": reflect.TypeOf(IoControlBlock{}),
		"IoEvent":        reflect.TypeOf(IoEvent{}),
		"kernelTimespec": reflect.TypeOf(kernelTimespec{}),
	}
	if len(cLayout) != len(types) {
		t.Fatalf("cLayout has %d structs, the test knows %d", len(cLayout), len(types))
	}
	for _, cs := range cLayout {
		typ, ok := types[cs.GoName]
		if !ok {
			t.Errorf("no Go type %s for %s", cs.GoName, cs.CName)
			continue
		}
		if typ.Size() != cs.Size {
			t.Errorf("%s: Go size %d, C (%s) %d", cs.GoName, typ.Size(), cs.CName, cs.Size)
		}
		checkAlign(t, cs.GoName, uintptr(typ.Align()), cs.Align)
		var named int
		for i := 0; i < typ.NumField(); i++ {
			if typ.Field(i).Name != "_" {
				named++
			}
		}
		if named != len(cs.Fields) {
			t.Errorf("%s: Go has %d fields, C %d", cs.GoName, named, len(cs.Fields))
		}
		for _, cf := range cs.Fields {
			f, ok := typ.FieldByName(cf.GoName)
			if !ok {
				t.Errorf("%s has no field %s (C %s)", cs.GoName, cf.GoName, cf.CName)
				continue
			}
			name := cs.GoName + "." + cf.GoName
			if f.Offset != cf.Offset {
				t.Errorf("%s: Go offset %d, C (%s) %d", name, f.Offset, cf.CName, cf.Offset)
			}
			if f.Type.Size() != cf.Size {
				t.Errorf("%s: Go size %d, C (%s) %d", name, f.Type.Size(), cf.CName, cf.Size)
			}
			checkAlign(t, name, uintptr(f.Type.FieldAlign()), cf.Align)
		}
	}
}

// checkAlign wants Go's alignment to equal C's, except where C asks for more
// than Go ever gives on this GOARCH. The kernel copies these structs in and
// out without caring how they are aligned, so the offsets are what matters.
func checkAlign(t *testing.T, name string, goAlign, cAlign uintptr) {
	t.Helper()
	want := min(cAlign, goAlignMax)
	if goAlign != want {
		t.Errorf("%s: Go alignment %d, want %d (C says %d)", name, goAlign, want, cAlign)
	}
}

// TestLayoutSizes is the seed's layout test: the sizes are the same on every
// architecture, and match the generated Sizeof constants.
func TestLayoutSizes(t *testing.T) {
	for _, c := range []struct {
		name         string
		size, sizeof uintptr
		want         uintptr
	}{
		{"IoControlBlock", unsafe.Sizeof(IoControlBlock{}), SizeofIoControlBlock, 64},
		{"IoEvent", unsafe.Sizeof(IoEvent{}), SizeofIoEvent, 32},
	} {
		if c.size != c.want || c.sizeof != c.want {
			t.Errorf("%s is %d bytes and its Sizeof constant says %d, want %d", c.name, c.size, c.sizeof, c.want)
		}
	}
}
