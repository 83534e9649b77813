// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// Eventfd returns the context's eventfd, creating it on the first call. From
// then on Submit marks every request that has no eventfd of its own with
// this one, so that its completion can wake Wait, or a poller of the
// caller's. The context owns it: Close closes it.
//
// Requests submitted before the first call do not signal it; Wait still
// sees them, by looking at the ring every millisecond until they are reaped.
func (c *IoContext) Eventfd() (*Eventfd, error) {
	if !c.enter() {
		return nil, ErrClosed
	}
	defer c.leave()
	if e := c.efd.Load(); e != nil {
		return e, nil
	}
	c.efdMu.Lock()
	defer c.efdMu.Unlock()
	if e := c.efd.Load(); e != nil {
		return e, nil
	}
	e, err := NewEventfd()
	if err != nil {
		return nil, err
	}
	c.efd.Store(e)
	// Submit counts its requests before it looks for the eventfd; here it is
	// the other way round, so a request that missed the eventfd is counted.
	if c.inflight.Load() > 0 {
		c.unsignalled.Store(true)
	}
	return e, nil
}

// unsignalledPoll is how often Wait looks at the ring while requests
// submitted before the eventfd existed may be in flight.
const unsignalledPoll = time.Millisecond

// Wait reaps completions like GetEvents, but parks the goroutine instead of
// blocking an OS thread: it returns once at least minNr completions are in
// events, when ctx is done (with ctx.Err()), or when the context is closed
// (with ErrClosed). The events it stored are counted in n even when err is
// not nil, and are not delivered again. With minNr 0 it does not wait.
//
// Wait waits on the context's eventfd (see Eventfd), which it creates if
// need be: a thousand goroutines can wait on a thousand contexts with a
// handful of threads. Requests marked with an eventfd of the caller's do not
// wake it.
func (c *IoContext) Wait(ctx context.Context, minNr int, events []IoEvent) (n int, err error) {
	if minNr < 0 || minNr > len(events) {
		return 0, unix.EINVAL
	}
	e, err := c.Eventfd()
	if err != nil {
		return 0, err
	}
	poll := unix.Timespec{}
	for {
		k, err := c.GetEvents(0, events[n:], &poll)
		n += k
		if err != nil {
			return n, err
		}
		if n >= minNr {
			// The count was reset by whoever read it: if completions are
			// left, pass the wake-up on to another waiter.
			if c.ringPending() {
				e.Signal(1)
			}
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		wctx := ctx
		var cancel context.CancelFunc
		if c.unsignalled.Load() {
			if c.inflight.Load() <= 0 {
				c.unsignalled.Store(false)
				continue
			}
			wctx, cancel = context.WithTimeout(ctx, unsignalledPoll)
		}
		_, err = e.Wait(wctx)
		if cancel != nil {
			cancel()
		}
		switch {
		case c.state.Load()&closedBit != 0:
			return n, ErrClosed
		case err == nil:
			continue
		case ctx.Err() != nil:
			// Whatever ended the wait, the caller's ctx is done: its error,
			// not the one of the polling interval, which may have run out
			// at the same moment.
			return n, ctx.Err()
		case cancel != nil && errors.Is(err, context.DeadlineExceeded):
			if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
				return n, context.DeadlineExceeded // ctx's timer is late
			}
			continue // the polling interval: look at the ring again
		default:
			return n, err
		}
	}
}
