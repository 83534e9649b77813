// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kernelio/aio"
	"golang.org/x/sys/unix"
)

// result is what an engine measured.
type result struct {
	ios     int64
	elapsed time.Duration
	hist    histogram

	// System calls, where the engine knows them: io_submit calls, and
	// io_getevents calls that could enter the kernel.
	submits, getevents int64
	// The Queue's: non-blocking reaps of the completion ring, and times its
	// submitter parked on the eventfd (queueStats says these are set).
	ringReaps, eventfdWaits int64
	queueStats              bool
	// Sync calls and the flushes they issued (--fsync).
	syncs, flushes int64
}

// offsets chooses where each I/O goes and whether it reads or writes.
type offsets struct {
	rng    *rand.Rand
	blocks int64
	bs     int64
	seq    int64
	random bool
	mixed  bool // randrw: half reads, half writes
	write  bool // every I/O writes
}

func newOffsets(cfg *config, size int64, seed uint64) *offsets {
	blocks := size / int64(cfg.BS)
	return &offsets{
		rng:    rand.New(rand.NewPCG(seed, 0x5eed)),
		blocks: blocks,
		bs:     int64(cfg.BS),
		seq:    int64(seed) % blocks * int64(cfg.BS),
		random: cfg.random(),
		mixed:  cfg.RW == "randrw",
		write:  cfg.RW == "write" || cfg.RW == "randwrite",
	}
}

// next returns the offset of the next I/O and whether it writes.
func (o *offsets) next() (off int64, write bool) {
	if o.random {
		off = o.rng.Int64N(o.blocks) * o.bs
	} else {
		off = o.seq
		if o.seq += o.bs; o.seq >= o.blocks*o.bs {
			o.seq = 0
		}
	}
	if o.mixed {
		return off, o.rng.Uint64()&1 == 1
	}
	return off, o.write
}

// ioError describes a failed or short I/O.
func ioError(write bool, off, res int64, bs int) error {
	op := "read"
	if write {
		op = "write"
	}
	if res < 0 {
		return fmt.Errorf("%s at offset %d: %w", op, off, unix.Errno(-res))
	}
	return fmt.Errorf("%s at offset %d: %d bytes of %d", op, off, res, bs)
}

// runAIO drives the file through one IoContext from one goroutine: iodepth
// requests in flight; completions reaped, from the ring when they are there
// (io_getevents only to wait), at most cfg.CompleteMax at a time; each one
// refilled and resubmitted at once, in io_submit calls of at most cfg.Batch.
// Reaping one at a time, as fio does by default, keeps the device's queue
// full: on the virtio disk this was measured on, reaping 32 at a time and
// resubmitting them together gave 20% fewer IOPS.
func runAIO(ctx context.Context, cfg *config, fd int, size int64, progress *atomic.Int64) (*result, error) {
	depth, bs := cfg.IODepth, cfg.BS
	ioctx, err := aio.NewIoContext(uint32(depth))
	if err != nil {
		return nil, err
	}
	defer ioctx.Close()
	mem, err := aio.AllocBuffer(depth * bs)
	if err != nil {
		return nil, err
	}
	defer aio.FreeBuffer(mem)

	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()

	gen := newOffsets(cfg, size, 1)
	cbs := make([]*aio.IoControlBlock, depth)
	bufs := make([][]byte, depth)
	submitAt := make([]int64, depth)
	for i := range cbs {
		cbs[i] = new(aio.IoControlBlock)
		bufs[i] = mem[i*bs : (i+1)*bs : (i+1)*bs]
	}
	prep := func(i int, now int64) {
		off, write := gen.next()
		if write {
			if cfg.Verify {
				fillPattern(bufs[i], off)
			}
			cbs[i].PrepPwrite(fd, bufs[i], off)
		} else {
			cbs[i].PrepPread(fd, bufs[i], off)
		}
		cbs[i].Data = uint64(i)
		submitAt[i] = now
	}
	pending := make([]*aio.IoControlBlock, 0, depth)
	events := make([]aio.IoEvent, depth)
	inflight := 0
	res := &result{}
	submit := func() error {
		for k := 0; k < len(pending); {
			res.submits++
			n, err := ioctx.Submit(pending[k:min(len(pending), k+cfg.Batch)])
			if err != nil {
				return fmt.Errorf("io_submit: %w", err)
			}
			k += n
			inflight += n
		}
		pending = pending[:0]
		return nil
	}

	var zero unix.Timespec
	start := time.Now()
	for i := range cbs {
		prep(i, 0)
		pending = append(pending, cbs[i])
	}
	if err := submit(); err != nil {
		return nil, err
	}
	end := int64(cfg.Runtime)
	for inflight > 0 {
		// From the ring when completions are there, else from the kernel.
		// GetEvents(1) does both; the look at the ring first tells the
		// calls that may enter the kernel (a completion can still land
		// between the two) from those that do not, for io_getevents_calls.
		n, err := ioctx.GetEvents(0, events[:cfg.CompleteMax], &zero)
		if err == nil && n == 0 {
			res.getevents++
			n, err = ioctx.GetEvents(1, events[:cfg.CompleteMax], nil)
		}
		if err != nil {
			return nil, fmt.Errorf("io_getevents: %w", err)
		}
		now := int64(time.Since(start))
		stopping := now >= end || stop.Load()
		for _, ev := range events[:n] {
			i := int(ev.Data)
			if ev.Res != int64(bs) {
				cb := cbs[i]
				return nil, ioError(cb.LioOpcode == aio.IOCB_CMD_PWRITE, cb.Offset, ev.Res, bs)
			}
			res.hist.add(now - submitAt[i])
			inflight--
			if !stopping {
				prep(i, now)
				pending = append(pending, cbs[i])
			}
		}
		res.ios += int64(n)
		progress.Store(res.ios)
		if err := submit(); err != nil {
			return nil, err
		}
	}
	res.elapsed = time.Since(start)
	return res, ctx.Err()
}

// runPread is what Go programs do today: iodepth goroutines, each doing
// pread (or pwrite) in a loop, each blocking an OS thread.
func runPread(ctx context.Context, cfg *config, fd int, size int64, progress *atomic.Int64) (*result, error) {
	return runGoroutines(ctx, cfg, size, progress, func(_ int, buf []byte, off int64, write bool) error {
		var n int
		var err error
		if write {
			n, err = unix.Pwrite(fd, buf, off)
		} else {
			n, err = unix.Pread(fd, buf, off)
		}
		if err != nil || n != len(buf) {
			res := int64(n)
			if errno, ok := err.(unix.Errno); ok {
				res = -int64(errno)
			}
			return ioError(write, off, res, len(buf))
		}
		return nil
	})
}

// runGoroutines is the loop of the engines that run iodepth goroutines:
// each has its own bs bytes of one AllocBuffer mapping (never a goroutine
// stack, which may move while the goroutine waits and the kernel writes)
// and its own offsets, and calls do for one I/O after another, the buffer
// filled with the pattern first for a write under --verify, until the
// runtime is over, ctx is done or do fails.
func runGoroutines(ctx context.Context, cfg *config, size int64, progress *atomic.Int64,
	do func(g int, buf []byte, off int64, write bool) error) (*result, error) {
	depth, bs := cfg.IODepth, cfg.BS
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
		wg.Go(func() {
			buf := mem[g*bs : (g+1)*bs : (g+1)*bs]
			gen := newOffsets(cfg, size, uint64(g+1))
			h := &hists[g]
			last := time.Since(start)
			for last < end && !stop.Load() {
				off, write := gen.next()
				if write && cfg.Verify {
					fillPattern(buf, off)
				}
				if err := do(g, buf, off, write); err != nil {
					errs[g] = err
					stop.Store(true)
					return
				}
				now := time.Since(start)
				h.add(int64(now - last))
				last = now
				if counts[g]++; counts[g]%16 == 0 {
					progress.Add(16)
				}
			}
		})
	}
	wg.Wait()
	res := &result{elapsed: time.Since(start)}
	for g := range hists {
		if errs[g] != nil {
			return nil, errs[g]
		}
		res.hist.merge(&hists[g])
		res.ios += counts[g]
	}
	return res, ctx.Err()
}

// setQueueStats reports what a Queue counted.
func (r *result) setQueueStats(st aio.QueueStats) {
	r.submits = int64(st.Submits)
	r.ringReaps = int64(st.Reaps)
	r.eventfdWaits = int64(st.Parks)
	r.queueStats = true
}

// verifyFile reads every block of the file back through AIO and checks the
// pattern that writes under --verify leave.
func verifyFile(cfg *config, fd int, size int64) (blocks int64, err error) {
	const depth = 32
	bs := cfg.BS
	ioctx, err := aio.NewIoContext(depth)
	if err != nil {
		return 0, err
	}
	defer ioctx.Close()
	mem, err := aio.AllocBuffer(depth * bs)
	if err != nil {
		return 0, err
	}
	defer aio.FreeBuffer(mem)
	cbs := make([]*aio.IoControlBlock, depth)
	for i := range cbs {
		cbs[i] = new(aio.IoControlBlock)
	}
	events := make([]aio.IoEvent, depth)
	for off := int64(0); off < size; off += depth * int64(bs) {
		k := 0
		for ; k < depth && off+int64(k*bs) < size; k++ {
			cbs[k].PrepPread(fd, mem[k*bs:(k+1)*bs], off+int64(k*bs))
			cbs[k].Data = uint64(k)
		}
		for done := 0; done < k; {
			n, err := ioctx.Submit(cbs[done:k])
			if err != nil {
				return blocks, err
			}
			done += n
		}
		for got := 0; got < k; {
			n, err := ioctx.GetEvents(k-got, events[got:k], nil)
			if err != nil {
				return blocks, err
			}
			got += n
		}
		for _, ev := range events[:k] {
			cb := cbs[ev.Data]
			if ev.Res != int64(bs) {
				return blocks, ioError(false, cb.Offset, ev.Res, bs)
			}
			if bad := checkPattern(mem[int(ev.Data)*bs:(int(ev.Data)+1)*bs], cb.Offset); bad >= 0 {
				return blocks, fmt.Errorf("verify: the block at offset %d differs from its pattern at offset %d", cb.Offset, bad)
			}
			blocks++
		}
	}
	return blocks, nil
}
