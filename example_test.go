// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"sort"
	"time"
	"unsafe"

	"github.com/kernelio/aio"
	"golang.org/x/sys/unix"
)

// Read a file with one asynchronous request and wait for its completion.
func Example() {
	f, err := os.CreateTemp("", "aio-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.WriteString("hello, kernel AIO"); err != nil {
		log.Fatal(err)
	}

	ctx, err := aio.NewIoContext(8)
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()

	// The kernel writes buf after Submit returns: it must stay reachable
	// until the completion is reaped (see the package documentation).
	buf := make([]byte, 4096)
	cb := &aio.IoControlBlock{
		LioOpcode: aio.IOCB_CMD_PREAD,
		Fildes:    uint32(f.Fd()),
		Buf:       uint64(uintptr(unsafe.Pointer(&buf[0]))),
		Nbytes:    uint64(len(buf)),
		Offset:    0,
		Data:      1,
	}
	if _, err := ctx.Submit([]*aio.IoControlBlock{cb}); err != nil {
		log.Fatal(err)
	}
	events := make([]aio.IoEvent, 1)
	if _, err := ctx.GetEvents(1, events, nil); err != nil {
		log.Fatal(err)
	}
	ev := events[0]
	if ev.Res < 0 {
		log.Fatal(unix.Errno(-ev.Res))
	}
	fmt.Printf("request %d read %d bytes: %s\n", ev.Data, ev.Res, buf[:ev.Res])
	runtime.KeepAlive(buf)
	// Output: request 1 read 17 bytes: hello, kernel AIO
}

// Wait for completions with a timeout; a zero timeout only polls.
func ExampleIoContext_GetEvents() {
	ctx, err := aio.NewIoContext(8)
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	events := make([]aio.IoEvent, 16)
	timeout := unix.NsecToTimespec(10e6) // 10ms
	n, err := ctx.GetEvents(1, events, &timeout)
	fmt.Println(n, err)
	// Output: 0 <nil>
}

// Read four blocks of a file with O_DIRECT in one batch, into page-aligned
// memory outside the Go heap, and reap the completions in any order.
func Example_directRead() {
	const block = 4096
	dir, err := os.MkdirTemp("", "aio-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	name := dir + "/data"
	data := make([]byte, 4*block)
	for i := 0; i < 4; i++ {
		copy(data[i*block:], fmt.Sprintf("block-%d", i))
	}
	if err := os.WriteFile(name, data, 0o600); err != nil {
		log.Fatal(err)
	}

	fd, err := aio.OpenDirect(name, unix.O_RDONLY, 0)
	if errors.Is(err, aio.ErrNoDirectIO) {
		fd, err = unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0) // tmpfs before Linux 6.6
	}
	if err != nil {
		log.Fatal(err)
	}
	defer unix.Close(fd)

	buf, err := aio.AllocBuffer(4 * block) // page-aligned, never moved or freed by the GC
	if err != nil {
		log.Fatal(err)
	}
	defer aio.FreeBuffer(buf)

	ctx, err := aio.NewIoContext(16)
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()

	cbs := make([]*aio.IoControlBlock, 4)
	for i := range cbs {
		cbs[i] = new(aio.IoControlBlock)
		cbs[i].PrepPread(fd, buf[i*block:(i+1)*block], int64(i*block))
		cbs[i].Data = uint64(i)
	}
	for done := 0; done < len(cbs); {
		n, err := ctx.Submit(cbs[done:]) // the kernel may take fewer than asked
		if err != nil {
			log.Fatal(err)
		}
		done += n
	}
	events := make([]aio.IoEvent, len(cbs))
	for got := 0; got < len(cbs); {
		n, err := ctx.GetEvents(len(cbs)-got, events[got:], nil)
		if err != nil {
			log.Fatal(err)
		}
		got += n
	}
	sort.Slice(events, func(i, j int) bool { return events[i].Data < events[j].Data })
	for _, ev := range events {
		if ev.Res < 0 {
			log.Fatal(unix.Errno(-ev.Res))
		}
		b := buf[ev.Data*block:][:ev.Res]
		fmt.Printf("%d: %s\n", ev.Data, bytes.TrimRight(b, "\x00"))
	}
	// Output:
	// 0: block-0
	// 1: block-1
	// 2: block-2
	// 3: block-3
}

// Wait parks the goroutine, not an OS thread, until a completion arrives or
// the context's deadline passes.
func ExampleIoContext_Wait() {
	ctx, err := aio.NewIoContext(8)
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		log.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])

	cb := new(aio.IoControlBlock)
	cb.PrepPoll(p[0], unix.POLLIN) // completes when the pipe has data
	cb.Data = 42
	if _, err := ctx.Submit([]*aio.IoControlBlock{cb}); err != nil {
		log.Fatal(err)
	}
	events := make([]aio.IoEvent, 1)

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	n, err := ctx.Wait(short, 1, events)
	fmt.Println(n, err)

	go unix.Write(p[1], []byte("x"))
	long, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	n, err = ctx.Wait(long, 1, events)
	fmt.Println(n, err, events[0].Data, events[0].Res&unix.POLLIN != 0)
	// Output:
	// 0 context deadline exceeded
	// 1 <nil> 42 true
}

// An eventfd that the kernel bumps for each completion, for a poll loop of
// the caller's own, or to be waited on by a goroutine.
func ExampleEventfd() {
	ctx, err := aio.NewIoContext(8)
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	efd, err := aio.NewEventfd()
	if err != nil {
		log.Fatal(err)
	}
	defer efd.Close()
	zero, err := os.Open("/dev/zero")
	if err != nil {
		log.Fatal(err)
	}
	defer zero.Close()

	buf := make([]byte, 512)
	cbs := make([]*aio.IoControlBlock, 3)
	for i := range cbs {
		cbs[i] = new(aio.IoControlBlock)
		cbs[i].PrepPread(int(zero.Fd()), buf, 0)
		cbs[i].SetEventfd(efd.Fd())
	}
	if _, err := ctx.Submit(cbs); err != nil {
		log.Fatal(err)
	}
	count := uint64(0)
	for count < 3 {
		n, err := efd.Wait(context.Background()) // parks the goroutine
		if err != nil {
			log.Fatal(err)
		}
		count += n
	}
	events := make([]aio.IoEvent, 3)
	n, err := ctx.GetEvents(3, events, nil) // all there: no system call
	fmt.Println(count, n, err)
	runtime.KeepAlive(buf)
	// Output: 3 3 <nil>
}
