// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package main

import "testing"

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
