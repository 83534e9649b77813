// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/kernelio/aio"
)

// runQueue is what a Go program does with an aio.Queue: iodepth goroutines,
// each doing one request at a time through one Queue of that depth, parked
// while they wait, in the same loop as runPread's.
//
// Each goroutine's buffer is its own part of an AllocBuffer mapping, never
// a goroutine stack: a goroutine parked in Do may have its stack moved
// while the kernel writes into the buffer. The IoControlBlock itself may
// live anywhere, since Do hands the kernel a copy the Queue owns.
func runQueue(ctx context.Context, cfg *config, fd int, size int64, progress *atomic.Int64) (*result, error) {
	q, err := aio.NewQueue(cfg.IODepth)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	cbs := make([]aio.IoControlBlock, cfg.IODepth)
	res, err := runGoroutines(ctx, cfg, size, progress, func(g int, buf []byte, off int64, write bool) error {
		cb := &cbs[g]
		if write {
			cb.PrepPwrite(fd, buf, off)
		} else {
			cb.PrepPread(fd, buf, off)
		}
		// Not ctx: Ctrl-C sets stop, and Do would wait for a request in
		// the kernel anyway.
		ev, err := q.Do(context.Background(), cb)
		if err != nil || ev.Res != int64(len(buf)) {
			e := ioError(write, off, ev.Res, len(buf))
			if ev.Res >= 0 && err != nil {
				e = fmt.Errorf("%w: %w", e, err)
			}
			return e
		}
		return nil
	})
	if res != nil {
		res.setQueueStats(q.Stats())
	}
	return res, err
}
