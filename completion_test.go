// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestPrepHelpers(t *testing.T) {
	buf := make([]byte, 100)
	iovs := make([]unix.Iovec, 3)
	var cb IoControlBlock
	check := func(name string, want IoControlBlock) {
		t.Helper()
		if cb != want {
			t.Errorf("%s: got %+v, want %+v", name, cb, want)
		}
	}
	cb.Data, cb.Reserved2 = 99, 7 // Prep resets everything
	cb.PrepPread(5, buf, 4096)
	check("PrepPread", IoControlBlock{LioOpcode: IOCB_CMD_PREAD, Fildes: 5, Buf: addr(buf), Nbytes: 100, Offset: 4096})
	cb.PrepPwrite(6, buf[:10], 8)
	check("PrepPwrite", IoControlBlock{LioOpcode: IOCB_CMD_PWRITE, Fildes: 6, Buf: addr(buf), Nbytes: 10, Offset: 8})
	cb.PrepPreadv(7, iovs, 1)
	check("PrepPreadv", IoControlBlock{LioOpcode: IOCB_CMD_PREADV, Fildes: 7,
		Buf: uint64(uintptr(unsafe.Pointer(&iovs[0]))), Nbytes: 3, Offset: 1})
	cb.PrepPwritev(8, iovs[:2], 2)
	check("PrepPwritev", IoControlBlock{LioOpcode: IOCB_CMD_PWRITEV, Fildes: 8,
		Buf: uint64(uintptr(unsafe.Pointer(&iovs[0]))), Nbytes: 2, Offset: 2})
	cb.PrepFsync(9)
	check("PrepFsync", IoControlBlock{LioOpcode: IOCB_CMD_FSYNC, Fildes: 9})
	cb.PrepFdsync(10)
	check("PrepFdsync", IoControlBlock{LioOpcode: IOCB_CMD_FDSYNC, Fildes: 10})
	cb.PrepPoll(11, unix.POLLIN|unix.POLLRDHUP)
	check("PrepPoll", IoControlBlock{LioOpcode: IOCB_CMD_POLL, Fildes: 11, Buf: unix.POLLIN | unix.POLLRDHUP})
	cb.PrepPread(12, nil, 0)
	check("PrepPread(nil)", IoControlBlock{LioOpcode: IOCB_CMD_PREAD, Fildes: 12})
	cb.SetEventfd(13)
	cb.SetIoprio(IOPRIO_CLASS_IDLE, 0)
	check("SetEventfd+SetIoprio", IoControlBlock{LioOpcode: IOCB_CMD_PREAD, Fildes: 12,
		Flags: IOCB_FLAG_RESFD | IOCB_FLAG_IOPRIO, Resfd: 13, Reqprio: IOPRIO_CLASS_IDLE << 13})
	if v := IoprioValue(IOPRIO_CLASS_BE, IOPRIO_NORM); v != 2<<13|4 {
		t.Errorf("IoprioValue(BE, NORM) = %#x", v)
	}
	runtime.KeepAlive(buf)
	runtime.KeepAlive(iovs)
}

// TestRequestPrepReleases: every Prep method of Request releases the pins
// of the previous one, so that the buffer of a read followed by an fsync,
// an fdatasync or a poll can be collected. The pins hold until then.
func TestRequestPrepReleases(t *testing.T) {
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	iovs := []unix.Iovec{{}}
	for _, tt := range []struct {
		name string
		prep func(r *Request)
	}{
		{"PrepPread", func(r *Request) { r.PrepPread(fd, nil, 0) }},
		{"PrepPwrite", func(r *Request) { r.PrepPwrite(fd, nil, 0) }},
		{"PrepPreadv", func(r *Request) { r.PrepPreadv(fd, iovs, 0) }},
		{"PrepPwritev", func(r *Request) { r.PrepPwritev(fd, iovs, 0) }},
		{"PrepFsync", func(r *Request) { r.PrepFsync(fd) }},
		{"PrepFdsync", func(r *Request) { r.PrepFdsync(fd) }},
		{"PrepPoll", func(r *Request) { r.PrepPoll(fd, unix.POLLIN) }},
		{"Release", func(r *Request) { r.Release() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := new(Request)
			defer r.Release()
			w := pinnedRead(r, fd)
			if collected(w) {
				t.Fatal("a pinned buffer was collected")
			}
			tt.prep(r)
			if !collected(w) {
				t.Errorf("the previous buffer is still pinned after %s", tt.name)
			}
		})
	}
}

// TestIoprioAndRwFlags submits what the helpers build and checks the
// kernel's verdict: a valid priority and RWF flags are accepted and act, an
// invalid priority class is refused.
func TestIoprioAndRwFlags(t *testing.T) {
	c := newContext(t, 8)
	name, fd := tempFile(t, 0, unix.O_RDWR)
	buf := bytes.Repeat([]byte("p"), 4096)
	r := new(Request)
	defer r.Release()
	r.PrepPwrite(fd, buf, 0)
	r.SetIoprio(IOPRIO_CLASS_BE, 7)
	r.RwFlags = unix.RWF_DSYNC
	if n, err := c.Submit([]*IoControlBlock{&r.IoControlBlock}); n != 1 || err != nil {
		t.Fatalf("Submit(BE/7, RWF_DSYNC) = %d, %v", n, err)
	}
	if ev := reap(t, c, 1)[0]; ev.Res != 4096 {
		t.Fatalf("write Res = %d", ev.Res)
	}
	if got, _ := os.ReadFile(name); !bytes.Equal(got, buf) {
		t.Error("the file does not hold what was written")
	}
	// Out of range, the kernel refuses them, whatever bits they would
	// spill into (a level of 8 or more would otherwise be a hint to newer
	// kernels, a class of 8 or more would wrap to another class).
	for _, p := range []struct{ class, level int }{
		{5, 0}, // no such class
		{IOPRIO_CLASS_BE, IOPRIO_NR_LEVELS},
		{IOPRIO_CLASS_BE, IOPRIO_NR_LEVELS + 1},
		{IOPRIO_CLASS_BE, -1},
		{8, 0},
		{8 + IOPRIO_CLASS_BE, 0},
		{-1, 0},
	} {
		r.PrepPread(fd, buf, 0)
		r.SetIoprio(p.class, p.level)
		if n, err := c.Submit([]*IoControlBlock{&r.IoControlBlock}); n != 0 || !errors.Is(err, unix.EINVAL) {
			t.Errorf("Submit with I/O priority class %d level %d (%#x) = %d, %v; want EINVAL",
				p.class, p.level, uint16(r.Reqprio), n, err)
			reap(t, c, n)
		}
	}
}

// TestRingReaping checks that completions come from the ring without a
// system call, that the kernel then finds none left, and that the two kinds
// of reaping can alternate over many wraps of a small ring without losing or
// repeating an event.
func TestRingReaping(t *testing.T) {
	c := newContext(t, 1)
	if c.ring == nil {
		t.Fatal("no ring address")
	}
	hdr := (*ringHeader)(c.ring)
	if hdr.magic != ringMagic || hdr.headerLength != uint32(unsafe.Sizeof(ringHeader{})) || hdr.nr == 0 {
		t.Fatalf("ring header %+v is not what the kernel documents", *hdr)
	}
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 64)
	events := make([]IoEvent, 8)
	zero := unix.Timespec{}
	next := uint64(0)
	for round := 0; round < 5*int(hdr.nr); round++ {
		cbs := make([]*IoControlBlock, 3)
		for i := range cbs {
			cbs[i] = readCB(fd, buf, 0, next+uint64(i))
		}
		if n, err := c.Submit(cbs); n != 3 || err != nil {
			t.Fatalf("round %d: Submit = %d, %v", round, n, err)
		}
		var n int
		if round%2 == 0 {
			// From the ring: the kernel's io_getevents must find nothing.
			var looked bool
			n, looked = c.reapRing(events)
			if !looked || n != 3 {
				t.Fatalf("round %d: reapRing = %d, %v", round, n, looked)
			}
			r, e := rawGetEvents(c, 0, events[3:], &zero)
			if r != 0 || e != 0 {
				t.Fatalf("round %d: io_getevents after reaping the ring = %d, %v", round, r, e)
			}
		} else {
			// From the kernel, through the raw system call.
			r, e := rawGetEvents(c, 3, events, nil)
			if r != 3 || e != 0 {
				t.Fatalf("round %d: io_getevents = %d, %v", round, r, e)
			}
			n = int(r)
			c.inflight.Add(-3)
		}
		for i, ev := range events[:n] {
			if ev.Data != next+uint64(i) || ev.Res != 64 {
				t.Fatalf("round %d: event %d = %+v, want Data %d", round, i, ev, next+uint64(i))
			}
		}
		next += 3
	}
	if k := pending(t, c); k != 0 {
		t.Errorf("%d events left over", k)
	}
	runtime.KeepAlive(buf)
}

// TestRingHeaderFallback: with a ring header it does not recognise,
// GetEvents leaves the ring to the kernel, and loses nothing.
func TestRingHeaderFallback(t *testing.T) {
	c := newContext(t, 8)
	hdr := (*ringHeader)(c.ring)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 64)
	if n, err := c.Submit([]*IoControlBlock{readCB(fd, buf, 0, 1), readCB(fd, buf, 0, 2)}); n != 2 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	hdr.incompatFeatures = 1 // what a future kernel would say
	defer func() { hdr.incompatFeatures = 0 }()
	events := make([]IoEvent, 4)
	if n, looked := c.reapRing(events); looked || n != 0 {
		t.Fatalf("reapRing with unknown incompat features = %d, %v", n, looked)
	}
	if n, err := c.GetEvents(0, events, &unix.Timespec{}); n != 2 || err != nil {
		t.Fatalf("GetEvents through the kernel = %d, %v", n, err)
	}
	runtime.KeepAlive(buf)
}

// TestConcurrentReapers has goroutines poll and wait on one context at once,
// some from the ring and some in the kernel, while others submit: every
// completion is delivered exactly once. Run it with -race.
func TestConcurrentReapers(t *testing.T) {
	const submitters, each, reapers = 4, 500, 4
	total := submitters * each
	c := newContext(t, 64)
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	var seen [submitters * each]atomic.Int32
	var reaped atomic.Int64
	var wg sync.WaitGroup
	for r := 0; r < reapers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			events := make([]IoEvent, 1+r*5)
			for reaped.Load() < int64(total) {
				var n int
				var err error
				switch r % 3 {
				case 0: // non-blocking: the ring
					n, err = c.GetEvents(0, events, &unix.Timespec{})
				case 1: // short waits in the kernel
					ts := unix.NsecToTimespec(int64(time.Millisecond))
					n, err = c.GetEvents(1, events, &ts)
				default:
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
					n, err = c.Wait(ctx, 1, events)
					cancel()
					if errors.Is(err, context.DeadlineExceeded) {
						err = nil
					}
				}
				if err != nil {
					t.Errorf("reaper %d: %v", r, err)
					return
				}
				for _, ev := range events[:n] {
					if ev.Data >= uint64(total) || seen[ev.Data].Add(1) != 1 || ev.Res != 32 {
						t.Errorf("reaper %d: bad or repeated event %+v", r, ev)
						return
					}
				}
				reaped.Add(int64(n))
			}
		}()
	}
	var sub sync.WaitGroup
	for s := 0; s < submitters; s++ {
		sub.Add(1)
		go func() {
			defer sub.Done()
			buf := make([]byte, 32)
			for i := 0; i < each; i++ {
				if !submitAll(t, c, []*IoControlBlock{readCB(fd, buf, 0, uint64(s*each+i))}) {
					return
				}
			}
			runtime.KeepAlive(buf)
		}()
	}
	sub.Wait()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("reaped %d of %d in 30s", reaped.Load(), total)
	}
	if got := reaped.Load(); got != int64(total) {
		t.Errorf("reaped %d of %d", got, total)
	}
}

func TestPGetEvents(t *testing.T) {
	c := newContext(t, 8)
	r, w := pipeFDs(t)
	var mask unix.Sigset_t
	mask.Val[0] = 1 << (unix.SIGUSR1 - 1)
	events := make([]IoEvent, 2)
	ts := unix.NsecToTimespec(int64(30 * time.Millisecond))
	start := time.Now()
	if n, err := c.PGetEvents(1, events, &ts, &mask); n != 0 || err != nil {
		t.Fatalf("idle PGetEvents = %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("a 30ms timeout returned after %v", d)
	}
	if _, err := c.PGetEvents(3, events, &ts, &mask); !errors.Is(err, unix.EINVAL) {
		t.Errorf("minNr > len(events): %v", err)
	}
	if n, err := c.Submit([]*IoControlBlock{pollCB(r, unix.POLLIN, 8)}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		unix.Write(w, []byte{1})
	}()
	for _, m := range []*unix.Sigset_t{&mask, nil} {
		n, err := c.PGetEvents(1, events, nil, m)
		if n != 1 || err != nil || events[0].Data != 8 {
			t.Fatalf("PGetEvents(mask %v) = %d, %v, %+v", m != nil, n, err, events[0])
		}
		// Again, the pipe still readable: the second round is nil-mask.
		if n, err := c.Submit([]*IoControlBlock{pollCB(r, unix.POLLIN, 8)}); n != 1 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
	}
	reap(t, c, 1)
}

// TestPGetEventsSigmask: the mask PGetEvents passes reaches the kernel for
// the wait. On a thread signalled over and over, io_pgetevents with SIGURG
// blocked waits out its timeout, where without a mask it fails with EINTR
// (which PGetEvents would retry, hiding the difference: hence the
// unexported call).
func TestPGetEventsSigmask(t *testing.T) {
	c := newContext(t, 8)
	var mask unix.Sigset_t
	bit := uint(unix.SIGURG - 1)
	size := unsafe.Sizeof(mask.Val[0]) * 8
	mask.Val[bit/uint(size)] |= 1 << (bit % uint(size))
	for _, tt := range []struct {
		name   string
		sigset *aioSigset
		want   unix.Errno
	}{
		{"no mask", &aioSigset{}, unix.EINTR},
		{"SIGURG blocked", &aioSigset{sigmask: &mask, size: sizeofKernelSigset}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var e unix.Errno
			events := make([]IoEvent, 1)
			tid, done := onThread(func() {
				ts := unix.NsecToTimespec(int64(200 * time.Millisecond))
				_, e = pgetevents(c.id, 1, 1, unsafe.Pointer(&events[0]), &ts, tt.sigset)
			})
			interrupt(t, tid, 5*time.Millisecond, 10*time.Second, done)
			<-done
			if e != tt.want {
				t.Errorf("io_pgetevents on a thread sent SIGURG every 5ms: %v, want %v", e, tt.want)
			}
		})
	}
}

func TestWait(t *testing.T) {
	c := newContext(t, 8)
	r, w := pipeFDs(t)
	events := make([]IoEvent, 4)

	start := time.Now() // before the context, whose deadline counts from its creation
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if n, err := c.Wait(ctx, 1, events); n != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("idle Wait = %d, %v; want 0, DeadlineExceeded", n, err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("Wait returned after %v, before its 30ms deadline", d)
	}

	cctx, ccancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); ccancel() }()
	if n, err := c.Wait(cctx, 1, events); n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Wait = %d, %v", n, err)
	}

	cb := pollCB(r, unix.POLLIN, 77)
	if n, err := c.Submit([]*IoControlBlock{cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if cb.Flags&IOCB_FLAG_RESFD == 0 {
		t.Error("Submit did not attach the context's eventfd")
	}
	go func() { time.Sleep(10 * time.Millisecond); unix.Write(w, []byte{1}) }()
	if n, err := c.Wait(context.Background(), 1, events); n != 1 || err != nil || events[0].Data != 77 {
		t.Fatalf("Wait = %d, %v, %+v", n, err, events[0])
	}
	if n, err := c.Wait(context.Background(), 2, events[:1]); n != 0 || !errors.Is(err, unix.EINVAL) {
		t.Errorf("Wait(minNr > len(events)) = %d, %v", n, err)
	}

	// Close wakes a parked Wait.
	errc := make(chan error)
	go func() {
		_, err := c.Wait(context.Background(), 1, events)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		if err != ErrClosed {
			t.Errorf("Wait at Close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake Wait")
	}
}

// TestWaitKeepsWhatItReaped: a Wait that ends with an error still counts
// and stores the events it took, which are not delivered again; with minNr
// 0 it does not wait.
func TestWaitKeepsWhatItReaped(t *testing.T) {
	c := newContext(t, 8)
	r, w := pipeFDs(t)
	events := make([]IoEvent, 2)
	start := time.Now()
	if n, err := c.Wait(context.Background(), 0, events); n != 0 || err != nil {
		t.Errorf("Wait(minNr 0) on an idle context = %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Wait(minNr 0) took %v", d)
	}
	if n, err := c.Submit([]*IoControlBlock{pollCB(r, unix.POLLIN, 5), pollCB(w, unix.POLLOUT, 6)}); n != 2 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The pipe is writable, not readable: one completion of the two.
	n, err := c.Wait(ctx, 2, events)
	if n != 1 || err != context.DeadlineExceeded || events[0].Data != 6 {
		t.Fatalf("Wait(minNr 2) with one completion = %d, %v, %+v; want 1, DeadlineExceeded, Data 6", n, err, events[0])
	}
	unix.Write(w, []byte{1})
	if ev := reap(t, c, 1)[0]; ev.Data != 5 {
		t.Errorf("after the partial Wait, reaped %+v; want the other poll", ev)
	}
	if k := pending(t, c); k != 0 {
		t.Errorf("%d completions delivered twice", k)
	}
}

// TestWaitSeesRequestsSubmittedBeforeEventfd: requests that went in before
// the context had an eventfd never signal it, and Wait still returns them.
func TestWaitSeesRequestsSubmittedBeforeEventfd(t *testing.T) {
	c := newContext(t, 8)
	r, w := pipeFDs(t)
	cb := pollCB(r, unix.POLLIN, 4)
	if n, err := c.Submit([]*IoControlBlock{cb}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if cb.Flags != 0 {
		t.Fatal("Submit attached an eventfd nobody asked for")
	}
	go func() { time.Sleep(20 * time.Millisecond); unix.Write(w, []byte{1}) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	events := make([]IoEvent, 1)
	if n, err := c.Wait(ctx, 1, events); n != 1 || err != nil || events[0].Data != 4 {
		t.Fatalf("Wait = %d, %v, %+v", n, err, events[0])
	}
}

// TestWaitCancelledWhilePolling: a Wait that polls the ring for requests
// submitted before the eventfd existed returns exactly ctx.Err() when its
// ctx, which has no deadline, is cancelled, never the deadline of its own
// polling interval.
func TestWaitCancelledWhilePolling(t *testing.T) {
	c := newContext(t, 8)
	r, _ := pipeFDs(t)
	if n, err := c.Submit([]*IoControlBlock{pollCB(r, unix.POLLIN, 1)}); n != 1 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	events := make([]IoEvent, 1)
	for i := 0; i < 50; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(5*time.Millisecond, cancel)
		n, err := c.Wait(ctx, 1, events)
		timer.Stop()
		cancel()
		if n != 0 || err != context.Canceled {
			t.Fatalf("round %d: Wait cancelled while polling = %d, %v; want 0, context.Canceled", i, n, err)
		}
	}
}

// TestThousandWaiters parks 1,000 goroutines in Wait on 1,000 contexts: the
// process keeps under 50 OS threads, where blocking in GetEvents would take
// 1,000, and every waiter gets its completion.
func TestThousandWaiters(t *testing.T) {
	const n = 1000
	if testing.Short() {
		t.Skip("1,000 contexts")
	}
	r, w := pipeFDs(t)
	ctxs := make([]*IoContext, n)
	for i := range ctxs {
		c, err := NewIoContext(1)
		if err != nil {
			t.Fatalf("context %d: %v", i, err)
		}
		ctxs[i] = c
	}
	defer func() {
		// io_destroy waits for an RCU grace period: close in parallel.
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for _, c := range ctxs {
			wg.Add(1)
			sem <- struct{}{}
			go func() { defer wg.Done(); c.Close(); <-sem }()
		}
		wg.Wait()
	}()
	for i, c := range ctxs {
		if _, err := c.Eventfd(); err != nil {
			t.Fatalf("Eventfd %d: %v", i, err)
		}
		if k, err := c.Submit([]*IoControlBlock{pollCB(r, unix.POLLIN, uint64(i))}); k != 1 || err != nil {
			t.Fatalf("Submit %d = %d, %v", i, k, err)
		}
	}
	// Threads left idle by earlier tests (blocked closes, say) stay alive:
	// count those the waiters add.
	base := threads(t)
	var parked, ok atomic.Int32
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, c := range ctxs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			events := make([]IoEvent, 1)
			parked.Add(1)
			k, err := c.Wait(ctx, 1, events)
			if k == 1 && err == nil && events[0].Data == uint64(i) {
				ok.Add(1)
			} else {
				t.Errorf("waiter %d: %d, %v, %+v", i, k, err, events[0])
			}
		}()
	}
	for parked.Load() < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let them all reach the poller
	if th := threads(t); th-base >= 45 {
		t.Errorf("%d goroutines waiting on %d contexts: %d OS threads, %d before; want fewer than 50", n, n, th, base)
	} else {
		t.Logf("%d waiters: %d OS threads, %d before they waited", n, th, base)
	}
	if _, err := unix.Write(w, []byte{1}); err != nil { // completes every poll at once
		t.Fatal(err)
	}
	wg.Wait()
	if ok.Load() != n {
		t.Errorf("%d of %d waiters got their completion", ok.Load(), n)
	}
}

func TestAllocBuffer(t *testing.T) {
	page := os.Getpagesize()
	b, err := AllocBuffer(page + 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 2*page || uintptr(unsafe.Pointer(&b[0]))%uintptr(page) != 0 {
		t.Errorf("AllocBuffer(page+1): len %d at %p, want %d bytes page-aligned", len(b), &b[0], 2*page)
	}
	if !bytes.Equal(b, make([]byte, len(b))) {
		t.Error("AllocBuffer memory is not zeroed")
	}
	b[len(b)-1] = 1
	if err := FreeBuffer(b[:1]); err != nil {
		t.Errorf("FreeBuffer of a reslice: %v", err)
	}
	if err := FreeBuffer(b); !errors.Is(err, unix.EINVAL) {
		t.Errorf("second FreeBuffer: %v, want EINVAL", err)
	}
	if err := FreeBuffer(make([]byte, 10)); !errors.Is(err, unix.EINVAL) {
		t.Errorf("FreeBuffer of Go memory: %v, want EINVAL", err)
	}
	if err := FreeBuffer(nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("FreeBuffer(nil): %v, want EINVAL", err)
	}
	for _, size := range []int{0, -1} {
		if _, err := AllocBuffer(size); err == nil {
			t.Errorf("AllocBuffer(%d) succeeded", size)
		}
	}
}

// TestFreeBufferReslice: FreeBuffer takes any reslice of an AllocBuffer
// buffer that ends where it does, and unmaps the whole buffer; a slice that
// ends elsewhere, or that AllocBuffer did not return, gives EINVAL and is
// left alone.
func TestFreeBufferReslice(t *testing.T) {
	page := os.Getpagesize()
	for _, tt := range []struct {
		name string
		cut  func(b []byte) []byte
	}{
		{"b[page:]", func(b []byte) []byte { return b[page:] }},
		{"b[3*page+1:]", func(b []byte) []byte { return b[3*page+1:] }},
		{"b[page:2*page]", func(b []byte) []byte { return b[page : 2*page] }},
		{"b[:1]", func(b []byte) []byte { return b[:1] }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AllocBuffer(4 * page)
			if err != nil {
				t.Fatal(err)
			}
			if err := FreeBuffer(tt.cut(b)); err != nil {
				FreeBuffer(b)
				t.Fatalf("FreeBuffer(%s) of a four-page buffer: %v", tt.name, err)
			}
			for i := 0; i < 4; i++ {
				if mapped(t, b[i*page:]) {
					t.Errorf("page %d of the buffer is still mapped", i)
				}
			}
			if err := FreeBuffer(b); !errors.Is(err, unix.EINVAL) {
				t.Errorf("FreeBuffer after FreeBuffer(%s): %v, want EINVAL", tt.name, err)
			}
		})
	}
	t.Run("not ending at its end", func(t *testing.T) {
		b, err := AllocBuffer(4 * page)
		if err != nil {
			t.Fatal(err)
		}
		defer FreeBuffer(b)
		for _, s := range [][]byte{b[:page:page], b[page : 2*page : 3*page]} {
			if err := FreeBuffer(s); !errors.Is(err, unix.EINVAL) {
				t.Errorf("FreeBuffer of a slice with cap %d: %v, want EINVAL", cap(s), err)
			}
		}
		if !mapped(t, b) || !mapped(t, b[3*page:]) {
			t.Error("a refused FreeBuffer unmapped the buffer")
		}
	})
}

func TestDirectIO(t *testing.T) {
	name, _ := tempFile(t, 1<<16, unix.O_RDONLY)
	fd, err := OpenDirect(name, unix.O_RDWR, 0)
	if errors.Is(err, ErrNoDirectIO) {
		t.Skipf("the test directory's file system refuses O_DIRECT: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	mem, off, err := DirectIOAlignment(fd)
	if err != nil || mem <= 0 || off <= 0 || mem&(mem-1) != 0 || off&(off-1) != 0 || off > 65536 {
		t.Fatalf("DirectIOAlignment = %d, %d, %v", mem, off, err)
	}
	t.Logf("O_DIRECT alignment: memory %d, offset %d", mem, off)
	// procfs has no O_DIRECT: the error says so.
	if _, err := OpenDirect("/proc/self/status", unix.O_RDONLY, 0); !errors.Is(err, ErrNoDirectIO) || !errors.Is(err, unix.EINVAL) {
		t.Errorf("OpenDirect on procfs: %v, want ErrNoDirectIO and EINVAL", err)
	}
	if _, err := OpenDirect("/nonexistent/x", unix.O_RDONLY, 0); !errors.Is(err, unix.ENOENT) {
		t.Errorf("OpenDirect of a missing file: %v", err)
	}
	// O_DIRECT and O_CLOEXEC are added to the caller's flags.
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_DIRECT == 0 || fl&unix.O_ACCMODE != unix.O_RDWR {
		t.Errorf("OpenDirect's file status flags %#x, %v; want O_RDWR|O_DIRECT", fl, err)
	}
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("OpenDirect's descriptor flags %#x, %v; want FD_CLOEXEC", fl, err)
	}
	// Where neither statx nor a block device says, 4096.
	r, _ := pipeFDs(t)
	if mem, off, err := DirectIOAlignment(r); mem != 4096 || off != 4096 || err != nil {
		t.Errorf("DirectIOAlignment of a pipe = %d, %d, %v; want 4096, 4096, nil", mem, off, err)
	}
}

// TestRequestMovesStackBufferToHeap: a buffer the compiler would keep on
// the stack goes to the heap when a Request pins it, where it does not
// move.
func TestRequestMovesStackBufferToHeap(t *testing.T) {
	var r Request
	defer r.Release()
	// Pinning a buffer already on the heap allocates nothing, once the
	// Pinner has its room: what the local buffer costs is the buffer.
	heap := make([]byte, 64)
	if allocs := testing.AllocsPerRun(10, func() { r.PrepPread(0, heap, 0); r.Release() }); allocs != 0 {
		t.Fatalf("pinning a heap buffer allocates %v times", allocs)
	}
	allocs := testing.AllocsPerRun(10, func() {
		var local [64]byte
		r.PrepPread(0, local[:], 0)
		r.Release()
	})
	if allocs < 1 {
		t.Errorf("a local buffer pinned by Request was not allocated on the heap (%v allocations)", allocs)
	}
}

// TestEventfd holds Eventfd to its documentation: a new one counts 0;
// Signal adds to the count and Wait returns it and resets it to 0; Wait
// returns ctx.Err() when ctx is done first; Close wakes a parked Wait, and
// Wait on a closed eventfd says os.ErrClosed.
func TestEventfd(t *testing.T) {
	e, err := NewEventfd()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	short := func() (uint64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		return e.Wait(ctx)
	}
	if n, err := short(); n != 0 || err != context.DeadlineExceeded {
		t.Errorf("Wait on a new eventfd = %d, %v; want 0, DeadlineExceeded", n, err)
	}
	if err := e.Signal(3); err != nil {
		t.Fatal(err)
	}
	if err := e.Signal(4); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Wait(context.Background()); n != 7 || err != nil {
		t.Errorf("Wait after Signal(3), Signal(4) = %d, %v; want 7", n, err)
	}
	if n, err := short(); n != 0 || err != context.DeadlineExceeded {
		t.Errorf("Wait after the count was read = %d, %v; want 0, DeadlineExceeded", n, err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if n, err := e.Wait(cctx); n != 0 || err != context.Canceled {
		t.Errorf("Wait cancelled = %d, %v; want 0, context.Canceled", n, err)
	}

	errc := make(chan error)
	go func() {
		_, err := e.Wait(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // parked
	e.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Wait woken by Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake Wait")
	}
	if _, err := e.Wait(context.Background()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Wait on a closed eventfd: %v, want os.ErrClosed", err)
	}
}

// TestContextEventfd: a context has one eventfd, made on the first call;
// from then on Submit attaches it to every block that has no eventfd of its
// own and leaves the caller's alone, whose completions do not wake Wait;
// Close closes it.
func TestContextEventfd(t *testing.T) {
	c, err := NewIoContext(8)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e, err := c.Eventfd()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.Eventfd(); again != e || err != nil {
		t.Errorf("second Eventfd = %p, %v; want the first, %p", again, err, e)
	}
	own, err := NewEventfd()
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	r, w := pipeFDs(t)
	mine, theirs := pollCB(r, unix.POLLIN, 1), pollCB(r, unix.POLLIN, 2)
	mine.SetEventfd(own.Fd())
	if n, err := c.Submit([]*IoControlBlock{mine, theirs}); n != 2 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if mine.Resfd != uint32(own.Fd()) {
		t.Errorf("Submit replaced the caller's eventfd %d with %d", own.Fd(), mine.Resfd)
	}
	if theirs.Flags&IOCB_FLAG_RESFD == 0 || theirs.Resfd != uint32(e.Fd()) {
		t.Errorf("Submit did not attach the context's eventfd: Flags %#x Resfd %d", theirs.Flags, theirs.Resfd)
	}
	unix.Write(w, []byte{1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := own.Wait(ctx); n != 1 || err != nil {
		t.Errorf("the caller's eventfd counted %d, %v; want 1", n, err)
	}
	if n, err := e.Wait(ctx); n != 1 || err != nil {
		t.Errorf("the context's eventfd counted %d, %v; want 1", n, err)
	}
	reap(t, c, 2)

	// A completion that signals only the caller's eventfd does not wake a
	// parked Wait, which sees it only when something else wakes it: here,
	// its deadline. The completion stays in the ring.
	mine.PrepPoll(r, unix.POLLIN)
	mine.SetEventfd(own.Fd())
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		n, err := c.Wait(short, 1, make([]IoEvent, 1))
		done <- result{n, err}
	}()
	time.Sleep(50 * time.Millisecond)                                      // parked
	if n, err := c.Submit([]*IoControlBlock{mine}); n != 1 || err != nil { // completes at once
		t.Fatalf("Submit = %d, %v", n, err)
	}
	if res := <-done; res.n != 0 || res.err != context.DeadlineExceeded {
		t.Errorf("Wait while only the caller's eventfd was signalled = %d, %v; want 0, DeadlineExceeded", res.n, res.err)
	}
	reap(t, c, 1)

	c.Close()
	if _, err := e.Wait(context.Background()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the context's eventfd after Close: %v, want os.ErrClosed", err)
	}
}

// TestWaitPassesWakeupOn: two completions arrive together and bump the
// eventfd once for both; the waiter that reads the count takes one, and must
// pass the wake-up on so that the other waiter gets the second.
func TestWaitPassesWakeupOn(t *testing.T) {
	c := newContext(t, 8)
	if _, err := c.Eventfd(); err != nil {
		t.Fatal(err)
	}
	r, w := pipeFDs(t)
	if n, err := c.Submit([]*IoControlBlock{pollCB(r, unix.POLLIN, 1), pollCB(r, unix.POLLIN, 2)}); n != 2 || err != nil {
		t.Fatalf("Submit = %d, %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan uint64, 2)
	for i := 0; i < 2; i++ {
		go func() {
			events := make([]IoEvent, 1)
			if n, err := c.Wait(ctx, 1, events); n == 1 && err == nil {
				got <- events[0].Data
			} else {
				t.Errorf("Wait = %d, %v", n, err)
				got <- 0
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // both parked
	unix.Write(w, []byte{1})
	if a, b := <-got, <-got; a+b != 3 {
		t.Errorf("the waiters got %d and %d, want 1 and 2", a, b)
	}
}

// TestGetEventsYields: a GetEvents about to block lets the scheduler run at
// most every yieldInterval (see maybeYield).
func TestGetEventsYields(t *testing.T) {
	c := newContext(t, 8)
	events := make([]IoEvent, 1)
	ts := unix.NsecToTimespec(int64(time.Microsecond))
	// Intervals count from the package's epoch: a test run on its own may
	// start within the first one.
	time.Sleep(yieldInterval)
	c.GetEvents(1, events, &ts)
	first := c.lastYield.Load()
	if first == 0 {
		t.Fatal("a blocking GetEvents did not yield")
	}
	c.GetEvents(1, events, &ts)
	// Under emulation two calls can be more than an interval apart: then a
	// second yield is right, and there is nothing to check.
	if since := time.Since(epoch) - time.Duration(first); since < yieldInterval && c.lastYield.Load() != first {
		t.Error("GetEvents yielded again within yieldInterval")
	}
	time.Sleep(yieldInterval)
	before := c.lastYield.Load()
	c.GetEvents(0, events, &unix.Timespec{})
	if c.lastYield.Load() != before {
		t.Error("a poll yielded")
	}
	c.GetEvents(1, events, &ts)
	if c.lastYield.Load() == before {
		t.Error("GetEvents did not yield again after yieldInterval")
	}
}
