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
#include <linux/version.h>
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

type IoControlBlock C.struct_iocb

type IoEvent C.struct_io_event

// The version of the headers, for the generated files' header line.
const linuxVersionCode = C.LINUX_VERSION_CODE
