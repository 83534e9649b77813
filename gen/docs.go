// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package main

// docs holds the doc comment of every name the generated files export, keyed
// by its C name. The generator refuses a name that is missing here, so a new
// header field or constant cannot slip into the package undocumented.
var docs = map[string]string{
	"IOCB_CMD_PREAD": "IOCB_CMD_PREAD reads Nbytes bytes from Fildes at Offset into the " +
		"buffer at Buf, like pread(2).",
	"IOCB_CMD_PWRITE": "IOCB_CMD_PWRITE writes Nbytes bytes from the buffer at Buf to " +
		"Fildes at Offset, like pwrite(2).",
	"IOCB_CMD_FSYNC": "IOCB_CMD_FSYNC flushes the data and metadata of Fildes to storage, " +
		"like fsync(2). Buf, Nbytes, Offset and RwFlags must be zero.",
	"IOCB_CMD_FDSYNC": "IOCB_CMD_FDSYNC flushes the data of Fildes to storage, like " +
		"fdatasync(2). Buf, Nbytes, Offset and RwFlags must be zero.",
	"IOCB_CMD_POLL": "IOCB_CMD_POLL waits once for Fildes to become ready for the poll " +
		"events in Buf (unix.POLLIN, ...); the completion's Res holds the ready events. " +
		"It is asynchronous on anything pollable, and the only opcode besides USB gadget " +
		"I/O that Cancel can stop. Linux 4.18 and later.",
	"IOCB_CMD_NOOP": "IOCB_CMD_NOOP is named by the header, but every kernel rejects it " +
		"at Submit with EINVAL.",
	"IOCB_CMD_PREADV": "IOCB_CMD_PREADV reads from Fildes at Offset into the Nbytes " +
		"unix.Iovec entries of the array at Buf, like preadv(2).",
	"IOCB_CMD_PWRITEV": "IOCB_CMD_PWRITEV writes the Nbytes unix.Iovec entries of the " +
		"array at Buf to Fildes at Offset, like pwritev(2).",
	"IOCB_FLAG_RESFD": "IOCB_FLAG_RESFD makes the kernel add 1 to the eventfd in Resfd " +
		"when the request completes, so that completions can be awaited with poll, epoll " +
		"or Go's runtime poller instead of a blocked thread.",
	"IOCB_FLAG_IOPRIO": "IOCB_FLAG_IOPRIO makes the kernel use Reqprio as the request's " +
		"I/O priority (class<<13 | level, as ioprio_set(2) takes it) instead of the " +
		"submitting thread's. Linux 4.18 and later.",
	"sizeof_struct_iocb": "SizeofIoControlBlock is the size of struct iocb in bytes: " +
		"64 on every architecture.",
	"sizeof_struct_io_event": "SizeofIoEvent is the size of struct io_event in bytes: " +
		"32 on every architecture.",

	"IOPRIO_CLASS_NONE": "IOPRIO_CLASS_NONE is the I/O priority class of a request " +
		"that has none of its own: it gets the submitting thread's.",
	"IOPRIO_CLASS_RT": "IOPRIO_CLASS_RT is the real-time I/O priority class, served " +
		"before any other; setting it needs CAP_SYS_ADMIN (or CAP_SYS_NICE).",
	"IOPRIO_CLASS_BE":    "IOPRIO_CLASS_BE is the best-effort I/O priority class, every process's default.",
	"IOPRIO_CLASS_IDLE":  "IOPRIO_CLASS_IDLE is the idle I/O priority class, served only when the disk has nothing else to do.",
	"IOPRIO_CLASS_SHIFT": "IOPRIO_CLASS_SHIFT is where the class sits in an I/O priority value: class<<IOPRIO_CLASS_SHIFT | level.",
	"IOPRIO_CLASS_MASK":  "IOPRIO_CLASS_MASK masks the class of an I/O priority value, once shifted down.",
	"IOPRIO_PRIO_MASK":   "IOPRIO_PRIO_MASK masks the level (data) of an I/O priority value.",
	"IOPRIO_NR_LEVELS":   "IOPRIO_NR_LEVELS is the number of levels of the RT and BE classes: 0 (highest) to 7.",
	"IOPRIO_NORM":        "IOPRIO_NORM is the level a best-effort request gets by default.",
	"kernel_sigset_size": "sizeofKernelSigset is the size of the kernel's sigset_t, which " +
		"io_pgetevents checks: 8 bytes, 16 on mips.",
	"struct __kernel_timespec": "kernelTimespec is struct __kernel_timespec: the 64-bit " +
		"timespec that the time64 system calls of 32-bit architectures take.",
	"__kernel_timespec.tv_sec":  "Sec is whole seconds.",
	"__kernel_timespec.tv_nsec": "Nsec is nanoseconds, 0 to 999999999.",

	"struct iocb": "IoControlBlock is struct iocb: one asynchronous I/O request, " +
		"handed to IoContext.Submit.\n\n" +
		"The kernel copies the block during Submit and afterwards keeps only its address, " +
		"to report it in IoEvent.Obj and to find the request for Cancel: the block itself " +
		"may be reused once Submit returns, but the memory that Buf points to may not be " +
		"until the request's completion has been reaped. The order of Key and RwFlags " +
		"follows the architecture's byte order, as in <linux/aio_abi.h>.",
	"iocb.aio_data": "Data comes back unchanged in IoEvent.Data: a cookie " +
		"that tells the caller which request completed.",
	"iocb.aio_key": "Key is set by the kernel during Submit and checked by Cancel; " +
		"leave it zero.",
	"iocb.aio_rw_flags": "RwFlags holds RWF_* flags for this read or write " +
		"(unix.RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_NOWAIT, RWF_APPEND), as " +
		"preadv2(2) takes them. A flag the kernel does not know fails Submit with " +
		"EOPNOTSUPP.",
	"iocb.aio_lio_opcode": "LioOpcode is the operation: one of the IOCB_CMD_* constants.",
	"iocb.aio_reqprio":    "Reqprio is the request's I/O priority, used when Flags has IOCB_FLAG_IOPRIO.",
	"iocb.aio_fildes":     "Fildes is the file descriptor that the request works on.",
	"iocb.aio_buf": "Buf is the address of the data buffer (PREAD, PWRITE), of the " +
		"unix.Iovec array (PREADV, PWRITEV) or, for POLL, the events to wait for. The " +
		"kernel reads or writes that memory after Submit has returned: see the package " +
		"documentation for which memory may be used.",
	"iocb.aio_nbytes": "Nbytes is the length of the buffer in bytes, or the number of " +
		"iovecs for PREADV and PWRITEV.",
	"iocb.aio_offset": "Offset is the file offset at which the I/O starts; a negative " +
		"one fails Submit with EINVAL.",
	"iocb.aio_reserved2": "Reserved2 must be zero: anything else fails Submit with EINVAL.",
	"iocb.aio_flags":     "Flags holds IOCB_FLAG_* bits.",
	"iocb.aio_resfd":     "Resfd is the eventfd signalled at completion when Flags has IOCB_FLAG_RESFD.",

	"struct io_event": "IoEvent is struct io_event: the completion of one request, " +
		"as IoContext.GetEvents returns it.",
	"io_event.data": "Data is the request's IoControlBlock.Data.",
	"io_event.obj":  "Obj is the address of the request's IoControlBlock, as it was passed to Submit.",
	"io_event.res": "Res is the result: the number of bytes transferred by a read or " +
		"write (possibly fewer than asked), 0 for FSYNC and FDSYNC, the ready events for " +
		"POLL, or a negated errno such as -int64(unix.EIO) when the request failed " +
		"(see Err).",
	"io_event.res2": "Res2 is a secondary result, 0 for files and block devices.",
}
