// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux && (386 || arm || mips || mipsle)

package aio

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// noTime64 is set once the kernel has said ENOSYS to io_pgetevents_time64
// (before Linux 5.1).
var noTime64 atomic.Bool

// pgetevents calls io_pgetevents_time64 with the timeout widened to the
// kernel's 64-bit timespec, falling back to the time32 call on old kernels.
func pgetevents(id uintptr, minNr, nr int, events unsafe.Pointer, ts *unix.Timespec, sigset *aioSigset) (int, unix.Errno) {
	if !noTime64.Load() {
		var kts *kernelTimespec
		var k kernelTimespec
		if ts != nil {
			k = kernelTimespec{Sec: int64(ts.Sec), Nsec: int64(ts.Nsec)}
			kts = &k
		}
		n, _, e := unix.Syscall6(unix.SYS_IO_PGETEVENTS_TIME64, id, uintptr(minNr), uintptr(nr),
			uintptr(events), uintptr(unsafe.Pointer(kts)), uintptr(unsafe.Pointer(sigset)))
		if e != unix.ENOSYS {
			return int(n), e
		}
		noTime64.Store(true)
	}
	return pgeteventsTimespec(unix.SYS_IO_PGETEVENTS, id, minNr, nr, events, ts, sigset)
}
