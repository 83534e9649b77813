// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

// The helpers that the tests share.

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"golang.org/x/sys/unix"
)

// newContext returns a context that the test closes when it ends.
func newContext(t testing.TB, nr uint32) *IoContext {
	t.Helper()
	c, err := NewIoContext(nr)
	if err != nil {
		t.Fatalf("NewIoContext(%d): %v", nr, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// openFile opens name for the test, which closes it when it ends.
func openFile(t testing.TB, name string, flags int) int {
	t.Helper()
	fd, err := unix.Open(name, flags|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// tempFile creates a file of size bytes in a test directory and opens it.
func tempFile(t testing.TB, size int64, flags int) (string, int) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(name, size); err != nil {
		t.Fatal(err)
	}
	return name, openFile(t, name, flags)
}

// directFile creates a test file of size bytes holding blockPattern(seed)
// and opens it with O_DIRECT, or skips the test where the file system
// cannot.
func directFile(t *testing.T, size int, seed uint64) (string, int) {
	t.Helper()
	name, _ := tempFile(t, 0, unix.O_RDONLY)
	data := make([]byte, size)
	for i := 0; i < size/4096; i++ {
		blockPattern(data[i*4096:(i+1)*4096], seed, uint64(i))
	}
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := OpenDirect(name, unix.O_RDWR, 0)
	if errors.Is(err, ErrNoDirectIO) {
		t.Skipf("no O_DIRECT here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if mem, off, err := DirectIOAlignment(fd); err != nil || mem > 4096 || off > 4096 {
		t.Skipf("O_DIRECT alignment %d/%d, %v", mem, off, err)
	}
	return name, fd
}

// pipeFDs returns a pipe that the test closes when it ends.
func pipeFDs(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func addr(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

func readCB(fd int, buf []byte, off int64, data uint64) *IoControlBlock {
	return &IoControlBlock{LioOpcode: IOCB_CMD_PREAD, Fildes: uint32(fd), Buf: addr(buf),
		Nbytes: uint64(len(buf)), Offset: off, Data: data}
}

func pollCB(fd int, events int16, data uint64) *IoControlBlock {
	return &IoControlBlock{LioOpcode: IOCB_CMD_POLL, Fildes: uint32(fd), Buf: uint64(events), Data: data}
}

// submitAll submits every block, waiting while the ring is full for
// another goroutine to reap; it reports false, having failed the test, on
// any other error.
func submitAll(t testing.TB, c *IoContext, cbs []*IoControlBlock) bool {
	for k := 0; k < len(cbs); {
		n, err := c.Submit(cbs[k:])
		if errors.Is(err, unix.EAGAIN) {
			time.Sleep(10 * time.Microsecond)
			continue
		}
		if err != nil {
			t.Errorf("Submit: %v", err)
			return false
		}
		k += n
	}
	return true
}

// reap collects exactly n events, failing the test if they take longer than
// a few seconds.
func reap(t testing.TB, c *IoContext, n int) []IoEvent {
	t.Helper()
	events := make([]IoEvent, n)
	got := 0
	deadline := time.Now().Add(10 * time.Second)
	for got < n {
		ts := unix.NsecToTimespec(int64(time.Until(deadline)))
		if ts.Sec < 0 || (ts.Sec == 0 && ts.Nsec <= 0) {
			t.Fatalf("reaped %d of %d events in 10s", got, n)
		}
		k, err := c.GetEvents(n-got, events[got:], &ts)
		if err != nil {
			t.Fatalf("GetEvents: %v", err)
		}
		got += k
	}
	return events
}

// pending returns how many completions are waiting, reaping them.
func pending(t testing.TB, c *IoContext) int {
	t.Helper()
	events := make([]IoEvent, 64)
	total := 0
	for {
		n, err := c.GetEvents(0, events, &unix.Timespec{})
		if err != nil {
			t.Fatalf("GetEvents: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// rawGetEvents is io_getevents without this package, retrying EINTR, which
// the kernel returns whenever a signal is pending, even to a poll.
func rawGetEvents(c *IoContext, minNr int, events []IoEvent, ts *unix.Timespec) (int, unix.Errno) {
	for {
		r, _, e := unix.Syscall6(unix.SYS_IO_GETEVENTS, c.id, uintptr(minNr), uintptr(len(events)),
			uintptr(unsafe.Pointer(&events[0])), uintptr(unsafe.Pointer(ts)), 0)
		if e != unix.EINTR {
			return int(r), e
		}
	}
}

// growStack makes the goroutine's stack grow, which moves it.
//
//go:noinline
func growStack(n int) int {
	var pad [1024]byte
	if n == 0 {
		return int(pad[0])
	}
	return growStack(n-1) + int(pad[n%len(pad)])
}

// onThread runs f on a goroutine locked to its own OS thread and returns that
// thread's id, so that the caller can signal exactly that thread.
func onThread(f func()) (tid int, done <-chan struct{}) {
	ids := make(chan int)
	ch := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ids <- unix.Gettid()
		f()
		close(ch)
	}()
	return <-ids, ch
}

// interrupt sends SIGURG, which the Go runtime handles and otherwise
// ignores, to thread tid every interval until done is closed or limit passes.
func interrupt(t *testing.T, tid int, interval, limit time.Duration, done <-chan struct{}) (sent int) {
	end := time.After(limit)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return sent
		case <-end:
			return sent
		case <-tick.C:
			if err := unix.Tgkill(unix.Getpid(), tid, unix.SIGURG); err != nil {
				t.Fatalf("tgkill: %v", err)
			}
			sent++
		}
	}
}

// threads returns how many OS threads the process has.
func threads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line")
	return 0
}

// blockPattern fills b with the pattern of block blk of seed: every 8
// bytes hold seed, blk and the word's index, so any misplaced or stale byte
// shows.
func blockPattern(b []byte, seed, blk uint64) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], seed*0x9e3779b97f4a7c15^blk<<20^uint64(i))
	}
}

// alignedGo returns n bytes of Go heap memory aligned to align.
func alignedGo(n, align int) []byte {
	b := make([]byte, n+align)
	off := (align - int(uintptr(unsafe.Pointer(&b[0]))%uintptr(align))) % align
	return b[off : off+n : off+n]
}

// mapped reports whether the page at p is mapped, by asking mincore, which
// fails with ENOMEM for an address that is not.
func mapped(t *testing.T, p []byte) bool {
	t.Helper()
	var vec [1]byte
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&p[0])), 1, uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 && e != unix.ENOMEM {
		t.Fatalf("mincore: %v", e)
	}
	return e == 0
}

// pinnedRead preps r to read into a new heap buffer and returns a weak
// pointer to that buffer, which r then holds only through its pins.
//
//go:noinline
func pinnedRead(r *Request, fd int) weak.Pointer[byte] {
	buf := make([]byte, 4096)
	r.PrepPread(fd, buf, 0)
	return weak.Make(&buf[0])
}

// collected reports whether the garbage collector frees what w points to
// within a few cycles.
func collected[T any](w weak.Pointer[T]) bool {
	for i := 0; i < 5; i++ {
		runtime.GC()
		if w.Value() == nil {
			return true
		}
	}
	return false
}

// newQueue returns a Queue that the test closes when it ends.
func newQueue(t testing.TB, depth int) *Queue {
	t.Helper()
	q, err := NewQueue(depth)
	if err != nil {
		t.Fatalf("NewQueue(%d): %v", depth, err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func ptr(cb *IoControlBlock) unsafe.Pointer { return unsafe.Pointer(cb) }

// interrupted reports whether a request that blocked in io_submit ended
// early: a signal (the Go runtime sends them all the time) makes the kernel
// end a blocked AIO pipe read with EINTR.
func interrupted(ev IoEvent) bool { return ev.Res == -int64(unix.EINTR) }

// uninterrupted runs a test whose submitter must stay blocked in a pipe
// read until the test ends it, again while a signal cut the read short
// (body returns true then, before asserting what the cut read broke).
func uninterrupted(t *testing.T, body func() (interrupted bool)) {
	t.Helper()
	for range 5 {
		if !body() {
			return
		}
		t.Log("a signal ended the blocked pipe read early; again")
	}
	t.Fatal("a signal ended the blocked pipe read early five times")
}

// heapBytes returns n zero bytes on the heap. A buffer handed to the kernel
// must not live on a goroutine stack: a goroutine parked in Do may have its
// stack moved, and the kernel would write where the stack was. The compiler
// keeps a small make([]byte, n) on the stack when it can.
func heapBytes(n int) []byte {
	b := make([]byte, n)
	escape(unsafe.Pointer(&b[0]))
	return b
}

// openTestFile creates a file of size bytes of pattern in a test directory
// and opens it as a File, skipping the test where O_DIRECT is refused.
func openTestFile(t testing.TB, size int, opts ...FileOption) (*File, []byte) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "file")
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(name, os.O_RDWR, 0, opts...)
	if errors.Is(err, ErrNoDirectIO) {
		t.Skipf("no O_DIRECT here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, data
}

// at returns a slice of n bytes whose address is misalign bytes past a
// 4096-byte boundary.
func at(n, misalign int) []byte {
	return alignedGo(n+misalign, 4096)[misalign:][:n:n]
}

// watchInFlight samples q's requests in the kernel every 20 us until the
// returned function is called, which stops it and returns the most seen.
func watchInFlight(q *Queue) (most func() int64) {
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		var m int64
		for {
			select {
			case <-stop:
				done <- m
				return
			default:
			}
			m = max(m, q.Stats().InFlight)
			time.Sleep(20 * time.Microsecond)
		}
	}()
	return func() int64 {
		close(stop)
		return <-done
	}
}
