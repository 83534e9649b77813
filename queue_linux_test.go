// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// plugSubmitter makes the Queue's submitter block inside io_submit: a read
// of an empty blocking pipe is done synchronously by io_submit. Everything
// handed in meanwhile waits for the submitter's next io_submit. unplug
// writes the pipe, ends the read and returns its result.
func plugSubmitter(t *testing.T, q *Queue) (unplug func() (IoEvent, error)) {
	t.Helper()
	r, w := pipeFDs(t)
	buf := heapBytes(1)
	type result struct {
		ev  IoEvent
		err error
	}
	done := make(chan result, 1)
	before := q.Stats().Submits
	go func() {
		ev, err := q.Do(context.Background(), readCB(r, buf, 0, 0))
		done <- result{ev, err}
	}()
	waitFor(t, "the plug's io_submit", func() bool { return q.Stats().Submits > before })
	time.Sleep(5 * time.Millisecond) // into the kernel's pipe_read; harmless if not yet
	return func() (IoEvent, error) {
		if _, err := unix.Write(w, []byte{1}); err != nil {
			t.Fatal(err)
		}
		res := <-done
		return res.ev, res.err
	}
}

func TestQueueDo(t *testing.T) {
	q := newQueue(t, 8)
	zero := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := bytes.Repeat([]byte{0xff}, 100)
	cb := readCB(zero, buf, 0, 42)
	ev, err := q.Do(context.Background(), cb)
	if err != nil || ev.Res != 100 || ev.Data != 42 || ev.Obj != uint64(uintptr(ptr(cb))) {
		t.Fatalf("Do = %+v, %v; want Res 100, Data 42, Obj %p", ev, err, cb)
	}
	if !bytes.Equal(buf, make([]byte, 100)) {
		t.Fatal("the read did not land in the caller's buffer")
	}
	// The errno of a refused request comes back as err and in Res.
	ev, err = q.Do(context.Background(), readCB(-1&0x7fffffff, buf, 0, 7))
	if !errors.Is(err, unix.EBADF) || ev.Err() != unix.EBADF || ev.Data != 7 {
		t.Fatalf("bad fd: %+v, %v; want EBADF", ev, err)
	}
	// So does the errno of the I/O itself.
	_, fd := tempFile(t, 4096, unix.O_RDONLY)
	if _, err := q.Do(context.Background(), &IoControlBlock{LioOpcode: IOCB_CMD_PREAD, Fildes: uint32(fd),
		Buf: 1, Nbytes: 4096}); !errors.Is(err, unix.EFAULT) {
		t.Fatalf("read into address 1: %v; want EFAULT", err)
	}
}

func TestQueueBadInput(t *testing.T) {
	q := newQueue(t, 4)
	bg := context.Background()
	if _, err := q.Do(bg, nil); !errors.Is(err, unix.EFAULT) {
		t.Errorf("Do(nil) = %v; want EFAULT", err)
	}
	cb := &IoControlBlock{LioOpcode: IOCB_CMD_PREAD}
	cb.SetEventfd(0)
	if _, err := q.Do(bg, cb); !errors.Is(err, unix.EINVAL) {
		t.Errorf("Do with IOCB_FLAG_RESFD = %v; want EINVAL", err)
	}
	if err := q.DoBatch(bg, []*IoControlBlock{cb}, nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("DoBatch with short events = %v; want EINVAL", err)
	}
	if err := q.DoBatch(bg, []*IoControlBlock{nil}, make([]IoEvent, 1)); !errors.Is(err, unix.EFAULT) {
		t.Errorf("DoBatch with a nil block = %v; want EFAULT", err)
	}
	if _, err := q.DoDetached(bg, &IoControlBlock{}, nil); !errors.Is(err, unix.EINVAL) {
		t.Errorf("DoDetached with nil onLate = %v; want EINVAL", err)
	}
	if _, err := q.Do(bg, &IoControlBlock{LioOpcode: 99}); !errors.Is(err, unix.EINVAL) {
		t.Errorf("unknown opcode = %v; want EINVAL", err)
	}
	for _, depth := range []int{0, -1, MaxRequests + 1} {
		if _, err := NewQueue(depth); !errors.Is(err, unix.EINVAL) {
			t.Errorf("NewQueue(%d) = %v; want EINVAL", depth, err)
		}
	}
	var nilq *Queue
	if _, err := nilq.Do(bg, cb); err != ErrClosed {
		t.Errorf("nil Queue: %v; want ErrClosed", err)
	}
	if err := nilq.Close(); err != ErrClosed {
		t.Errorf("nil Queue Close: %v; want ErrClosed", err)
	}
	if q.Stats().InFlight != 0 {
		t.Errorf("InFlight = %d after refusals", q.Stats().InFlight)
	}
}

// TestQueueBatches holds the submitter in io_submit while eight goroutines
// hand in a request each: all eight must go in its next io_submit.
func TestQueueBatches(t *testing.T) {
	zero := openFile(t, "/dev/zero", unix.O_RDONLY)
	uninterrupted(t, func() bool {
		q := newQueue(t, 16)
		unplug := plugSubmitter(t, q)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				buf := heapBytes(64)
				ev, err := q.Do(context.Background(), readCB(zero, buf, 0, uint64(i)))
				if err != nil || ev.Res != 64 || ev.Data != uint64(i) {
					t.Errorf("request %d: %+v, %v", i, ev, err)
				}
			})
		}
		waitFor(t, "eight requests handed in", func() bool { return q.Stats().Requests == 9 })
		time.Sleep(10 * time.Millisecond)
		ev, err := unplug()
		wg.Wait()
		if interrupted(ev) {
			return true
		}
		if err != nil || ev.Res != 1 {
			t.Fatalf("plug: %+v, %v", ev, err)
		}
		if st := q.Stats(); st.Submits != 2 {
			t.Fatalf("%d io_submit calls for the plug and eight requests; want 2 (%+v)", st.Submits, st)
		}
		return false
	})
}

// TestQueuePartialSubmit puts a bad descriptor third in a batch of eight:
// the kernel takes two, refuses the third; the Queue must complete it with
// EBADF and submit the five behind it.
func TestQueuePartialSubmit(t *testing.T) {
	q := newQueue(t, 16)
	zero := openFile(t, "/dev/zero", unix.O_RDONLY)
	const bad = 1 << 30 // past any RLIMIT_NOFILE: never open
	cbs := make([]*IoControlBlock, 8)
	bufs := make([][]byte, 8)
	for i := range cbs {
		bufs[i] = bytes.Repeat([]byte{1}, 32)
		cbs[i] = readCB(zero, bufs[i], 0, uint64(100+i))
	}
	cbs[2].Fildes = uint32(bad)
	events := make([]IoEvent, 8)
	if err := q.DoBatch(context.Background(), cbs, events); err != nil {
		t.Fatalf("DoBatch: %v", err)
	}
	for i, ev := range events {
		want := int64(32)
		if i == 2 {
			want = -int64(unix.EBADF)
		}
		if ev.Res != want || ev.Data != uint64(100+i) || ev.Obj != uint64(uintptr(ptr(cbs[i]))) {
			t.Errorf("events[%d] = %+v; want Res %d, Data %d", i, ev, want, 100+i)
		}
	}
	if st := q.Stats(); st.Submits != 3 || st.InFlight != 0 {
		t.Errorf("stats %+v; want 3 io_submit calls (2 taken, 1 refused, 5 taken)", st)
	}

	// The same through Do from eight goroutines, batched behind a plug.
	unplug := plugSubmitter(t, q)
	var wg sync.WaitGroup
	var ebadf, ok atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			buf := heapBytes(32)
			cb := readCB(zero, buf, 0, 0)
			if i == 2 {
				cb.Fildes = uint32(bad)
			}
			ev, err := q.Do(context.Background(), cb)
			runtime.KeepAlive(buf) // the kernel's until Do returns
			switch {
			case errors.Is(err, unix.EBADF):
				ebadf.Add(1)
			case err == nil && ev.Res == 32:
				ok.Add(1)
			default:
				t.Errorf("request %d: %+v, %v", i, ev, err)
			}
		})
	}
	waitFor(t, "eight requests handed in", func() bool { return q.Stats().Requests == 8+1+8 })
	unplug()
	wg.Wait()
	if ebadf.Load() != 1 || ok.Load() != 7 {
		t.Fatalf("%d EBADF and %d successes; want 1 and 7", ebadf.Load(), ok.Load())
	}
}

// TestQueueBackpressure runs ten times as many goroutines as the Queue has
// room for, each with a poll that stays in the kernel until the pipe is
// written: the Queue must hold depth of them in the kernel and the rest in
// line, then complete every one, and no caller may see EAGAIN.
func TestQueueBackpressure(t *testing.T) {
	const depth = 8
	q := newQueue(t, depth)
	r, w := pipeFDs(t)
	var wg sync.WaitGroup
	errs := make(chan error, 10*depth)
	for i := range 10 * depth {
		wg.Go(func() {
			ev, err := q.Do(context.Background(), pollCB(r, unix.POLLIN, uint64(i)))
			if err == nil && (ev.Res&unix.POLLIN == 0 || ev.Data != uint64(i)) {
				err = errors.New("poll completed without POLLIN")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	waitFor(t, "the line to form", func() bool {
		st := q.Stats()
		return st.InFlight == depth && st.Waiting == 9*depth
	})
	if _, err := unix.Write(w, []byte{1}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := q.Stats(); st.WaitedForRoom < 9*depth || st.InFlight != 0 || st.Waiting != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestQueueBackpressureIO reads a file with O_DIRECT from ten times as many
// goroutines as the Queue has room for, checking every block, and watches
// that the Queue never has more than depth requests in the kernel.
func TestQueueBackpressureIO(t *testing.T) {
	const depth, blocks, rounds = 8, 64, 20
	_, fd := directFile(t, blocks*4096, 3)
	q := newQueue(t, depth)
	mostInFlight := watchInFlight(q)
	var wg sync.WaitGroup
	for g := range 10 * depth {
		wg.Go(func() {
			buf := alignedGo(4096, 4096)
			want := make([]byte, 4096)
			for i := range rounds {
				blk := uint64((g*rounds + i) % blocks)
				ev, err := q.Do(context.Background(), readCB(fd, buf, int64(blk)*4096, blk))
				if err != nil || ev.Res != 4096 || ev.Data != blk {
					t.Errorf("block %d: %+v, %v", blk, ev, err)
					return
				}
				blockPattern(want, 3, blk)
				if !bytes.Equal(buf, want) {
					t.Errorf("block %d: wrong data", blk)
					return
				}
			}
		})
	}
	wg.Wait()
	if m := mostInFlight(); m > depth {
		t.Errorf("%d requests in the kernel at once; the depth is %d", m, depth)
	}
	if st := q.Stats(); st.Requests != 10*depth*rounds {
		t.Errorf("Requests = %d; want %d", st.Requests, 10*depth*rounds)
	}
}

// TestQueueCancelWaitingForRoom: a request in line for room leaves the line
// at once when its context is done.
func TestQueueCancelWaitingForRoom(t *testing.T) {
	q := newQueue(t, 1)
	r, w := pipeFDs(t)
	held := make(chan error, 1)
	go func() {
		_, err := q.Do(context.Background(), pollCB(r, unix.POLLIN, 0))
		held <- err
	}()
	waitFor(t, "the poll in the kernel", func() bool { return q.Stats().InFlight == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.Do(ctx, pollCB(r, unix.POLLIN, 1)); err != context.DeadlineExceeded {
		t.Fatalf("Do waiting for room: %v; want DeadlineExceeded", err)
	}
	if st := q.Stats(); st.Waiting != 0 || st.InFlight != 1 {
		t.Fatalf("stats %+v after the caller left the line", st)
	}
	unix.Write(w, []byte{1})
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	// A context done before the call never reaches the Queue.
	if _, err := q.Do(ctx, pollCB(r, unix.POLLIN, 1)); err != context.DeadlineExceeded {
		t.Fatalf("Do with a done context: %v", err)
	}
}

// TestQueueCancelBeforeSubmit: a request handed in but not yet submitted is
// withdrawn at once, and never reaches the kernel.
func TestQueueCancelBeforeSubmit(t *testing.T) {
	zero := openFile(t, "/dev/zero", unix.O_RDONLY)
	uninterrupted(t, func() bool {
		q := newQueue(t, 8)
		name, fd := tempFile(t, 0, unix.O_RDWR)
		unplug := plugSubmitter(t, q)
		ctx, cancel := context.WithCancel(context.Background())
		data := []byte("must never be written")
		done := make(chan struct{})
		var ev IoEvent
		var err error
		go func() {
			ev, err = q.Do(ctx, &IoControlBlock{LioOpcode: IOCB_CMD_PWRITE, Fildes: uint32(fd),
				Buf: addr(data), Nbytes: uint64(len(data)), Data: 5})
			close(done)
		}()
		waitFor(t, "the write handed in", func() bool { return q.Stats().Requests == 2 })
		cancel()
		<-done // while the submitter is still held in io_submit, unless a signal ended it
		if plug, _ := unplug(); interrupted(plug) {
			return true
		}
		if err != context.Canceled || ev.Res != -int64(unix.ECANCELED) || ev.Data != 5 {
			t.Fatalf("withdrawn request: %+v, %v; want Res -ECANCELED, Canceled", ev, err)
		}
		waitFor(t, "the submitter to move on", func() bool { return q.Stats().InFlight == 0 })
		// The next request takes the slot; the withdrawn one was not submitted.
		buf := heapBytes(8)
		if _, err := q.Do(context.Background(), readCB(zero, buf, 0, 0)); err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(buf)
		if st, err := os.Stat(name); err != nil || st.Size() != 0 {
			t.Fatalf("the withdrawn write reached the file: %v, %v", st.Size(), err)
		}
		return false
	})
}

// TestQueueCancelPoll: a poll in the kernel is cancelled with io_cancel.
func TestQueueCancelPoll(t *testing.T) {
	q := newQueue(t, 4)
	r, _ := pipeFDs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := q.Do(ctx, pollCB(r, unix.POLLIN, 0)); err != context.DeadlineExceeded {
		t.Fatalf("cancelled poll: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelled poll took %v", d)
	}
	if st := q.Stats(); st.InFlight != 0 {
		t.Fatalf("the poll is still in the kernel: %+v", st)
	}
}

// TestQueueCancelInKernel: a request in the kernel that cannot be cancelled
// keeps its caller until the kernel is done with the caller's memory, and a
// detached one does not.
func TestQueueCancelInKernel(t *testing.T) {
	uninterrupted(t, func() bool {
		q := newQueue(t, 8)
		r, w := pipeFDs(t)
		buf := heapBytes(4)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		var ev IoEvent
		var err error
		go func() {
			ev, err = q.Do(ctx, readCB(r, buf, 0, 9)) // io_submit blocks in the pipe read
			close(done)
		}()
		waitFor(t, "the read submitted", func() bool { return q.Stats().Submits == 1 })
		cancel()
		select {
		case <-done:
			if interrupted(ev) {
				return true
			}
			t.Fatalf("Do returned (%+v, %v) while the kernel could still write the caller's buffer", ev, err)
		case <-time.After(20 * time.Millisecond):
		}
		unix.Write(w, []byte("abcd"))
		<-done
		if interrupted(ev) {
			return true
		}
		if err != context.Canceled || ev.Res != 4 || string(buf) != "abcd" {
			t.Fatalf("Do = %+v, %v, %q; want the completion, Canceled and the data", ev, err, buf)
		}
		return false
	})

	// Detached: the caller goes at once, onLate gets the completion.
	uninterrupted(t, func() bool {
		q := newQueue(t, 8)
		r, w := pipeFDs(t)
		buf := heapBytes(4)
		ctx, cancel := context.WithCancel(context.Background())
		late := make(chan IoEvent, 1)
		ev, err := IoEvent{}, error(nil)
		done := make(chan struct{})
		go func() {
			ev, err = q.DoDetached(ctx, readCB(r, buf, 0, 10), func(ev IoEvent) { late <- ev })
			close(done)
		}()
		waitFor(t, "the read submitted", func() bool { return q.Stats().Submits == 1 })
		cancel()
		<-done
		if interrupted(ev) {
			return true
		}
		if err != context.Canceled || ev != (IoEvent{}) {
			t.Fatalf("DoDetached = %+v, %v; want a zero event and Canceled", ev, err)
		}
		select {
		case ev := <-late:
			if interrupted(ev) {
				return true
			}
			t.Fatalf("onLate called before the kernel was done: %+v", ev)
		default:
		}
		unix.Write(w, []byte("efgh"))
		ev = <-late
		if interrupted(ev) {
			return true
		}
		if ev.Res != 4 || ev.Data != 10 {
			t.Fatalf("onLate got %+v", ev)
		}
		return false
	})
}

// TestQueueClose: Close fails the requests in line with ErrClosed, cancels
// polls in the kernel, waits for the other requests in the kernel, and
// wakes everyone.
func TestQueueClose(t *testing.T) {
	uninterrupted(t, func() bool {
		q, err := NewQueue(2)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := pipeFDs(t)
		ir, iw := pipeFDs(t)
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		poll := func(i int) {
			_, err := q.Do(context.Background(), pollCB(r, unix.POLLIN, uint64(i)))
			errs <- err
		}
		// One poll in the kernel, one read held in io_submit, five in line.
		wg.Go(func() { poll(0) })
		waitFor(t, "the poll in the kernel", func() bool { return q.Stats().InFlight == 1 })
		buf := heapBytes(3)
		var readEv IoEvent
		var readErr error
		wg.Go(func() { readEv, readErr = q.Do(context.Background(), readCB(ir, buf, 0, 0)) })
		waitFor(t, "the read submitted", func() bool { return q.Stats().Submits == 2 })
		for i := range 5 {
			wg.Go(func() { poll(i + 1) })
		}
		waitFor(t, "the line to form", func() bool { return q.Stats().Waiting == 5 })
		closed := make(chan error, 1)
		go func() { closed <- q.Close() }()
		select {
		case err := <-closed:
			wg.Wait()
			if interrupted(readEv) {
				return true
			}
			t.Fatalf("Close returned (%v) while a read was in the kernel", err)
		case <-time.After(20 * time.Millisecond):
		}
		unix.Write(iw, []byte("xyz"))
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		wg.Wait()
		if interrupted(readEv) {
			return true
		}
		close(errs)
		for err := range errs {
			if err != ErrClosed {
				t.Errorf("a poll caller got %v; want ErrClosed", err)
			}
		}
		if readErr != nil || readEv.Res != 3 || string(buf) != "xyz" {
			t.Errorf("the read in the kernel: %+v, %v; want its completion", readEv, readErr)
		}
		if _, err := q.Do(context.Background(), pollCB(r, unix.POLLIN, 0)); err != ErrClosed || !errors.Is(err, os.ErrClosed) {
			t.Errorf("Do after Close: %v; want ErrClosed, which is os.ErrClosed", err)
		}
		if err := q.DoBatch(context.Background(), []*IoControlBlock{pollCB(r, unix.POLLIN, 0)}, make([]IoEvent, 1)); err != ErrClosed {
			t.Errorf("DoBatch after Close: %v", err)
		}
		if err := q.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		return false
	})
}

// TestQueueExactlyOnce: many goroutines, single requests and batches, each
// completion delivered once, to its own caller, with its own data. Run it
// with -race.
func TestQueueExactlyOnce(t *testing.T) {
	const goroutines, rounds, blocks = 32, 50, 128
	_, fd := directFile(t, blocks*4096, 11)
	q := newQueue(t, 16)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			want := make([]byte, 4096)
			if g%4 == 0 { // batches of four
				bufs := [4][]byte{}
				cbs := make([]*IoControlBlock, 4)
				events := make([]IoEvent, 4)
				for i := range bufs {
					bufs[i] = alignedGo(4096, 4096)
				}
				for r := range rounds {
					for i := range cbs {
						blk := uint64((g*rounds+r*4+i)*7) % blocks
						cbs[i] = readCB(fd, bufs[i], int64(blk)*4096, blk)
					}
					if err := q.DoBatch(context.Background(), cbs, events); err != nil {
						t.Error(err)
						return
					}
					for i, ev := range events {
						blockPattern(want, 11, cbs[i].Data)
						if ev.Res != 4096 || ev.Data != cbs[i].Data || ev.Obj != uint64(uintptr(ptr(cbs[i]))) || !bytes.Equal(bufs[i], want) {
							t.Errorf("batch event %d: %+v", i, ev)
							return
						}
					}
				}
				return
			}
			buf := alignedGo(4096, 4096)
			for r := range rounds {
				blk := uint64((g*rounds+r)*13) % blocks
				ev, err := q.Do(context.Background(), readCB(fd, buf, int64(blk)*4096, blk))
				blockPattern(want, 11, blk)
				if err != nil || ev.Res != 4096 || ev.Data != blk || !bytes.Equal(buf, want) {
					t.Errorf("block %d: %+v, %v", blk, ev, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := q.Stats(); st.InFlight != 0 || st.Requests != goroutines/4*rounds*4+(goroutines-goroutines/4)*rounds {
		t.Errorf("stats %+v", st)
	}
}

// TestQueueBatchLargerThanDepth: a batch bigger than the Queue goes through
// in parts, every request completing once.
func TestQueueBatchLargerThanDepth(t *testing.T) {
	q := newQueue(t, 4)
	zero := openFile(t, "/dev/zero", unix.O_RDONLY)
	cbs := make([]*IoControlBlock, 37)
	bufs := make([][]byte, len(cbs))
	for i := range cbs {
		bufs[i] = heapBytes(16)
		cbs[i] = readCB(zero, bufs[i], 0, uint64(i))
	}
	events := make([]IoEvent, len(cbs))
	if err := q.DoBatch(context.Background(), cbs, events); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(bufs)
	for i, ev := range events {
		if ev.Res != 16 || ev.Data != uint64(i) {
			t.Fatalf("events[%d] = %+v", i, ev)
		}
	}
}

// TestQueueBatchCancel: a batch whose context is done withdraws what has not
// reached the kernel and cancels its polls.
func TestQueueBatchCancel(t *testing.T) {
	q := newQueue(t, 2)
	r, _ := pipeFDs(t)
	cbs := make([]*IoControlBlock, 5)
	for i := range cbs {
		cbs[i] = pollCB(r, unix.POLLIN, uint64(i))
	}
	events := make([]IoEvent, len(cbs))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.DoBatch(ctx, cbs, events); err != context.DeadlineExceeded {
		t.Fatalf("DoBatch: %v", err)
	}
	for i, ev := range events[2:] {
		if ev.Res != -int64(unix.ECANCELED) {
			t.Errorf("events[%d] = %+v; want -ECANCELED", i+2, ev)
		}
	}
	waitFor(t, "the polls cancelled", func() bool { return q.Stats().InFlight == 0 })
}

func TestQueueDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in os.File reads and writes")
	}
	q := newQueue(t, 8)
	zero := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := heapBytes(512)
	cb := readCB(zero, buf, 0, 0)
	ctx := context.Background()
	q.Do(ctx, cb)
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := q.Do(ctx, cb); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Do allocates %v times per call", n)
	}
	runtime.KeepAlive(buf)
}

// TestQueueChaos: reads, detached reads, polls and batches from many
// goroutines with contexts that end at random moments, then Close with
// callers still coming: every call returns, every completion goes to its
// own caller, and every detached request's onLate runs exactly once.
func TestQueueChaos(t *testing.T) {
	_, fd := directFile(t, 64*4096, 3)
	r, w := pipeFDs(t)
	q, err := NewQueue(8)
	if err != nil {
		t.Fatal(err)
	}
	var detached, lates atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	var seq atomic.Uint64
	for g := range 24 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			buf := alignedGo(4096, 4096)
			bufs := [3][]byte{alignedGo(4096, 4096), alignedGo(4096, 4096), alignedGo(4096, 4096)}
			for !stop.Load() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(300))*time.Microsecond)
				id := seq.Add(1)
				switch rng.IntN(4) {
				case 0:
					ev, err := q.Do(ctx, readCB(fd, buf, int64(rng.IntN(64))*4096, id))
					if err == nil && (ev.Data != id || ev.Res != 4096) {
						t.Errorf("Do: %+v for %d", ev, id)
					}
				case 1:
					var once atomic.Bool
					ev, err := q.DoDetached(ctx, readCB(fd, alignedGo(4096, 4096), 0, id), func(ev IoEvent) {
						if !once.CompareAndSwap(false, true) || ev.Data != id {
							t.Errorf("onLate twice, or with %+v for %d", ev, id)
						}
						lates.Add(1)
					})
					if ev == (IoEvent{}) {
						detached.Add(1)
					} else if ev.Data != id {
						t.Errorf("DoDetached: %+v for %d (%v)", ev, id, err)
					}
				case 2:
					ev, err := q.Do(ctx, pollCB(r, unix.POLLIN, id))
					if err == nil && ev.Data != id {
						t.Errorf("poll: %+v for %d", ev, id)
					}
				case 3:
					cbs := []*IoControlBlock{readCB(fd, bufs[0], 0, id), readCB(fd, bufs[1], 4096, id+1<<40), readCB(fd, bufs[2], 8192, id+2<<40)}
					evs := make([]IoEvent, 3)
					if err := q.DoBatch(ctx, cbs, evs); err == nil {
						for i, ev := range evs {
							if ev.Data != cbs[i].Data || ev.Res != 4096 {
								t.Errorf("batch %d: %+v", i, ev)
							}
						}
					}
				}
				cancel()
				if rng.IntN(50) == 0 {
					unix.Write(w, []byte{1})
					var b [1]byte
					unix.Read(r, b[:])
				}
			}
		})
	}
	time.Sleep(time.Second)
	closed := make(chan error, 1)
	go func() { closed <- q.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Close hangs: %+v", q.Stats())
	}
	stop.Store(true)
	returned := make(chan struct{})
	go func() { wg.Wait(); close(returned) }()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatalf("callers hang after Close: %+v", q.Stats())
	}
	if detached.Load() != lates.Load() {
		t.Errorf("%d requests detached, %d onLate calls", detached.Load(), lates.Load())
	}
	t.Logf("%+v; %d detached", q.Stats(), detached.Load())
}
