// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// aioSigset is the kernel's struct __aio_sigset, the last argument of
// io_pgetevents: a pointer and a size_t, both the size of a pointer on every
// Linux architecture (and in the 32-bit compat ABI).
type aioSigset struct {
	sigmask *unix.Sigset_t
	size    uintptr
}

// PGetEvents is GetEvents with the thread's signal mask replaced by sigmask
// for the wait (io_pgetevents(2), Linux 4.18 and later), as ppoll is to
// poll. A nil sigmask leaves the mask alone. Only the first
// sizeofKernelSigset bytes of sigmask count: the kernel's sigset_t, 64
// signals (128 on mips). On 32-bit architectures it uses the time64 system
// call where the kernel has it (Linux 5.1 and later), so that the timeout is
// read as the kernel's 64-bit timespec. Completions already in the ring are
// returned without a system call, as by GetEvents; EINTR is retried the same
// way.
func (c *IoContext) PGetEvents(minNr int, events []IoEvent, timeout *unix.Timespec, sigmask *unix.Sigset_t) (int, error) {
	if !c.enter() {
		return 0, ErrClosed
	}
	defer c.leave()
	sigset := &aioSigset{sigmask: sigmask, size: sizeofKernelSigset}
	if sigmask == nil {
		sigset.size = 0
	}
	return c.getEvents(minNr, events, timeout, sigset)
}

// pgeteventsTimespec calls an io_pgetevents whose timespec is unix.Timespec:
// the only one of 64-bit architectures, the time32 one of 32-bit ones.
func pgeteventsTimespec(trap, id uintptr, minNr, nr int, events unsafe.Pointer, ts *unix.Timespec, sigset *aioSigset) (int, unix.Errno) {
	n, _, e := unix.Syscall6(trap, id, uintptr(minNr), uintptr(nr), uintptr(events),
		uintptr(unsafe.Pointer(ts)), uintptr(unsafe.Pointer(sigset)))
	return int(n), e
}
