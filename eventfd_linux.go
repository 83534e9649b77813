// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Eventfd is a non-blocking eventfd(2) registered with Go's runtime poller:
// a goroutine waiting on it is parked, not holding an OS thread. The kernel
// adds 1 to it for each completed request marked with IOCB_FLAG_RESFD.
type Eventfd struct {
	f      *os.File
	fd     int
	closed atomic.Bool
}

// NewEventfd creates an eventfd with a count of 0.
func NewEventfd() (*Eventfd, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	// os.NewFile sees O_NONBLOCK and hands the descriptor to the poller.
	return &Eventfd{f: os.NewFile(uintptr(fd), "eventfd"), fd: fd}, nil
}

// Fd returns the descriptor, for IoControlBlock.SetEventfd or an epoll set
// of the caller's. It stays valid until Close.
func (e *Eventfd) Fd() int { return e.fd }

// longAgo is a read deadline that has passed: setting it wakes a reader.
var longAgo = time.Unix(1, 0)

// Wait parks the goroutine until the count is non-zero, then returns it and
// resets it to 0. It returns ctx.Err() when ctx is done first, and an error
// satisfying errors.Is(err, os.ErrClosed) when the eventfd is closed.
func (e *Eventfd) Wait(ctx context.Context) (uint64, error) {
	var buf [8]byte
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		deadline, _ := ctx.Deadline()
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return 0, context.DeadlineExceeded
		}
		if err := e.f.SetReadDeadline(deadline); err != nil {
			if e.closed.Load() {
				return 0, os.ErrClosed
			}
			return 0, err
		}
		stop := func() bool { return false }
		if ctx.Done() != nil {
			stop = context.AfterFunc(ctx, func() { e.f.SetReadDeadline(longAgo) })
		}
		n, err := e.f.Read(buf[:])
		stop()
		if err == nil && n == len(buf) {
			return binary.NativeEndian.Uint64(buf[:]), nil
		}
		if e.closed.Load() {
			// A file closed under us says "use of closed file", which is
			// not os.ErrClosed.
			return 0, os.ErrClosed
		}
		// A deadline may also be a late AfterFunc of an earlier call: the
		// loop tells them apart by asking ctx again.
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err
		}
	}
}

// Signal adds n to the count, waking a waiter.
func (e *Eventfd) Signal(n uint64) error {
	var buf [8]byte
	binary.NativeEndian.PutUint64(buf[:], n)
	_, err := e.f.Write(buf[:])
	return err
}

// Close closes the eventfd, waking goroutines in Wait.
func (e *Eventfd) Close() error {
	e.closed.Store(true)
	return e.f.Close()
}
