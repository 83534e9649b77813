// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

// Package aio is Linux native asynchronous I/O for Go: io_setup, io_submit,
// io_getevents, io_cancel and io_destroy, with the kernel's struct iocb and
// struct io_event laid out right for every architecture.
//
// It is for programs that need truly asynchronous disk I/O from few threads:
// block backends of virtual machine monitors, storage engines and databases
// that use O_DIRECT. It has three layers, each built on the exported API of
// the one below:
//
//   - File: ReadAt, WriteAt and Sync with the contracts of io.ReaderAt,
//     io.WriterAt and *os.File, from any number of goroutines, with any
//     buffer, offset and length, over O_DIRECT AIO; what most programs want.
//   - Queue: one IoContext shared by any number of goroutines, each parked
//     until its own request completes, with the requests that arrive
//     together batched into one io_submit and no EAGAIN for a full ring.
//   - IoContext: the system calls themselves, below.
//
// An IoContext is one kernel AIO context; requests are
// IoControlBlocks handed to Submit, and their completions come back as
// IoEvents from GetEvents:
//
//	ctx, err := aio.NewIoContext(128)
//	...
//	cb := aio.IoControlBlock{
//		LioOpcode: aio.IOCB_CMD_PREAD,
//		Fildes:    uint32(fd),
//		Buf:       uint64(uintptr(unsafe.Pointer(&buf[0]))),
//		Nbytes:    uint64(len(buf)),
//		Offset:    0,
//		Data:      7, // comes back in IoEvent.Data
//	}
//	n, err := ctx.Submit([]*aio.IoControlBlock{&cb})
//	...
//	events := make([]aio.IoEvent, 1)
//	n, err = ctx.GetEvents(1, events, nil)
//
// Prep methods fill a block in (PrepPread, PrepPwritev, PrepPoll, ...), and
// SetIoprio, SetEventfd and the RwFlags field reach the rest of the kernel's
// request options.
//
// # Reaping and waiting
//
// GetEvents takes completions straight from the ring that the kernel maps
// into the process when that is enough, and enters the kernel only to wait;
// a non-blocking GetEvents on an empty ring costs a few tens of nanoseconds
// instead of a system call. A GetEvents that waits blocks an OS thread, as
// does PGetEvents, its io_pgetevents twin. Wait parks the goroutine instead:
// it waits on an eventfd registered with Go's runtime poller, which Submit
// attaches to every request once the context has one (see
// IoContext.Eventfd), and takes a context.Context for deadlines and
// cancellation.
//
// # What is asynchronous
//
// The kernel completes a request inside io_submit unless the file can do it
// asynchronously: in practice, regular files opened with O_DIRECT on a file
// system that supports it (ext4, xfs, btrfs) and block devices. Buffered
// files, pipes and /dev/zero complete, or block, during Submit. IOCB_CMD_POLL
// is asynchronous on anything pollable.
//
// # Memory handed to the kernel
//
// This section is the one statement of the rules; the methods that take
// memory refer to it.
//
// Buf holds a plain address, and the kernel reads or writes the memory there
// after Submit has returned, until the completion is reaped. Go's garbage
// collector cannot see that use: memory it considers unreachable may be freed
// and reused while the kernel still writes into it, and a goroutine's stack
// moves when it grows. So from Submit until its completion is reaped, memory
// handed to the kernel (a buffer, or for the vectored opcodes the unix.Iovec
// array and every buffer it points to) must
//
//   - not live on a goroutine stack: allocate it on the heap (make, new) or
//     outside the Go heap (AllocBuffer, unix.Mmap);
//   - stay reachable and where it is: keep it in a structure you hold, and
//     touch neither it nor its length meanwhile;
//   - for O_DIRECT, be aligned as DirectIOAlignment says, as must the length
//     and the offset.
//
// AllocBuffer memory meets all three: it is page-aligned, outside the Go
// heap, and neither moved nor freed until FreeBuffer, which must wait until
// no request uses it. Request meets the first two for Go memory: it pins what
// its Prep methods are given until Release.
//
// The IoControlBlock itself is only read during Submit, which may set its
// Flags and Resfd (see IoContext.Eventfd); it may be reused, or prepared
// again, once Submit returns. IoEvent.Obj reports its address, which stays
// meaningful as long as the caller keeps the block at that address. Close
// waits for every request in flight: once it returns, the kernel uses none
// of the memory it was handed.
//
// # Errors
//
// Errors are the kernel's syscall.Errno values, returned without allocation:
// test them with errors.Is(err, unix.EINVAL). Errors of the I/O itself (EIO,
// EINVAL for a misaligned O_DIRECT buffer, EAGAIN for RWF_NOWAIT) do not come
// from Submit but in IoEvent.Res, as a negated errno.
package aio

//go:generate ./mkall.sh
