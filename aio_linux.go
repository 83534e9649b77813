// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxRequests is 65536, the default of /proc/sys/fs/aio-max-nr: how many
// requests all the AIO contexts of the machine may have room for together.
// It is not a limit of this package: NewIoContext leaves the decision to the
// kernel, which fails with EAGAIN past fs.aio-max-nr, and administrators of
// large servers raise that sysctl.
const MaxRequests = 0x10000

// ErrClosed is the error of every method called on a closed or nil
// IoContext or Queue. It satisfies errors.Is(ErrClosed, os.ErrClosed), as
// the errors of a closed File do.
var ErrClosed error = errClosed{}

type errClosed struct{}

func (errClosed) Error() string        { return "aio: use of closed IoContext" }
func (errClosed) Is(target error) bool { return target == os.ErrClosed }

// setupMu keeps io_setup from running while a closed context may still have
// callers on their way into the kernel. The kernel names a context by the
// address of its completion ring, so a context set up at the address just
// freed would receive those callers' requests and hand them its events.
var setupMu sync.RWMutex

// maxDeadlineSec bounds the timeouts that GetEvents keeps a deadline for,
// far below where time.Duration overflows.
const maxDeadlineSec = 1 << 30

// closedBit marks an IoContext's state closed; the bits below it count the
// callers inside its methods.
const closedBit = 1 << 62

// IoContext is a kernel AIO context (aio_context_t): a completion ring that
// requests are submitted to and completions reaped from. Its methods may be
// called from any number of goroutines at once, Close included.
type IoContext struct {
	id      uintptr        // the aio_context_t: the user address of the ring
	ring    unsafe.Pointer // the same address, for reading the ring
	state   atomic.Int64   // closedBit | callers inside a method
	closeMu sync.Mutex     // serializes Close

	// reapMu keeps user-space reaping apart from io_getevents, which moves
	// the ring's head too: reapRing holds it exclusively (TryLock, never
	// waiting), kernel reapers share it. ringUsers counts the goroutines
	// reading the ring, which Close waits for before the kernel unmaps it.
	reapMu    sync.RWMutex
	ringUsers atomic.Int32

	// inflight counts requests submitted and not yet reaped; efd is the
	// eventfd that Submit attaches to requests once Eventfd has been called;
	// unsignalled says that requests submitted before that may still be in
	// flight, which Wait then polls for.
	inflight    atomic.Int64
	efd         atomic.Pointer[Eventfd]
	efdMu       sync.Mutex
	unsignalled atomic.Bool

	lastYield atomic.Int64 // see maybeYield
}

// NewIoContext creates an AIO context with room for at least nrEvents
// requests in flight (io_setup(2)). The kernel rounds nrEvents up, to at
// least 4 per possible CPU and to whole pages of ring.
//
// It fails with EINVAL when nrEvents is 0 or absurdly large, and with EAGAIN
// when the contexts of the whole machine would pass /proc/sys/fs/aio-max-nr
// (see MaxRequests); the error then says so, and still satisfies
// errors.Is(err, unix.EAGAIN).
//
// A context holds kernel memory until Close; it is meant to live long, as
// Close takes tens of milliseconds. A child process made by fork cannot use
// its parent's contexts.
func NewIoContext(nrEvents uint32) (*IoContext, error) {
	// aio_context_t is an unsigned long, the size of a pointer on Linux:
	// letting the kernel write it into a pointer gives the ring's address
	// without converting an integer to a pointer.
	var ring unsafe.Pointer
	setupMu.Lock()
	_, _, e := unix.Syscall(unix.SYS_IO_SETUP, uintptr(nrEvents), uintptr(unsafe.Pointer(&ring)), 0)
	setupMu.Unlock()
	switch e {
	case 0:
		return &IoContext{id: uintptr(ring), ring: ring}, nil
	case unix.EAGAIN:
		return nil, fmt.Errorf("aio: io_setup(%d): %w: the AIO contexts of this machine would "+
			"pass fs.aio-max-nr (%s); raise it with sysctl -w fs.aio-max-nr=N",
			nrEvents, e, readSysctl("/proc/sys/fs/aio-max-nr"))
	}
	return nil, e
}

// readSysctl returns the value of a /proc/sys file, trimmed, or "?".
func readSysctl(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// escapeNever is never set: escape's store exists only for escape analysis.
var (
	escapeNever bool
	//lint:ignore U1000 only ever stored to, so that escape analysis sees p escape
	escapeSink unsafe.Pointer
)

// escape makes the compiler allocate on the heap whatever p points to, and
// everything reachable from it, at no cost at run time.
func escape(p unsafe.Pointer) {
	if escapeNever {
		escapeSink = p
	}
}

// enter counts a caller in, or reports that the context is closed.
func (c *IoContext) enter() bool {
	if c == nil {
		return false
	}
	if c.state.Add(1)&closedBit != 0 {
		c.state.Add(-1)
		return false
	}
	return true
}

// leave counts a caller out.
func (c *IoContext) leave() { c.state.Add(-1) }

// Submit queues requests (io_submit(2)) and returns how many the kernel
// accepted, which may be fewer than len(iocbs).
//
// The kernel takes the requests in order and stops at the first it cannot
// take. When that is the first one, Submit returns 0 and the kernel's error:
// EBADF for a bad descriptor or one not open for that direction, EINVAL for
// an unknown opcode, IOCB_CMD_NOOP, a non-zero Reserved2 or a negative
// Offset, EOPNOTSUPP for an unknown RWF flag, EAGAIN when the ring has no
// room, EFAULT for a bad address. When it is a later one, Submit returns the
// number accepted before it and a nil error: the requests from iocbs[n] on
// were not submitted, and the caller should submit them again (after reaping,
// if the ring was full) or look at iocbs[n] for what is wrong with it. Every
// request accepted gets exactly one IoEvent.
//
// Errors of the I/O itself come back in IoEvent.Res, not from Submit. Files
// that the kernel cannot drive asynchronously (see the package
// documentation) do the I/O during Submit, which then may block.
//
// The blocks may be reused once Submit returns; the memory they point to
// may not, until their completions are reaped: see "Memory handed to the
// kernel" in the package documentation. Once Eventfd has been called,
// Submit marks every block that has no eventfd of its own with
// IOCB_FLAG_RESFD and the context's eventfd.
//
// The kernel identifies a request by its block's address (IoEvent.Obj,
// Cancel), so Submit makes the compiler put the blocks it is given on the
// heap, where they do not move, rather than on a goroutine stack, which
// moves as it grows. Submit does not allocate.
//
// The kernel completes a request after it is submitted, and the package
// tells the race detector so: what a goroutine wrote before a Submit, to the
// blocks or to the buffers, happens before the return of every GetEvents,
// PGetEvents or Wait that reaps a completion from the context after that
// Submit, and before Close returns. A program that submits a block on one
// goroutine and reaps and reuses it on another runs clean under -race.
func (c *IoContext) Submit(iocbs []*IoControlBlock) (int, error) {
	if !c.enter() {
		return 0, ErrClosed
	}
	defer c.leave()
	if len(iocbs) == 0 {
		return 0, nil // what the kernel answers, without asking it
	}
	p := unsafe.Pointer(&iocbs[0])
	escape(p)
	// Count the requests in flight before the eventfd is looked at, so that
	// Eventfd, which looks the other way round, sees them if they miss it.
	c.inflight.Add(int64(len(iocbs)))
	if efd := c.efd.Load(); efd != nil {
		for _, cb := range iocbs {
			if cb != nil && cb.Flags&IOCB_FLAG_RESFD == 0 {
				cb.Flags |= IOCB_FLAG_RESFD
				cb.Resfd = uint32(efd.fd)
			}
		}
	}
	raceReleaseSubmit(c)
	n, _, e := unix.Syscall(unix.SYS_IO_SUBMIT, c.id, uintptr(len(iocbs)), uintptr(p))
	if e != 0 {
		c.inflight.Add(-int64(len(iocbs)))
		return 0, e
	}
	c.inflight.Add(int64(n) - int64(len(iocbs)))
	return int(n), nil
}

// Cancel asks the kernel to cancel a request still in flight (io_cancel(2)).
// iocb must be the address that was submitted.
//
// Only IOCB_CMD_POLL requests and I/O on USB gadget files can be cancelled.
// For everything else, and for a request that has already completed, the
// kernel says EINVAL: regular file and block device I/O runs to its end.
// When Cancel returns nil the request is being cancelled, and its completion
// still arrives through GetEvents like any other (the kernel answers
// EINPROGRESS, which Cancel reports as nil). Current kernels deliver every
// completion through the ring and never write result, which the system call
// keeps for compatibility; Cancel passes it on.
func (c *IoContext) Cancel(iocb *IoControlBlock, result *IoEvent) error {
	if !c.enter() {
		return ErrClosed
	}
	defer c.leave()
	_, _, e := unix.Syscall(unix.SYS_IO_CANCEL, c.id, uintptr(unsafe.Pointer(iocb)), uintptr(unsafe.Pointer(result)))
	if e != 0 && e != unix.EINPROGRESS {
		return e
	}
	return nil
}

// GetEvents reaps completions: it waits until at least minNr have arrived or
// the timeout has passed, and stores up to len(events) of them in events. It
// returns how many it stored, which is fewer than minNr only when the timeout
// passed.
//
// It takes completions straight from the ring that the kernel maps into the
// process, without a system call, whenever that is enough to return: minNr
// completions already there, or a zero timeout. Otherwise it asks the kernel
// (io_getevents(2)). Any number of goroutines may call it at once; each
// completion goes to exactly one of them.
//
// A nil timeout waits for ever; a zero one takes what is there and returns at
// once. The kernel fails with EINVAL when minNr is negative or more than
// len(events). Signals interrupt the wait (the Go runtime sends them to its
// threads all the time, whatever SA_RESTART says): GetEvents waits again for
// what is left of the timeout, so the caller sees neither EINTR nor a longer
// wait.
//
// A waiting GetEvents blocks its OS thread. When the context is closed
// meanwhile, it returns the events it had gathered, or ErrClosed if none.
// GetEvents does not allocate.
func (c *IoContext) GetEvents(minNr int, events []IoEvent, timeout *unix.Timespec) (int, error) {
	if !c.enter() {
		return 0, ErrClosed
	}
	defer c.leave()
	return c.getEvents(minNr, events, timeout, nil)
}

// getEvents is GetEvents and PGetEvents: the ring first, then the kernel.
func (c *IoContext) getEvents(minNr int, events []IoEvent, timeout *unix.Timespec, sigset *aioSigset) (int, error) {
	if minNr < 0 || minNr > len(events) {
		return 0, unix.EINVAL // the kernel's answer, without asking it
	}
	n, looked := c.reapRing(events)
	poll := timeout != nil && timeout.Sec == 0 && timeout.Nsec == 0
	if looked && (n >= minNr || poll) {
		if n > 0 {
			raceAcquireReaped(c)
		}
		c.inflight.Add(-int64(n))
		return n, nil
	}
	k, err := c.waitKernel(minNr-n, events[n:], timeout, sigset)
	n += k
	c.inflight.Add(-int64(n))
	if n > 0 {
		raceAcquireReaped(c)
		return n, nil // events reaped are never dropped for an error
	}
	return 0, err
}

// waitKernel reaps with io_getevents (or io_pgetevents when sigset is not
// nil), retrying EINTR with what is left of the timeout.
func (c *IoContext) waitKernel(minNr int, events []IoEvent, timeout *unix.Timespec, sigset *aioSigset) (int, error) {
	if minNr > 0 && (timeout == nil || timeout.Sec != 0 || timeout.Nsec != 0) {
		c.maybeYield()
	}
	c.reapMu.RLock()
	defer c.reapMu.RUnlock()
	var p unsafe.Pointer
	if len(events) > 0 {
		p = unsafe.Pointer(&events[0])
	}
	var deadline time.Time
	if timeout != nil && timeout.Sec >= 0 && timeout.Nsec >= 0 && (timeout.Sec > 0 || timeout.Nsec > 0) {
		// A timeout of decades simply starts again after a signal; a
		// negative one has already expired, as the kernel sees it.
		if timeout.Sec < maxDeadlineSec {
			deadline = time.Now().Add(time.Duration(timeout.Nano()))
		}
	}
	var rest unix.Timespec
	ts := timeout
	for {
		var n int
		var e unix.Errno
		if sigset == nil {
			r, _, errno := unix.Syscall6(unix.SYS_IO_GETEVENTS, c.id, uintptr(minNr), uintptr(len(events)),
				uintptr(p), uintptr(unsafe.Pointer(ts)), 0)
			n, e = int(r), errno
		} else {
			n, e = pgetevents(c.id, minNr, len(events), p, ts, sigset)
		}
		switch e {
		case 0:
			return n, nil
		case unix.EINTR:
			// The kernel returns EINTR only when it stored no event.
			if !deadline.IsZero() {
				left := time.Until(deadline)
				if left < 0 {
					left = 0 // one last look, without waiting
				}
				rest = unix.NsecToTimespec(int64(left))
				ts = &rest
			}
			continue
		case unix.EINVAL:
			if c.state.Load()&closedBit != 0 {
				return 0, ErrClosed // Close destroyed the context under us
			}
		}
		return 0, e
	}
}

// yieldInterval is how often a GetEvents about to wait lets the scheduler
// run. A goroutine that loops on Submit and GetEvents never goes through
// the scheduler, so after 10ms (forcePreemptNS) Go's sysmon preempts it,
// and, finding it in a system call, hands its P to another thread: two
// thread wake-ups, every time, that cost a third more CPU per I/O at queue
// depth 1. A Gosched before a system call that blocks anyway avoids them;
// every 8ms, rather than more often, because each Gosched wakes a thread
// too (2ms gave 1,000 futex calls a second, 8ms 260).
const yieldInterval = 8 * time.Millisecond

// epoch is the origin of IoContext.lastYield.
var epoch = time.Now()

func (c *IoContext) maybeYield() {
	now := int64(time.Since(epoch))
	if last := c.lastYield.Load(); now-last >= int64(yieldInterval) && c.lastYield.CompareAndSwap(last, now) {
		runtime.Gosched()
	}
}

// Close destroys the context (io_destroy(2)). The kernel first waits for
// every request still in flight to complete, so Close may take a while (tens
// of milliseconds even for an idle context); the completions are dropped.
// Memory handed to the kernel is no longer used once Close returns.
//
// Close wakes GetEvents and Wait calls waiting on other goroutines, which
// return ErrClosed, closes the context's eventfd if it has one, and returns
// once every method running on the context has returned. Afterwards every
// method returns ErrClosed, except Close, which does nothing and returns
// nil: Close is idempotent.
func (c *IoContext) Close() error {
	if c == nil {
		return ErrClosed
	}
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.state.Load()&closedBit != 0 {
		return nil
	}
	setupMu.RLock()
	defer setupMu.RUnlock()
	c.state.Add(closedBit)
	// io_destroy unmaps the ring: first let whoever reads it finish.
	for c.ringUsers.Load() != 0 {
		time.Sleep(time.Microsecond)
	}
	_, _, e := unix.Syscall(unix.SYS_IO_DESTROY, c.id, 0, 0)
	// The callers still inside leave soon: the kernel has woken the waiters,
	// and any call that had not yet reached the kernel finds no context.
	for pause := time.Microsecond; c.state.Load() != closedBit; {
		time.Sleep(pause)
		if pause < time.Millisecond {
			pause *= 2
		}
	}
	if efd := c.efd.Load(); efd != nil {
		efd.Close() // wakes goroutines parked in Wait
	}
	// The kernel is done with every request: what was submitted happens
	// before Close returns.
	raceAcquireReaped(c)
	if e != 0 {
		return e
	}
	return nil
}
