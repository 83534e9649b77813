// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A Queue shares one IoContext among any number of goroutines. Each hands it
// a request with Do (or several with DoBatch) and is parked, holding no OS
// thread, until that request's own completion comes back.
//
// One goroutine of the Queue's own, the submitter, does every io_submit and
// reaps every completion: requests that arrive while it is in io_submit go
// together in its next call, and it parks on the context's eventfd in Go's
// runtime poller when it has nothing to do. It never has more requests in
// the kernel than the depth given to NewQueue; further requests wait for
// room in the order they came, and leave the line when their context is
// done. So no caller sees EAGAIN for a full ring, however many goroutines
// there are.
//
// When the kernel refuses a request of a batch (io_submit's partial
// submit), that request alone completes with the kernel's errno, and the
// requests behind it are submitted again.
//
// A request the kernel does during io_submit (see "What is asynchronous" in
// the package documentation) holds up the submitter, and every request
// behind it, for as long as it takes.
type Queue struct {
	ioctx *IoContext
	efd   *Eventfd
	slots []slot
	free  chan *slot // the slots no request holds; cap len(slots)

	closing chan struct{} // closed when Close begins
	exited  chan struct{} // closed when the submitter returns
	closeMu sync.Mutex

	// mu guards the slots' state, w, dst and gen, the pending and cancels
	// lists, and every waiter's remaining, signalled and err.
	mu       sync.Mutex
	pending  []*slot   // handed in, not yet taken by the submitter
	cancels  []slotRef // polls whose callers gave up, for io_cancel
	closed   bool
	parked   atomic.Bool // the submitter is, or is about to be, parked
	zeroTime unix.Timespec

	// idle keeps waiters for reuse: unlike a sync.Pool, which the race
	// detector makes drop items, it never allocates once warm.
	idleMu sync.Mutex
	idle   []*waiter

	requests, submits, reaps, parks, waitedForRoom atomic.Uint64
	waiting, inflight                              atomic.Int64
}

// slotState is where a slot's request is.
type slotState uint8

const (
	slotFree      slotState = iota
	slotPending             // in q.pending
	slotWithdrawn           // in q.pending, its caller gone: not to be submitted
	slotTaken               // taken by the submitter: in the kernel, or about to be
)

// A slot is one request's place in the Queue: the block the kernel sees
// (Data is the slot's index) and where its completion goes.
type slot struct {
	cb        IoControlBlock
	index     uint64
	gen       uint64 // counts the slot's requests, so a waiter knows its own
	state     slotState
	inKernel  bool          // the submitter's: accepted by io_submit, not yet reaped
	cancel    bool          // the submitter's: io_cancel already asked
	obj, data uint64        // the caller's block address and Data, for the event
	w         *waiter       // nil once the caller has left
	dst       *IoEvent      // where the completion goes, while w is not nil
	onLate    func(IoEvent) // DoDetached's, for a completion nobody waits for
}

// A waiter is one Do or DoBatch call.
type waiter struct {
	done      chan struct{} // receives once remaining reaches 0 by a completion
	remaining int
	signalled bool  // done has been sent to
	detached  bool  // DoDetached left its request to onLate
	err       error // ErrClosed when Close failed a request of the call
	ev        IoEvent
	slots     []slotRef
}

type slotRef struct {
	s   *slot
	gen uint64
	dst *IoEvent // where its completion goes, until enqueue gives it to s
}

// QueueStats are a Queue's counters, for benchmarks and monitoring.
type QueueStats struct {
	Requests      uint64 // requests handed to Do, DoBatch and DoDetached
	Submits       uint64 // io_submit calls
	Reaps         uint64 // GetEvents calls that reaped completions, from the ring
	Parks         uint64 // times the submitter parked on the eventfd
	WaitedForRoom uint64 // requests that found the Queue full and waited for room
	Waiting       int64  // requests waiting for room now
	InFlight      int64  // requests in the kernel now
}

// NewQueue creates a Queue over a new IoContext with room for depth requests
// in the kernel at once, and starts its submitter. NewIoContext's errors
// apply; depth must be positive.
func NewQueue(depth int) (*Queue, error) {
	if depth <= 0 || depth > MaxRequests {
		return nil, unix.EINVAL
	}
	ioctx, err := NewIoContext(uint32(depth))
	if err != nil {
		return nil, err
	}
	// The eventfd exists before the first request, so every request
	// signals it.
	efd, err := ioctx.Eventfd()
	if err != nil {
		ioctx.Close()
		return nil, err
	}
	q := &Queue{
		ioctx:   ioctx,
		efd:     efd,
		slots:   make([]slot, depth),
		free:    make(chan *slot, depth),
		closing: make(chan struct{}),
		exited:  make(chan struct{}),
		pending: make([]*slot, 0, depth),
		cancels: make([]slotRef, 0, depth),
	}
	for i := range q.slots {
		q.slots[i].index = uint64(i)
		q.free <- &q.slots[i]
	}
	go q.run()
	return q, nil
}

// Do hands cb to the kernel and waits for its completion, which it returns
// with Obj and Data as in cb (the kernel sees a copy of cb, owned by the
// Queue). cb is only read during the call; the memory its Buf points to is
// the caller's, under the rules of "Memory handed to the kernel" in the
// package documentation, until Do returns. Mind the stack rule in
// particular: Do parks the goroutine, and the runtime may move a parked
// goroutine's stack; Request's Prep methods move a buffer off the stack.
//
// err is nil when the request succeeded, and otherwise says why not: the
// kernel's errno from io_submit or from the I/O itself (ev.Res), ctx.Err(),
// or ErrClosed. A read or write may still have transferred less than asked
// (ev.Res).
//
// A request that never reached the kernel comes back with Res -ECANCELED
// (or the errno of a check of Do's own). When ctx is done before the
// request is in the kernel, Do withdraws it and returns ctx.Err() at once. Once it is in the kernel, an IOCB_CMD_POLL is
// cancelled (io_cancel) and Do returns ctx.Err() when the cancelled poll
// completes; any other request cannot be cancelled (see Cancel), and Do
// waits for its completion, because until then the kernel may use the
// caller's memory: it returns that completion and ctx.Err(). A read or
// write on a healthy disk takes milliseconds at most; see DoDetached for
// requests whose memory the caller can let go of.
//
// cb must not have IOCB_FLAG_RESFD set (EINVAL): the Queue needs its own
// eventfd on every request. Do does not allocate once the Queue is warm.
func (q *Queue) Do(ctx context.Context, cb *IoControlBlock) (IoEvent, error) {
	return q.do(ctx, cb, nil)
}

// DoDetached is Do for a request whose memory the caller does not need back
// when it gives up, such as a bounce buffer of its own: when ctx is done
// after the request reached the kernel, DoDetached returns ctx.Err() and a
// zero IoEvent at once instead of waiting, and the Queue later calls onLate
// with the request's completion, once the kernel is done with the memory,
// so that the caller can reclaim it. DoDetached returns a zero IoEvent in
// that case only, and onLate is called in that case only: whenever
// DoDetached returns an IoEvent that is not zero, the request is no longer
// in the kernel (or never reached it), and the memory is the caller's.
// onLate runs on the Queue's submitter goroutine: it must be quick and must
// not call the Queue.
func (q *Queue) DoDetached(ctx context.Context, cb *IoControlBlock, onLate func(IoEvent)) (IoEvent, error) {
	if onLate == nil {
		return IoEvent{}, unix.EINVAL
	}
	return q.do(ctx, cb, onLate)
}

func (q *Queue) do(ctx context.Context, cb *IoControlBlock, onLate func(IoEvent)) (IoEvent, error) {
	if q == nil {
		return refused(cb, unix.ECANCELED), ErrClosed
	}
	if err := checkBlock(cb); err != nil {
		return refused(cb, err.(unix.Errno)), err
	}
	if err := ctx.Err(); err != nil {
		return refused(cb, unix.ECANCELED), err
	}
	q.requests.Add(1)
	w := q.getWaiter(1)
	s, err := q.acquire(ctx)
	if err != nil {
		q.putWaiter(w)
		return refused(cb, unix.ECANCELED), err
	}
	q.fill(s, cb, w, &w.ev, onLate)
	q.enqueue(w, w.slots) // on ErrClosed, it has finished the request with it
	err = q.wait(ctx, w)
	ev := w.ev
	if err == nil {
		err = ev.Err()
	} else if w.detached {
		ev = IoEvent{}
	}
	q.putWaiter(w)
	return ev, err
}

// DoBatch hands the requests of cbs to the kernel, together in one io_submit
// when there is room for them, and waits for all their completions, storing
// the completion of cbs[i] in events[i] (with cbs[i]'s address and Data).
// Each request succeeds or fails on its own: events[i].Err() tells. DoBatch
// returns nil once every request has completed, ctx.Err() when ctx was done
// first, or ErrClosed; requests it withdrew before they reached the kernel
// then have Res -ECANCELED. Cancellation otherwise works as for Do, which
// says what the caller's memory is subject to.
//
// events must be at least as long as cbs (EINVAL), and no block may be nil
// (EFAULT) or have IOCB_FLAG_RESFD set (EINVAL); DoBatch checks before it
// submits anything.
func (q *Queue) DoBatch(ctx context.Context, cbs []*IoControlBlock, events []IoEvent) error {
	if q == nil {
		return ErrClosed
	}
	if len(events) < len(cbs) {
		return unix.EINVAL
	}
	for _, cb := range cbs {
		if err := checkBlock(cb); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(cbs) == 0 {
		return nil
	}
	q.requests.Add(uint64(len(cbs)))
	w := q.getWaiter(len(cbs))
	defer q.putWaiter(w)
	for i := 0; i < len(cbs); {
		// Take every slot free now and hand them in together; wait for
		// room only when none is free.
		start := len(w.slots)
		for ; i < len(cbs); i++ {
			var s *slot
			select {
			case s = <-q.free:
			default:
			}
			if s == nil {
				break
			}
			q.fill(s, cbs[i], w, &events[i], nil)
		}
		if len(w.slots) > start {
			if err := q.enqueue(w, w.slots[start:]); err != nil {
				q.abandonRest(w, events[i:], len(cbs)-i)
				q.wait(ctx, w)
				return err
			}
		}
		if i == len(cbs) {
			break
		}
		s, err := q.acquire(ctx)
		if err != nil {
			q.abandonRest(w, events[i:], len(cbs)-i)
			if werr := q.wait(ctx, w); werr != nil {
				return werr
			}
			return err
		}
		q.fill(s, cbs[i], w, &events[i], nil)
		i++
		if err := q.enqueue(w, w.slots[len(w.slots)-1:]); err != nil {
			q.abandonRest(w, events[i:], len(cbs)-i)
			q.wait(ctx, w)
			return err
		}
	}
	return q.wait(ctx, w)
}

// getWaiter returns a waiter for n requests.
func (q *Queue) getWaiter(n int) *waiter {
	var w *waiter
	q.idleMu.Lock()
	if k := len(q.idle); k > 0 {
		w = q.idle[k-1]
		q.idle = q.idle[:k-1]
	}
	q.idleMu.Unlock()
	if w == nil {
		w = &waiter{done: make(chan struct{}, 1)}
	}
	w.slots = w.slots[:0]
	w.remaining = n
	w.signalled, w.detached, w.err = false, false, nil
	return w
}

// putWaiter keeps w for reuse.
func (q *Queue) putWaiter(w *waiter) {
	q.idleMu.Lock()
	q.idle = append(q.idle, w)
	q.idleMu.Unlock()
}

// abandonRest marks the requests of a batch that were never handed in.
func (q *Queue) abandonRest(w *waiter, events []IoEvent, n int) {
	for i := range n {
		events[i] = IoEvent{Res: -int64(unix.ECANCELED)}
	}
	q.mu.Lock()
	if w.remaining -= n; w.remaining == 0 && !w.signalled {
		w.signalled = true
		w.done <- struct{}{}
	}
	q.mu.Unlock()
}

// refused is the IoEvent of a request that never reached the kernel.
func refused(cb *IoControlBlock, errno unix.Errno) IoEvent {
	ev := IoEvent{Obj: uint64(uintptr(unsafe.Pointer(cb))), Res: -int64(errno)}
	if cb != nil {
		ev.Data = cb.Data
	}
	return ev
}

// checkBlock is what Do and DoBatch refuse before anything is submitted.
func checkBlock(cb *IoControlBlock) error {
	if cb == nil {
		return unix.EFAULT // what io_submit says of a nil block
	}
	if cb.Flags&IOCB_FLAG_RESFD != 0 {
		return unix.EINVAL
	}
	return nil
}

// acquire takes a free slot, waiting for one in line if there is none.
func (q *Queue) acquire(ctx context.Context) (*slot, error) {
	select {
	case s := <-q.free:
		return s, nil
	default:
	}
	q.waitedForRoom.Add(1)
	q.waiting.Add(1)
	defer q.waiting.Add(-1)
	select {
	case s := <-q.free:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-q.closing:
		return nil, ErrClosed
	}
}

// fill copies cb into s for waiter w, whose completion goes to dst.
func (q *Queue) fill(s *slot, cb *IoControlBlock, w *waiter, dst *IoEvent, onLate func(IoEvent)) {
	s.cb = *cb
	s.cb.Data = s.index
	s.obj = uint64(uintptr(unsafe.Pointer(cb)))
	s.data = cb.Data
	s.onLate = onLate
	w.slots = append(w.slots, slotRef{s: s, dst: dst}) // gen, w and dst: enqueue
}

// enqueue hands w's filled slots to the submitter, waking it if it is
// parked. It gives each slot its waiter and a new generation under q.mu, in
// the one locked section a request costs its caller.
func (q *Queue) enqueue(w *waiter, refs []slotRef) error {
	q.mu.Lock()
	for i := range refs {
		s := refs[i].s
		s.gen++
		s.w, s.dst = w, refs[i].dst
		refs[i].gen = s.gen
	}
	if q.closed {
		for _, r := range refs {
			q.complete(r.s, IoEvent{Res: -int64(unix.ECANCELED)}, ErrClosed, nil)
		}
		q.mu.Unlock()
		return ErrClosed
	}
	for _, r := range refs {
		r.s.state = slotPending
		q.pending = append(q.pending, r.s)
	}
	q.mu.Unlock()
	q.wake()
	return nil
}

// wake wakes the submitter if it is parked.
func (q *Queue) wake() {
	if q.parked.Load() && q.parked.CompareAndSwap(true, false) {
		q.efd.Signal(1)
	}
}

// wait waits for w's requests. When ctx is done first it withdraws those
// not yet taken by the submitter, has polls cancelled, detaches DoDetached
// requests, and waits for the rest.
func (q *Queue) wait(ctx context.Context, w *waiter) error {
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
	}
	wakeSubmitter := false
	q.mu.Lock()
	for _, r := range w.slots {
		s := r.s
		if s.gen != r.gen || s.w != w {
			continue // completed
		}
		switch {
		case s.state == slotPending:
			s.state = slotWithdrawn
			*s.dst = IoEvent{Obj: s.obj, Data: s.data, Res: -int64(unix.ECANCELED)}
			s.w, s.dst = nil, nil
			w.remaining--
		case s.onLate != nil:
			s.w, s.dst = nil, nil
			w.detached = true
			w.remaining--
		case s.cb.LioOpcode == IOCB_CMD_POLL:
			q.cancels = append(q.cancels, r)
			wakeSubmitter = true
		}
	}
	rest, signalled := w.remaining, w.signalled
	q.mu.Unlock()
	if wakeSubmitter {
		q.wake()
	}
	if rest > 0 || signalled {
		<-w.done
	}
	if w.err != nil {
		return w.err
	}
	return ctx.Err()
}

// complete delivers s's completion (finish) and frees s; an onLate call
// that is due goes on lates, for the submitter to make outside q.mu, which
// is held.
func (q *Queue) complete(s *slot, ev IoEvent, err error, lates []lateCall) []lateCall {
	ev.Obj, ev.Data = s.obj, s.data
	if late := q.finish(s, ev, err); late != nil {
		lates = append(lates, lateCall{late, ev})
	}
	q.free <- s
	return lates
}

// finish delivers a completion, whose Obj and Data are the caller's, to its
// waiter, or returns the onLate to give it to when nobody waits. q.mu is
// held.
func (q *Queue) finish(s *slot, ev IoEvent, err error) (late func(IoEvent)) {
	if w := s.w; w != nil {
		*s.dst = ev
		if err != nil {
			w.err = err
		}
		if w.remaining--; w.remaining == 0 {
			w.signalled = true
			w.done <- struct{}{}
		}
	} else if s.state != slotWithdrawn {
		late = s.onLate
	}
	s.w, s.dst, s.onLate = nil, nil, nil
	s.state = slotFree
	return late
}

// Stats returns the Queue's counters.
func (q *Queue) Stats() QueueStats {
	return QueueStats{
		Requests:      q.requests.Load(),
		Submits:       q.submits.Load(),
		Reaps:         q.reaps.Load(),
		Parks:         q.parks.Load(),
		WaitedForRoom: q.waitedForRoom.Load(),
		Waiting:       q.waiting.Load(),
		InFlight:      q.inflight.Load(),
	}
}

// Close fails the requests waiting for room or for the submitter with
// ErrClosed, cancels polls in the kernel, waits for every other request in
// the kernel to complete and delivers its completion, then closes the
// IoContext. Afterwards every method returns ErrClosed, except Close, which
// returns nil: Close is idempotent and may be called from any goroutine.
func (q *Queue) Close() error {
	if q == nil {
		return ErrClosed
	}
	q.closeMu.Lock()
	defer q.closeMu.Unlock()
	select {
	case <-q.exited:
		return nil
	default:
	}
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.closing)
	q.parked.Store(false)
	q.efd.Signal(1)
	<-q.exited
	return q.ioctx.Close()
}

// run is the submitter: it submits what callers handed in, asks io_cancel
// for polls whose callers gave up, reaps the ring and delivers completions,
// and parks on the eventfd when none of that has anything to do. It returns
// once the Queue is closed and nothing it submitted is left in the kernel.
func (q *Queue) run() {
	defer close(q.exited)
	var (
		taken    = make([]*slot, 0, len(q.slots))
		cancels  = make([]slotRef, 0, len(q.slots))
		kill     = make([]*slot, 0, len(q.slots))
		toSubmit = make([]*IoControlBlock, 0, len(q.slots))
		batch    []*IoControlBlock
		held     []*IoControlBlock // refused with EAGAIN: again after a reap
		events   = make([]IoEvent, len(q.slots))
		lates    []lateCall
		inflight int
		closing  bool
		idle     int // looks that found nothing to do since the last work
	)
	for {
		// Take what callers handed in.
		q.mu.Lock()
		taken, q.pending = q.pending, taken[:0]
		cancels, q.cancels = q.cancels, cancels[:0]
		// A slot cannot change hands before this iteration reaps, so the
		// polls still waited for now are the ones to cancel.
		kill = kill[:0]
		for _, r := range cancels {
			if r.s.gen == r.gen && r.s.w != nil {
				kill = append(kill, r.s)
			}
		}
		if q.closed && !closing {
			closing = true
			// Fail what has not reached the kernel, and cancel the polls
			// that have: io_destroy would drop their completions.
			for i := range q.slots {
				if s := &q.slots[i]; s.inKernel && s.cb.LioOpcode == IOCB_CMD_POLL {
					kill = append(kill, s)
				}
			}
		}
		batch = append(toSubmit[:0], held...)
		held = held[:0]
		for _, s := range taken {
			switch {
			case s.state == slotWithdrawn:
				s.state = slotFree
				q.free <- s
			case closing:
				q.complete(s, IoEvent{Res: -int64(unix.ECANCELED)}, ErrClosed, nil)
			default:
				s.state = slotTaken
				batch = append(batch, &s.cb)
			}
		}
		q.mu.Unlock()
		busy := len(batch) > 0 || len(kill) > 0

		// Submit, going past requests the kernel refuses.
		for len(batch) > 0 {
			q.submits.Add(1)
			n, err := q.ioctx.Submit(batch)
			for _, cb := range batch[:n] {
				q.slots[cb.Data].inKernel = true
			}
			inflight += n
			q.inflight.Store(int64(inflight))
			batch = batch[n:]
			if err == nil || len(batch) == 0 {
				continue // a partial submit: the next call says why
			}
			if err == unix.EAGAIN && inflight > 0 {
				held = append(held, batch...) // not expected: see NewQueue
				break
			}
			s := &q.slots[batch[0].Data]
			batch = batch[1:]
			errno, ok := err.(unix.Errno)
			if !ok {
				errno = unix.EBADF // ErrClosed: the context is gone, which Close alone does
			}
			q.mu.Lock()
			lates = q.complete(s, IoEvent{Res: -int64(errno)}, nil, lates)
			q.mu.Unlock()
		}

		for _, s := range kill {
			if s.inKernel && !s.cancel {
				s.cancel = true
				var ignored IoEvent
				q.ioctx.Cancel(&s.cb, &ignored) // EINVAL: completed meanwhile
			}
		}

		// Reap.
		n := 0
		if inflight > 0 {
			n, _ = q.ioctx.GetEvents(0, events, &q.zeroTime)
			q.reaps.Add(1)
		}
		if n > 0 {
			busy = true
			inflight -= n
			q.inflight.Store(int64(inflight))
			q.mu.Lock()
			for _, ev := range events[:n] {
				if ev.Data >= uint64(len(q.slots)) {
					continue // not ours: cannot happen
				}
				s := &q.slots[ev.Data]
				var err error
				if closing && s.cancel {
					err = ErrClosed // a poll that Close cancelled
				}
				s.inKernel, s.cancel = false, false
				lates = q.complete(s, ev, err, lates)
			}
			q.mu.Unlock()
		}
		for i, l := range lates {
			l.f(l.ev)
			lates[i] = lateCall{}
		}
		lates = lates[:0]

		if busy || len(held) > 0 && inflight == 0 {
			idle = 0
			continue
		}
		if closing && inflight == 0 {
			return
		}
		// Before parking, let the callers just woken run: they are about to
		// hand in their next requests, and a park and the wake-up after it
		// cost some 10us of CPU, against a few hundred ns for a look.
		if idle < idleLooks {
			idle++
			runtime.Gosched()
			continue
		}
		idle = 0
		// Park until a completion or a caller signals the eventfd.
		q.parked.Store(true)
		q.mu.Lock()
		nothing := len(q.pending) == 0 && len(q.cancels) == 0 && q.closed == closing
		q.mu.Unlock()
		if nothing {
			q.parks.Add(1)
			q.efd.Wait(context.Background())
		}
		q.parked.Store(false)
	}
}

// idleLooks is how many times the submitter yields and looks again before
// it parks.
const idleLooks = 3

// lateCall is a DoDetached completion for onLate.
type lateCall struct {
	f  func(IoEvent)
	ev IoEvent
}
