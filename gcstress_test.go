// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"errors"
	"math/rand"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGCStress reads thousands of O_DIRECT blocks, truly asynchronously,
// into Go memory pinned by Request and into AllocBuffer memory, while the
// collector runs all the time (GOGC=1 and runtime.GC in a loop) and other
// goroutines grow and shrink their stacks. Every block read must hold its
// own pattern, and nothing may crash. Run it with -race too.
func TestGCStress(t *testing.T) {
	const block, blocks = 4096, 256
	reads := 4000
	if testing.Short() {
		reads = 500
	}
	name, _ := tempFile(t, 0, unix.O_RDONLY)
	fd, err := OpenDirect(name, unix.O_RDWR, 0)
	if errors.Is(err, ErrNoDirectIO) {
		t.Skipf("no O_DIRECT here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	mem, off, err := DirectIOAlignment(fd)
	if err != nil || mem > block || off > block {
		t.Skipf("O_DIRECT alignment %d/%d, %v", mem, off, err)
	}
	const seed = 7
	wbuf, err := AllocBuffer(block * blocks)
	if err != nil {
		t.Fatal(err)
	}
	defer FreeBuffer(wbuf)
	for i := 0; i < blocks; i++ {
		blockPattern(wbuf[i*block:(i+1)*block], seed, uint64(i))
	}
	if n, err := unix.Pwrite(fd, wbuf, 0); n != len(wbuf) || err != nil {
		t.Fatalf("pwrite = %d, %v", n, err)
	}

	defer debug.SetGCPercent(debug.SetGCPercent(1))
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(3)
	go func() { // the collector, all the time
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	for g := 0; g < 2; g++ { // stacks that grow and shrink, and garbage
		go func() {
			defer bg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					growStack(64 + i%64)
					_ = make([]byte, 1<<(10+i%8))
				}
			}
		}()
	}
	defer func() { close(stop); bg.Wait() }()

	c := newContext(t, 64)
	const depth = 32
	type slot struct {
		req  Request
		buf  []byte // Go memory (pinned by req) or AllocBuffer memory
		blk  uint64
		busy bool
	}
	slots := make([]*slot, depth)
	for i := range slots {
		s := &slot{}
		if i%2 == 0 {
			s.buf = alignedGo(block, block)
		} else if mem, err := AllocBuffer(block); err != nil {
			t.Fatal(err)
		} else {
			defer FreeBuffer(mem)
			s.buf = mem[:block] // a whole page: 64 KiB on ppc64le
		}
		slots[i] = s
		// Even when the test fails: the runtime panics over a Pinner that is
		// collected with pins.
		defer s.req.Release()
	}
	rnd := rand.New(rand.NewSource(1))
	events := make([]IoEvent, depth)
	want := make([]byte, block)
	submitted, done, inflight := 0, 0, 0
	for done < reads {
		var cbs []*IoControlBlock
		for i, s := range slots {
			if s.busy || submitted+len(cbs) >= reads {
				continue
			}
			s.blk = uint64(rnd.Intn(blocks))
			clear(s.buf)
			if i%2 == 0 {
				// Go heap memory: the Request pins it until Release.
				s.req.PrepPread(fd, s.buf, int64(s.blk)*block)
			} else {
				s.req.IoControlBlock.PrepPread(fd, s.buf, int64(s.blk)*block)
			}
			s.req.Data = uint64(i)
			s.busy = true
			cbs = append(cbs, &s.req.IoControlBlock)
		}
		for len(cbs) > 0 {
			n, err := c.Submit(cbs)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			submitted += n
			inflight += n
			cbs = cbs[n:]
		}
		n, err := c.GetEvents(1, events, nil)
		if err != nil {
			t.Fatalf("GetEvents: %v", err)
		}
		for _, ev := range events[:n] {
			s := slots[ev.Data]
			if ev.Res != block {
				t.Fatalf("read of block %d: Res %d", s.blk, ev.Res)
			}
			blockPattern(want, seed, s.blk)
			if string(s.buf) != string(want) {
				t.Fatalf("block %d read into slot %d does not hold its pattern", s.blk, ev.Data)
			}
			s.req.Release()
			s.busy = false
		}
		done += n
		inflight -= n
	}
	if inflight != 0 {
		t.Errorf("%d reads still in flight", inflight)
	}
	t.Logf("%d O_DIRECT reads verified under GC stress", done)
}
