// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux && !(386 || arm || mips || mipsle)

package aio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// pgetevents calls io_pgetevents, whose timespec is unix.Timespec on 64-bit
// architectures.
func pgetevents(id uintptr, minNr, nr int, events unsafe.Pointer, ts *unix.Timespec, sigset *aioSigset) (int, unix.Errno) {
	return pgeteventsTimespec(unix.SYS_IO_PGETEVENTS, id, minNr, nr, events, ts, sigset)
}
