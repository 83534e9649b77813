// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestNewIoContextZeroEvents(t *testing.T) {
	c, err := NewIoContext(0)
	if !errors.Is(err, unix.EINVAL) {
		t.Fatalf("NewIoContext(0) = %v, %v; want EINVAL", c, err)
	}
}

func TestNewIoContextTooMany(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/fs/aio-max-nr")
	if err != nil {
		t.Skip(err)
	}
	max, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil || max+1 > 1<<22 {
		t.Skipf("fs.aio-max-nr is %q", b)
	}
	_, err = NewIoContext(uint32(max + 1))
	if !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("NewIoContext(fs.aio-max-nr+1) = %v, want EAGAIN", err)
	}
	if !strings.Contains(err.Error(), "fs.aio-max-nr") {
		t.Errorf("error %q does not say what to raise", err)
	}
	// Absurd sizes are the kernel's EINVAL, not a cap of ours.
	if _, err := NewIoContext(1 << 24); !errors.Is(err, unix.EINVAL) {
		t.Errorf("NewIoContext(1<<24) = %v, want EINVAL", err)
	}
}

// TestReadZero is the seed's test, checking what it left out: the bytes, the
// Data round trip and the Obj address.
func TestReadZero(t *testing.T) {
	c := newContext(t, 128)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	bufs := [][]byte{bytes.Repeat([]byte{0xaa}, 4096), bytes.Repeat([]byte{0xbb}, 4096)}
	cbs := []*IoControlBlock{readCB(fd, bufs[0], 0, 100), readCB(fd, bufs[1], 0, 101)}
	if n, err := c.Submit(cbs); n != 2 || err != nil {
		t.Fatalf("Submit = %d, %v; want 2, nil", n, err)
	}
	seen := map[uint64]bool{}
	for _, ev := range reap(t, c, 2) {
		i := ev.Data - 100
		if i > 1 || seen[ev.Data] {
			t.Fatalf("unexpected or repeated Data %d", ev.Data)
		}
		seen[ev.Data] = true
		if ev.Obj != uint64(uintptr(unsafe.Pointer(cbs[i]))) {
			t.Errorf("event %d: Obj %#x, want the iocb's address %p", ev.Data, ev.Obj, cbs[i])
		}
		if ev.Res != 4096 || ev.Res2 != 0 {
			t.Errorf("event %d: Res %d Res2 %d, want 4096 0", ev.Data, ev.Res, ev.Res2)
		}
		if !bytes.Equal(bufs[i], make([]byte, 4096)) {
			t.Errorf("buffer %d was not zeroed", i)
		}
	}
	runtime.KeepAlive(bufs)
}

func TestCancelCompletedRequest(t *testing.T) {
	c := newContext(t, 128)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 16384)
	cb := readCB(fd, buf, 0, 1)
	if n, err := c.Submit([]*IoControlBlock{cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	var result IoEvent
	if err := c.Cancel(cb, &result); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Cancel of a finished read = %v, want EINVAL", err)
	}
	if ev := reap(t, c, 1)[0]; ev.Res != int64(len(buf)) || ev.Data != 1 {
		t.Errorf("event = %+v, want Res %d Data 1", ev, len(buf))
	}
	runtime.KeepAlive(buf)
}

func TestCancelPoll(t *testing.T) {
	c := newContext(t, 8)
	r, _ := pipeFDs(t)
	cb := pollCB(r, unix.POLLIN, 9)
	if n, err := c.Submit([]*IoControlBlock{cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if n := pending(t, c); n != 0 {
		t.Fatalf("a poll of an empty pipe completed at once (%d events)", n)
	}
	result := IoEvent{Data: 12345}
	if err := c.Cancel(cb, &result); err != nil {
		t.Fatalf("Cancel of a pending poll = %v, want nil", err)
	}
	if result.Data != 12345 {
		t.Errorf("Cancel wrote result: %+v", result)
	}
	ev := reap(t, c, 1)[0]
	if ev.Data != 9 || ev.Obj != uint64(uintptr(unsafe.Pointer(cb))) {
		t.Errorf("cancelled poll's event = %+v", ev)
	}
	if ev.Res != 0 {
		t.Errorf("cancelled poll's Res = %d, want 0 (no events ready)", ev.Res)
	}
	if err := c.Cancel(cb, &result); !errors.Is(err, unix.EINVAL) {
		t.Errorf("second Cancel = %v, want EINVAL", err)
	}
}

// TestObjAfterStackGrowth: a block the caller would otherwise keep on its
// stack keeps the address the kernel knows it by, however the stack moves.
func TestObjAfterStackGrowth(t *testing.T) {
	c := newContext(t, 8)
	r, w := pipeFDs(t)
	cb := IoControlBlock{LioOpcode: IOCB_CMD_POLL, Fildes: uint32(r), Buf: unix.POLLIN, Data: 5}
	if n, err := c.Submit([]*IoControlBlock{&cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	growStack(256)
	if _, err := unix.Write(w, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if ev := reap(t, c, 1)[0]; ev.Obj != uint64(uintptr(unsafe.Pointer(&cb))) || ev.Data != 5 {
		t.Errorf("Obj %#x, but the block is at %p", ev.Obj, &cb)
	}
}

// TestSubmitErrors checks the errors the kernel finds at submit time, and
// that a refused request leaves nothing behind.
func TestSubmitErrors(t *testing.T) {
	c := newContext(t, 32)
	name, rw := tempFile(t, 8192, unix.O_RDWR)
	wronly := openFile(t, name, unix.O_WRONLY)
	buf := make([]byte, 4096)
	tests := []struct {
		name  string
		edit  func(cb *IoControlBlock)
		errno unix.Errno
	}{
		{"bad fd", func(cb *IoControlBlock) { cb.Fildes = 1 << 20 }, unix.EBADF},
		{"fd -1", func(cb *IoControlBlock) { cb.Fildes = ^uint32(0) }, unix.EBADF},
		{"read of write-only fd", func(cb *IoControlBlock) { cb.Fildes = uint32(wronly) }, unix.EBADF},
		{"negative offset", func(cb *IoControlBlock) { cb.Offset = -4096 }, unix.EINVAL},
		{"unknown opcode", func(cb *IoControlBlock) { cb.LioOpcode = 99 }, unix.EINVAL},
		{"NOOP", func(cb *IoControlBlock) { cb.LioOpcode = IOCB_CMD_NOOP }, unix.EINVAL},
		{"Reserved2 set", func(cb *IoControlBlock) { cb.Reserved2 = 1 }, unix.EINVAL},
		{"unknown RWF flag", func(cb *IoControlBlock) { cb.RwFlags = 1 << 30 }, unix.EOPNOTSUPP},
		{"fsync with a buffer", func(cb *IoControlBlock) { cb.LioOpcode = IOCB_CMD_FSYNC }, unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := readCB(rw, buf, 0, 1)
			tt.edit(cb)
			n, err := c.Submit([]*IoControlBlock{cb})
			if n != 0 || !errors.Is(err, tt.errno) {
				t.Errorf("Submit = %d, %v; want 0, %v", n, err, tt.errno)
			}
			if k := pending(t, c); k != 0 {
				t.Errorf("%d completions for a refused request", k)
			}
		})
	}
	t.Run("nil iocb", func(t *testing.T) {
		if n, err := c.Submit([]*IoControlBlock{nil}); n != 0 || !errors.Is(err, unix.EFAULT) {
			t.Errorf("Submit([nil]) = %d, %v; want 0, EFAULT", n, err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		for _, cbs := range [][]*IoControlBlock{nil, {}} {
			if n, err := c.Submit(cbs); n != 0 || err != nil {
				t.Errorf("Submit(%v) = %d, %v; want 0, nil", cbs, n, err)
			}
		}
	})
	runtime.KeepAlive(buf)
}

// TestBadBuffer: a bad buffer address is an error of the I/O, reported in
// the event's Res, not by Submit.
func TestBadBuffer(t *testing.T) {
	c := newContext(t, 8)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	cb := &IoControlBlock{LioOpcode: IOCB_CMD_PREAD, Fildes: uint32(fd), Buf: 8, Nbytes: 64, Data: 3}
	if n, err := c.Submit([]*IoControlBlock{cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v; want 1, nil", n, err)
	}
	if ev := reap(t, c, 1)[0]; ev.Data != 3 || ev.Res != -int64(unix.EFAULT) {
		t.Errorf("event = %+v, want Res -EFAULT", ev)
	}
}

func TestGetEventsArgs(t *testing.T) {
	c := newContext(t, 8)
	events := make([]IoEvent, 1)
	zero := unix.Timespec{}
	if _, err := c.GetEvents(2, events, &zero); !errors.Is(err, unix.EINVAL) {
		t.Errorf("minNr > len(events): %v, want EINVAL", err)
	}
	if _, err := c.GetEvents(-1, events, &zero); !errors.Is(err, unix.EINVAL) {
		t.Errorf("minNr < 0: %v, want EINVAL", err)
	}
	if n, err := c.GetEvents(0, nil, &zero); n != 0 || err != nil {
		t.Errorf("GetEvents(0, nil) = %d, %v; want 0, nil", n, err)
	}
	start := time.Now()
	short := unix.NsecToTimespec(int64(20 * time.Millisecond))
	if n, err := c.GetEvents(1, events, &short); n != 0 || err != nil {
		t.Errorf("idle GetEvents with timeout = %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("a 20ms timeout returned after %v", d)
	}
}

// TestPartialSubmit: the kernel stops at a bad iocb after a good one and
// reports the count; the good one completes.
func TestPartialSubmit(t *testing.T) {
	c := newContext(t, 8)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 512)
	good, bad, after := readCB(fd, buf, 0, 1), readCB(fd, buf, 0, 2), readCB(fd, buf, 0, 3)
	bad.Fildes = ^uint32(0)
	n, err := c.Submit([]*IoControlBlock{good, bad, after})
	if n != 1 || err != nil {
		t.Fatalf("Submit(good, bad, good) = %d, %v; want 1, nil", n, err)
	}
	if ev := reap(t, c, 1)[0]; ev.Data != 1 || ev.Res != 512 {
		t.Errorf("event = %+v, want Data 1 Res 512", ev)
	}
	if k := pending(t, c); k != 0 {
		t.Errorf("%d completions for requests that were not accepted", k)
	}
	runtime.KeepAlive(buf)
}

// TestRingFull fills a context's ring with unreaped completions: Submit then
// fails with EAGAIN, a batch gets a partial count, and every accepted request
// is reaped exactly once.
func TestRingFull(t *testing.T) {
	c := newContext(t, 1)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 64)
	cb := readCB(fd, buf, 0, 0)
	accepted := 0
	for {
		cb.Data = uint64(accepted)
		n, err := c.Submit([]*IoControlBlock{cb})
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if n != 1 || err != nil {
			t.Fatalf("Submit #%d = %d, %v", accepted, n, err)
		}
		if accepted++; accepted > 1<<16 {
			t.Fatal("the ring never filled")
		}
	}
	if accepted < 1 {
		t.Fatalf("accepted %d requests before EAGAIN", accepted)
	}
	events := reap(t, c, accepted)
	seen := make([]bool, accepted)
	for _, ev := range events {
		if ev.Data >= uint64(accepted) || seen[ev.Data] || ev.Res != 64 {
			t.Fatalf("bad or repeated event %+v", ev)
		}
		seen[ev.Data] = true
	}
	if k := pending(t, c); k != 0 {
		t.Fatalf("%d completions more than accepted", k)
	}

	// Now a batch larger than the ring: a partial count, no error. Larger
	// than the ring's nr, not than what one-at-a-time submits got: the
	// kernel counts free slots per CPU, and a batch from another CPU may get
	// more than those did (seen on ppc64le: 1991 accepted after 1975).
	nr := int((*ringHeader)(c.ring).nr)
	batch := make([]*IoControlBlock, max(nr, accepted)+16)
	for i := range batch {
		batch[i] = readCB(fd, buf, 0, uint64(i))
	}
	n, err := c.Submit(batch)
	if err != nil || n <= 0 || n >= len(batch) {
		t.Fatalf("Submit of %d into a ring of %d = %d, %v; want a partial count", len(batch), nr, n, err)
	}
	reap(t, c, n)
	if k := pending(t, c); k != 0 {
		t.Fatalf("%d completions more than the %d accepted", k, n)
	}
	runtime.KeepAlive(buf)
}

// TestVectoredWriteSyncRead writes with PWRITEV, syncs with FDSYNC, reads back
// with PREADV, and checks the file's bytes independently.
func TestVectoredWriteSyncRead(t *testing.T) {
	c := newContext(t, 8)
	name, fd := tempFile(t, 0, unix.O_RDWR)
	rnd := rand.New(rand.NewSource(1))
	out := [][]byte{make([]byte, 4096), make([]byte, 1000)}
	for _, b := range out {
		rnd.Read(b)
	}
	iov := make([]unix.Iovec, 2)
	for i, b := range out {
		iov[i].Base = &b[0]
		iov[i].SetLen(len(b))
	}
	const off = 8192
	run := func(cb *IoControlBlock, want int64) {
		t.Helper()
		if n, err := c.Submit([]*IoControlBlock{cb}); n != 1 || err != nil {
			t.Fatalf("Submit(opcode %d) = %d, %v", cb.LioOpcode, n, err)
		}
		if ev := reap(t, c, 1)[0]; ev.Res != want {
			t.Fatalf("opcode %d: Res %d, want %d", cb.LioOpcode, ev.Res, want)
		}
	}
	run(&IoControlBlock{LioOpcode: IOCB_CMD_PWRITEV, Fildes: uint32(fd),
		Buf: uint64(uintptr(unsafe.Pointer(&iov[0]))), Nbytes: 2, Offset: off}, 5096)
	run(&IoControlBlock{LioOpcode: IOCB_CMD_FDSYNC, Fildes: uint32(fd)}, 0)
	run(&IoControlBlock{LioOpcode: IOCB_CMD_FSYNC, Fildes: uint32(fd)}, 0)

	in := [][]byte{make([]byte, 3000), make([]byte, 2096)}
	for i, b := range in {
		iov[i].Base = &b[0]
		iov[i].SetLen(len(b))
	}
	run(&IoControlBlock{LioOpcode: IOCB_CMD_PREADV, Fildes: uint32(fd),
		Buf: uint64(uintptr(unsafe.Pointer(&iov[0]))), Nbytes: 2, Offset: off}, 5096)
	want := append(append([]byte{}, out[0]...), out[1]...)
	if got := append(append([]byte{}, in[0]...), in[1]...); !bytes.Equal(got, want) {
		t.Error("PREADV did not read back what PWRITEV wrote")
	}
	file, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(file) != off+len(want) || !bytes.Equal(file[off:], want) || !bytes.Equal(file[:off], make([]byte, off)) {
		t.Errorf("file holds %d bytes, not the %d written at %d", len(file), len(want), off)
	}
	runtime.KeepAlive(out)
	runtime.KeepAlive(in)
	runtime.KeepAlive(iov)
}

func TestResfd(t *testing.T) {
	c := newContext(t, 8)
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(efd)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 100)
	cbs := []*IoControlBlock{readCB(fd, buf, 0, 1), readCB(fd, buf, 0, 2), readCB(fd, buf, 0, 3)}
	for _, cb := range cbs[:2] {
		cb.Flags, cb.Resfd = IOCB_FLAG_RESFD, uint32(efd)
	}
	if n, err := c.Submit(cbs); n != 3 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	reap(t, c, 3)
	var count [8]byte
	if n, err := unix.Read(efd, count[:]); n != 8 || err != nil {
		t.Fatalf("read eventfd = %d, %v", n, err)
	}
	if got := *(*uint64)(unsafe.Pointer(&count)); got != 2 {
		t.Errorf("eventfd counted %d completions, want the 2 with IOCB_FLAG_RESFD", got)
	}
	runtime.KeepAlive(buf)
}

// TestGetEventsSignals waits in GetEvents while its thread is signalled over
// and over: no EINTR reaches the caller, the event is returned when it comes,
// and a timeout is kept, neither cut short nor restarted by each signal.
func TestGetEventsSignals(t *testing.T) {
	c := newContext(t, 8)

	// The premise: a raw io_getevents on a signalled thread fails with EINTR.
	var rawErr unix.Errno
	tid, done := onThread(func() {
		ev := make([]IoEvent, 1)
		_, _, rawErr = unix.Syscall6(unix.SYS_IO_GETEVENTS, c.id, 1, 1,
			uintptr(unsafe.Pointer(&ev[0])), 0, 0)
	})
	interrupt(t, tid, 5*time.Millisecond, 10*time.Second, done)
	<-done
	if rawErr != unix.EINTR {
		t.Fatalf("raw io_getevents on a signalled thread: %v, want EINTR", rawErr)
	}

	t.Run("event arrives", func(t *testing.T) {
		r, w := pipeFDs(t)
		if n, err := c.Submit([]*IoControlBlock{pollCB(r, unix.POLLIN, 42)}); n != 1 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		var n int
		var err error
		ev := make([]IoEvent, 1)
		tid, done := onThread(func() { n, err = c.GetEvents(1, ev, nil) })
		interrupt(t, tid, 2*time.Millisecond, 200*time.Millisecond, done)
		select {
		case <-done:
			t.Fatalf("GetEvents returned before the event: %d, %v", n, err)
		default:
		}
		if _, err := unix.Write(w, []byte{1}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("GetEvents did not return after the pipe became readable")
		}
		if n != 1 || err != nil || ev[0].Data != 42 || ev[0].Res&unix.POLLIN == 0 {
			t.Fatalf("GetEvents = %d, %v, %+v; want the poll's event", n, err, ev[0])
		}
	})

	t.Run("deadline kept", func(t *testing.T) {
		const timeout = 300 * time.Millisecond
		var n int
		var err error
		var took time.Duration
		ts := unix.NsecToTimespec(int64(timeout))
		tid, done := onThread(func() {
			start := time.Now()
			n, err = c.GetEvents(1, make([]IoEvent, 1), &ts)
			took = time.Since(start)
		})
		sent := interrupt(t, tid, 5*time.Millisecond, 3*time.Second, done)
		<-done
		if n != 0 || err != nil {
			t.Fatalf("GetEvents = %d, %v; want 0, nil", n, err)
		}
		// A wait cut short by a signal returns early; one restarted with the
		// whole timeout after each signal outlasts the 3s of signals.
		if took < timeout || took > 2500*time.Millisecond {
			t.Errorf("a %v timeout took %v under %d signals", timeout, took, sent)
		}
		if ts != unix.NsecToTimespec(int64(timeout)) {
			t.Errorf("GetEvents changed the caller's timeout to %+v", ts)
		}
	})
}

func TestClosed(t *testing.T) {
	c, err := NewIoContext(4)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	buf := make([]byte, 8)
	cb := readCB(0, buf, 0, 0)
	for _, c := range []*IoContext{c, nil} {
		if n, err := c.Submit([]*IoControlBlock{cb}); n != 0 || err != ErrClosed {
			t.Errorf("Submit after Close = %d, %v", n, err)
		}
		if n, err := c.GetEvents(0, make([]IoEvent, 1), nil); n != 0 || err != ErrClosed {
			t.Errorf("GetEvents after Close = %d, %v", n, err)
		}
		if err := c.Cancel(cb, &IoEvent{}); err != ErrClosed {
			t.Errorf("Cancel after Close = %v", err)
		}
		if n, err := c.PGetEvents(0, make([]IoEvent, 1), nil, nil); n != 0 || err != ErrClosed {
			t.Errorf("PGetEvents after Close = %d, %v", n, err)
		}
		if e, err := c.Eventfd(); e != nil || err != ErrClosed {
			t.Errorf("Eventfd after Close = %v, %v", e, err)
		}
		if n, err := c.Wait(context.Background(), 0, nil); n != 0 || err != ErrClosed {
			t.Errorf("Wait after Close = %d, %v", n, err)
		}
	}
	if err := (*IoContext)(nil).Close(); err != ErrClosed {
		t.Errorf("nil Close = %v", err)
	}
	// Every later method, whether or not the eventfd existed before Close.
	for _, withEventfd := range []bool{false, true} {
		c, err := NewIoContext(4)
		if err != nil {
			t.Fatal(err)
		}
		if withEventfd {
			if _, err := c.Eventfd(); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		if e, err := c.Eventfd(); e != nil || err != ErrClosed {
			t.Errorf("Eventfd after Close (eventfd made before: %v) = %v, %v; want nil, ErrClosed", withEventfd, e, err)
		}
		if n, err := c.Wait(context.Background(), 1, make([]IoEvent, 1)); n != 0 || err != ErrClosed {
			t.Errorf("Wait after Close (eventfd made before: %v) = %d, %v", withEventfd, n, err)
		}
		if n, err := c.PGetEvents(0, make([]IoEvent, 1), nil, nil); n != 0 || err != ErrClosed {
			t.Errorf("PGetEvents after Close = %d, %v", n, err)
		}
	}
	var zero IoContext
	if _, err := zero.GetEvents(0, nil, &unix.Timespec{}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("GetEvents on a zero IoContext = %v, want EINVAL", err)
	}
}

// TestCloseWhileBusy closes a context while goroutines wait in GetEvents
// and others submit: the waiters wake with ErrClosed, nothing hangs or
// crashes, and every method afterwards says ErrClosed.
func TestCloseWhileBusy(t *testing.T) {
	c, err := NewIoContext(256)
	if err != nil {
		t.Fatal(err)
	}
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	var wg sync.WaitGroup
	waitErrs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetEvents(1000, make([]IoEvent, 1000), nil)
			waitErrs <- err
		}()
	}
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 512)
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := c.Submit([]*IoControlBlock{readCB(fd, buf, 0, 0)})
				if err == ErrClosed {
					return
				}
				if err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINVAL) {
					t.Errorf("Submit during Close: %v", err)
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	closed := make(chan error)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(stop)
		t.Fatal("callers did not return after Close")
	}
	close(waitErrs)
	for err := range waitErrs {
		if err != nil && err != ErrClosed {
			t.Errorf("waiting GetEvents returned %v at Close, want ErrClosed or its events", err)
		}
	}
}

// TestConcurrentSubmit has many goroutines submit to one context while one
// reaps; run it with -race. Every request completes exactly once.
func TestConcurrentSubmit(t *testing.T) {
	const goroutines, each = 8, 200
	c := newContext(t, 512)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256)
			for i := 0; i < each; i++ {
				if !submitAll(t, c, []*IoControlBlock{readCB(fd, buf, 0, uint64(g*each+i))}) {
					return
				}
			}
			runtime.KeepAlive(buf)
		}()
	}
	// Reap as a real reaper does, a batch at a time: a single wait for all
	// of them would hold back the ring slots the submitters need.
	seen := make([]bool, goroutines*each)
	events := make([]IoEvent, 64)
	deadline := time.Now().Add(20 * time.Second)
	for got := 0; got < len(seen); {
		if time.Now().After(deadline) {
			t.Fatalf("reaped %d of %d in 20s", got, len(seen))
		}
		ts := unix.NsecToTimespec(int64(100 * time.Millisecond))
		n, err := c.GetEvents(1, events, &ts)
		if err != nil {
			t.Fatalf("GetEvents: %v", err)
		}
		for _, ev := range events[:n] {
			if ev.Data >= uint64(len(seen)) || seen[ev.Data] || ev.Res != 256 {
				t.Fatalf("bad or repeated event %+v", ev)
			}
			seen[ev.Data] = true
		}
		got += n
	}
	wg.Wait()
	if k := pending(t, c); k != 0 {
		t.Errorf("%d completions more than submitted", k)
	}
}

// TestBlocksPassedBetweenGoroutines recycles blocks across goroutines as a
// server does: one goroutine submits them, another reaps them and hands
// each to one of two others, which prepare it again and resubmit it. The
// kernel orders each completion after its submit; run under -race, the test
// checks that the package tells the race detector so (it would otherwise
// report Submit's writes to Flags and Resfd, or the Prep before it, against
// the next Prep on another goroutine).
func TestBlocksPassedBetweenGoroutines(t *testing.T) {
	const blocks, rounds = 8, 2000
	c := newContext(t, 64)
	if _, err := c.Eventfd(); err != nil { // Submit now writes Flags and Resfd
		t.Fatal(err)
	}
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	type block struct {
		cb    IoControlBlock
		buf   []byte
		res   int64 // written by the reaper
		round int   // written by whoever prepares it
	}
	bs := make([]*block, blocks)
	for i := range bs {
		bs[i] = &block{buf: make([]byte, 64)}
	}
	prep := func(b *block, i int) {
		b.buf[0] = 0xff // the read must clear it again
		b.cb.PrepPread(fd, b.buf, 0)
		b.cb.Data = uint64(i)
	}
	reaped := make(chan *block, blocks)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reaper
		defer wg.Done()
		defer close(reaped)
		events := make([]IoEvent, blocks)
		deadline := time.Now().Add(20 * time.Second)
		for got := 0; got < blocks*rounds; {
			// Poll the ring, to take completions the moment they arrive.
			n, err := c.GetEvents(0, events, &unix.Timespec{})
			if err != nil || time.Now().After(deadline) {
				t.Errorf("GetEvents = %d, %v after reaping %d", n, err, got)
				return
			}
			for _, ev := range events[:n] {
				b := bs[ev.Data]
				b.res = ev.Res
				reaped <- b
			}
			if n == 0 {
				runtime.Gosched() // on one CPU, let the others resubmit
			}
			got += n
		}
	}()
	go func() { // the first submitter
		for i, b := range bs {
			prep(b, i)
			submitAll(t, c, []*IoControlBlock{&b.cb})
		}
	}()
	for r := 0; r < 2; r++ { // two goroutines that resubmit
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range reaped {
				if b.res != int64(len(b.buf)) || b.buf[0] != 0 {
					t.Errorf("block %d, round %d: Res %d, first byte %#x", b.cb.Data, b.round, b.res, b.buf[0])
				}
				if b.round++; b.round == rounds {
					continue
				}
				prep(b, int(b.cb.Data))
				submitAll(t, c, []*IoControlBlock{&b.cb})
			}
		}()
	}
	wg.Wait()
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	c := newContext(t, 64)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 512)
	cbs := []*IoControlBlock{readCB(fd, buf, 0, 1)}
	events := make([]IoEvent, 1)
	timeout := unix.NsecToTimespec(int64(time.Second))
	allocs := testing.AllocsPerRun(200, func() {
		if n, err := c.Submit(cbs); n != 1 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		if n, err := c.GetEvents(1, events, &timeout); n != 1 || err != nil {
			t.Fatalf("GetEvents = %d, %v", n, err)
		}
		if _, err := c.GetEvents(2, events, &timeout); err == nil {
			t.Fatal("GetEvents(2, 1 event) succeeded")
		}
	})
	if allocs != 0 {
		t.Errorf("Submit+GetEvents allocate %v times per call", allocs)
	}
	runtime.KeepAlive(buf)
}
