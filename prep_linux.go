// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Prep methods reset a block and fill it in for one operation, as
// libaio's io_prep_* functions do. They store the address of the memory they
// are given and nothing else. An empty buffer is allowed and transfers
// nothing.

// PrepPread makes cb read len(buf) bytes from fd at offset into buf. It
// stores buf's address only: see "Memory handed to the kernel" in the
// package documentation, or use Request.PrepPread, which pins buf.
func (cb *IoControlBlock) PrepPread(fd int, buf []byte, offset int64) {
	cb.prepRW(IOCB_CMD_PREAD, fd, unsafe.Pointer(unsafe.SliceData(buf)), len(buf), offset)
}

// PrepPwrite makes cb write buf to fd at offset. It stores buf's address
// only: see "Memory handed to the kernel" in the package documentation, or
// use Request.PrepPwrite, which pins buf.
func (cb *IoControlBlock) PrepPwrite(fd int, buf []byte, offset int64) {
	cb.prepRW(IOCB_CMD_PWRITE, fd, unsafe.Pointer(unsafe.SliceData(buf)), len(buf), offset)
}

// PrepPreadv makes cb read from fd at offset into the buffers of iovs. It
// stores the address of iovs only: see "Memory handed to the kernel" in the
// package documentation, or use Request.PrepPreadv, which pins iovs and its
// buffers.
func (cb *IoControlBlock) PrepPreadv(fd int, iovs []unix.Iovec, offset int64) {
	cb.prepRW(IOCB_CMD_PREADV, fd, unsafe.Pointer(unsafe.SliceData(iovs)), len(iovs), offset)
}

// PrepPwritev makes cb write the buffers of iovs to fd at offset. It stores
// the address of iovs only: see "Memory handed to the kernel" in the package
// documentation, or use Request.PrepPwritev, which pins iovs and its
// buffers.
func (cb *IoControlBlock) PrepPwritev(fd int, iovs []unix.Iovec, offset int64) {
	cb.prepRW(IOCB_CMD_PWRITEV, fd, unsafe.Pointer(unsafe.SliceData(iovs)), len(iovs), offset)
}

// PrepFsync makes cb flush fd's data and metadata to storage.
func (cb *IoControlBlock) PrepFsync(fd int) {
	*cb = IoControlBlock{LioOpcode: IOCB_CMD_FSYNC, Fildes: uint32(fd)}
}

// PrepFdsync makes cb flush fd's data to storage.
func (cb *IoControlBlock) PrepFdsync(fd int) {
	*cb = IoControlBlock{LioOpcode: IOCB_CMD_FDSYNC, Fildes: uint32(fd)}
}

// PrepPoll makes cb wait once for fd to be ready for events (unix.POLLIN,
// unix.POLLOUT, ...); the completion's Res holds the events that were ready.
func (cb *IoControlBlock) PrepPoll(fd int, events int16) {
	*cb = IoControlBlock{LioOpcode: IOCB_CMD_POLL, Fildes: uint32(fd), Buf: uint64(uint16(events))}
}

func (cb *IoControlBlock) prepRW(op uint16, fd int, p unsafe.Pointer, n int, offset int64) {
	*cb = IoControlBlock{
		LioOpcode: op,
		Fildes:    uint32(fd),
		Buf:       uint64(uintptr(p)),
		Nbytes:    uint64(n),
		Offset:    offset,
	}
}

// SetEventfd makes the kernel add 1 to the eventfd fd when cb completes
// (IOCB_FLAG_RESFD).
func (cb *IoControlBlock) SetEventfd(fd int) {
	cb.Flags |= IOCB_FLAG_RESFD
	cb.Resfd = uint32(fd)
}

// SetIoprio gives cb its own I/O priority (IOCB_FLAG_IOPRIO): class is one of
// the IOPRIO_CLASS_* constants and level goes from 0 (highest) to
// IOPRIO_NR_LEVELS-1. The kernel checks both at Submit: EINVAL for values out
// of range, EPERM for IOPRIO_CLASS_RT without the capability.
func (cb *IoControlBlock) SetIoprio(class, level int) {
	cb.Flags |= IOCB_FLAG_IOPRIO
	cb.Reqprio = IoprioValue(class, level)
}

// IoprioValue builds the I/O priority value of a class and a level, as
// IOPRIO_PRIO_VALUE does in C (Linux 6.5 and later): class<<IOPRIO_CLASS_SHIFT
// | level. A class outside 0 to 7 or a level outside 0 to IOPRIO_NR_LEVELS-1
// gives the value of the invalid class 7 instead, which the kernel rejects
// with EINVAL, rather than bits that would spill into the hint or wrap to
// another class, which the kernel would take.
func IoprioValue(class, level int) int16 {
	if class < 0 || class > IOPRIO_CLASS_MASK || level < 0 || level >= IOPRIO_NR_LEVELS {
		v := uint16(ioprioClassInvalid << IOPRIO_CLASS_SHIFT)
		return int16(v)
	}
	return int16(class<<IOPRIO_CLASS_SHIFT | level)
}

// ioprioClassInvalid is IOPRIO_CLASS_INVALID, which Linux 6.1's headers,
// those the constants are generated from, do not have yet.
const ioprioClassInvalid = 7
