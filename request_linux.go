// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Request is an IoControlBlock that pins the Go memory it points to, with a
// runtime.Pinner, from its Prep call until Release. That meets the first two
// rules of "Memory handed to the kernel" in the package documentation: the
// garbage collector neither frees nor moves the memory, even if the caller
// lets go of it, and a buffer the compiler would have kept on a goroutine
// stack goes to the heap instead. Alignment for O_DIRECT is still the
// caller's to get right.
//
// Submit &r.IoControlBlock. Call Release once the request's completion has
// been reaped; the next Prep call releases the previous pins itself. A
// Request must not be copied, and must be released before it is dropped:
// the Go runtime panics when it collects a Pinner that still pins memory.
type Request struct {
	IoControlBlock
	pinner runtime.Pinner
}

// PrepPread releases r's pins, prepares a read into buf (see
// IoControlBlock.PrepPread) and pins buf.
func (r *Request) PrepPread(fd int, buf []byte, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPread(fd, buf, offset)
	r.pinBytes(buf)
}

// PrepPwrite releases r's pins, prepares a write of buf and pins buf.
func (r *Request) PrepPwrite(fd int, buf []byte, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPwrite(fd, buf, offset)
	r.pinBytes(buf)
}

// PrepPreadv releases r's pins, prepares a vectored read, and pins the iovec
// array and every buffer it points to.
func (r *Request) PrepPreadv(fd int, iovs []unix.Iovec, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPreadv(fd, iovs, offset)
	r.pinIovecs(iovs)
}

// PrepPwritev releases r's pins, prepares a vectored write, and pins the
// iovec array and every buffer it points to.
func (r *Request) PrepPwritev(fd int, iovs []unix.Iovec, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPwritev(fd, iovs, offset)
	r.pinIovecs(iovs)
}

// PrepFsync releases r's pins and prepares an fsync (see
// IoControlBlock.PrepFsync), which points to no memory.
func (r *Request) PrepFsync(fd int) {
	r.Release()
	r.IoControlBlock.PrepFsync(fd)
}

// PrepFdsync releases r's pins and prepares an fdatasync.
func (r *Request) PrepFdsync(fd int) {
	r.Release()
	r.IoControlBlock.PrepFdsync(fd)
}

// PrepPoll releases r's pins and prepares a poll, which points to no memory.
func (r *Request) PrepPoll(fd int, events int16) {
	r.Release()
	r.IoControlBlock.PrepPoll(fd, events)
}

// Release unpins the memory r pinned. It may be called any number of times.
func (r *Request) Release() { r.pinner.Unpin() }

func (r *Request) pinBytes(b []byte) {
	if len(b) > 0 {
		r.pinner.Pin(&b[0])
	}
}

func (r *Request) pinIovecs(iovs []unix.Iovec) {
	if len(iovs) == 0 {
		return
	}
	r.pinner.Pin(&iovs[0])
	for i := range iovs {
		if iovs[i].Base != nil {
			r.pinner.Pin(iovs[i].Base)
		}
	}
}
