// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

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
	depth, bs := cfg.IODepth, cfg.BS
	q, err := aio.NewQueue(depth)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	mem, err := aio.AllocBuffer(depth * bs)
	if err != nil {
		return nil, err
	}
	defer aio.FreeBuffer(mem)
	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()

	hists := make([]histogram, depth)
	counts := make([]int64, depth)
	errs := make([]error, depth)
	start := time.Now()
	end := cfg.Runtime
	var wg sync.WaitGroup
	for g := 0; g < depth; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := mem[g*bs : (g+1)*bs : (g+1)*bs]
			gen := newOffsets(cfg, size, uint64(g+1))
			h := &hists[g]
			var cb aio.IoControlBlock
			last := time.Since(start)
			for last < end && !stop.Load() {
				off, write := gen.next()
				if write {
					if cfg.Verify {
						fillPattern(buf, off)
					}
					cb.PrepPwrite(fd, buf, off)
				} else {
					cb.PrepPread(fd, buf, off)
				}
				// Not ctx: Ctrl-C sets stop, and Do would wait for a
				// request in the kernel anyway.
				ev, err := q.Do(context.Background(), &cb)
				now := time.Since(start)
				if err != nil || ev.Res != int64(bs) {
					errs[g] = ioError(write, off, ev.Res, bs)
					if ev.Res >= 0 && err != nil {
						errs[g] = fmt.Errorf("%w: %w", errs[g], err)
					}
					stop.Store(true)
					return
				}
				h.add(int64(now - last))
				last = now
				if counts[g]++; counts[g]%16 == 0 {
					progress.Add(16)
				}
			}
		}()
	}
	wg.Wait()
	res := &result{elapsed: time.Since(start)}
	st := q.Stats()
	res.submits = int64(st.Submits)
	res.ringReaps = int64(st.Reaps)
	res.eventfdWaits = int64(st.Parks)
	res.queueStats = true
	for g := range hists {
		if errs[g] != nil {
			return nil, errs[g]
		}
		res.hist.merge(&hists[g])
		res.ios += counts[g]
	}
	return res, ctx.Err()
}
