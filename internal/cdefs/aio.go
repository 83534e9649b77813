// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build ignore

// Input to cgo -godefs. The generator (../../gen) runs it once per GOARCH
// with that architecture's C cross compiler and kernel headers, then writes
// ../../zaio_linux_GOARCH.go from what cgo printed. Only names listed here
// reach the generated files; the generator refuses any it has no doc for.

package aio

/*
#include <linux/aio_abi.h>
#include <linux/ioprio.h>
#include <linux/time_types.h>
#include <linux/version.h>
#include <asm/signal.h>

// The size of the kernel's sigset_t, which io_pgetevents insists on: _NSIG/8.
// x86's and arm's UAPI headers keep _NSIG to the kernel; there it is 64, as in
// asm-generic. mips, whose _NSIG is 128, exports it.
#ifdef _NSIG
enum { kernel_sigset_size = _NSIG / 8 };
#else
enum { kernel_sigset_size = 64 / 8 };
#endif
*/
import "C"

// Opcodes for struct iocb's aio_lio_opcode. They are a C enum, which is why
// they come through cgo rather than from #define scraping.
const (
	IOCB_CMD_PREAD   = C.IOCB_CMD_PREAD
	IOCB_CMD_PWRITE  = C.IOCB_CMD_PWRITE
	IOCB_CMD_FSYNC   = C.IOCB_CMD_FSYNC
	IOCB_CMD_FDSYNC  = C.IOCB_CMD_FDSYNC
	IOCB_CMD_POLL    = C.IOCB_CMD_POLL
	IOCB_CMD_NOOP    = C.IOCB_CMD_NOOP
	IOCB_CMD_PREADV  = C.IOCB_CMD_PREADV
	IOCB_CMD_PWRITEV = C.IOCB_CMD_PWRITEV
)

// Flags for struct iocb's aio_flags.
const (
	IOCB_FLAG_RESFD  = C.IOCB_FLAG_RESFD
	IOCB_FLAG_IOPRIO = C.IOCB_FLAG_IOPRIO
)

const (
	SizeofIoControlBlock = C.sizeof_struct_iocb
	SizeofIoEvent        = C.sizeof_struct_io_event
)

// I/O priority classes and levels for IoControlBlock.Reqprio, from
// <linux/ioprio.h>; golang.org/x/sys/unix does not have them.
const (
	IOPRIO_CLASS_NONE  = C.IOPRIO_CLASS_NONE
	IOPRIO_CLASS_RT    = C.IOPRIO_CLASS_RT
	IOPRIO_CLASS_BE    = C.IOPRIO_CLASS_BE
	IOPRIO_CLASS_IDLE  = C.IOPRIO_CLASS_IDLE
	IOPRIO_CLASS_SHIFT = C.IOPRIO_CLASS_SHIFT
	IOPRIO_CLASS_MASK  = C.IOPRIO_CLASS_MASK
	IOPRIO_PRIO_MASK   = C.IOPRIO_PRIO_MASK
	IOPRIO_NR_LEVELS   = C.IOPRIO_NR_LEVELS
	IOPRIO_NORM        = C.IOPRIO_NORM
)

// For io_pgetevents: the sigset size the kernel checks, and the 64-bit
// timespec of its time64 variant on 32-bit architectures.
const sizeofKernelSigset = C.kernel_sigset_size

type kernelTimespec C.struct___kernel_timespec

type IoControlBlock C.struct_iocb

type IoEvent C.struct_io_event

// The version of the headers, for the generated files' header line.
const linuxVersionCode = C.LINUX_VERSION_CODE
