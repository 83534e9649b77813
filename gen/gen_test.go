// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package main

import (
	"go/ast"
	"testing"
)

func TestNames(t *testing.T) {
	iocb := []string{"aio_data", "aio_key", "aio_rw_flags", "aio_lio_opcode", "aio_reserved2"}
	for _, c := range []struct{ c, cgo, goName string }{
		{"aio_data", "Data", "Data"},
		{"aio_rw_flags", "Rw_flags", "RwFlags"},
		{"aio_lio_opcode", "Lio_opcode", "LioOpcode"},
		{"aio_reserved2", "Reserved2", "Reserved2"},
	} {
		if got := cgoFieldName(c.c, iocb); got != c.cgo {
			t.Errorf("cgoFieldName(%q) = %q, want %q", c.c, got, c.cgo)
		}
		if got := goName(c.cgo); got != c.goName {
			t.Errorf("goName(%q) = %q, want %q", c.cgo, got, c.goName)
		}
	}
	// No shared prefix: io_event's fields keep their names.
	ev := []string{"data", "obj", "res", "res2"}
	if got := cgoFieldName("res2", ev); got != "Res2" {
		t.Errorf("cgoFieldName(res2) = %q", got)
	}
	// Mixed prefixes: cgo strips nothing.
	if got := cgoFieldName("tv_sec", []string{"tv_sec", "ts_nsec"}); got != "Tv_sec" {
		t.Errorf("mixed prefixes: %q", got)
	}
}

func TestDocsCoverStructs(t *testing.T) {
	for _, s := range []string{"struct iocb", "struct io_event"} {
		if _, ok := docs[s]; !ok {
			t.Errorf("no doc for %s", s)
		}
		if n := len(cFields(s)); n == 0 {
			t.Errorf("no field docs for %s", s)
		}
	}
}

// TestCommonDecls: a constant or struct goes to zaio_linux.go only when cgo
// printed it the same for every architecture.
func TestCommonDecls(t *testing.T) {
	u64 := &ast.Ident{Name: "uint64"}
	u32 := &ast.Ident{Name: "uint32"}
	res := func(sigset int64, second *ast.Ident) *result {
		return &result{
			out: &output{groups: [][]constant{
				{{"IOCB_CMD_PREAD", 0}, {"IOCB_CMD_PWRITE", 1}},
				{{"sizeofKernelSigset", sigset}},
			}},
			structs: []cStruct{
				{goName: "IoEvent", fields: []cField{{goName: "Data", goField: goField{"Data", u64}}}},
				{goName: "IoControlBlock", fields: []cField{
					{goName: "Data", goField: goField{"Data", u64}},
					{goName: "Key", goField: goField{"Key", second}},
				}},
			},
		}
	}
	common := commonDecls([]*result{res(8, u32), res(16, u32), res(8, u64)})
	for name, want := range map[string]bool{
		"IOCB_CMD_PREAD":     true,
		"IOCB_CMD_PWRITE":    true,
		"IoEvent":            true,
		"sizeofKernelSigset": false,
		"IoControlBlock":     false,
	} {
		if common[name] != want {
			t.Errorf("common[%s] = %v, want %v", name, common[name], want)
		}
	}
}
