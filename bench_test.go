// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"context"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// benchReads returns a context and n prepared 512-byte reads of /dev/zero.
func benchReads(b *testing.B, n int) (*IoContext, []*IoControlBlock, []IoEvent) {
	c := newContext(b, uint32(n))
	fd := openFile(b, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 512)
	cbs := make([]*IoControlBlock, n)
	for i := range cbs {
		cbs[i] = new(IoControlBlock)
		cbs[i].PrepPread(fd, buf, 0)
	}
	b.Cleanup(func() { runtime.KeepAlive(buf) })
	return c, cbs, make([]IoEvent, n)
}

// BenchmarkSubmitGetEvents is one request's round trip: io_submit of a read
// of /dev/zero, then its completion, taken from the ring.
func BenchmarkSubmitGetEvents(b *testing.B) {
	c, cbs, events := benchReads(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		if n, err := c.Submit(cbs); n != 1 || err != nil {
			b.Fatal(n, err)
		}
		if n, err := c.GetEvents(1, events, nil); n != 1 || err != nil {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkSubmitBatch32 submits 32 reads in one io_submit and reaps them.
func BenchmarkSubmitBatch32(b *testing.B) {
	c, cbs, events := benchReads(b, 32)
	b.ReportAllocs()
	for b.Loop() {
		if n, err := c.Submit(cbs); n != 32 || err != nil {
			b.Fatal(n, err)
		}
		if n, err := c.GetEvents(32, events, nil); n != 32 || err != nil {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.N*32)/b.Elapsed().Seconds(), "reads/s")
}

// BenchmarkGetEventsEmptyRing is a non-blocking GetEvents with nothing to
// reap: a look at the ring, no system call.
func BenchmarkGetEventsEmptyRing(b *testing.B) {
	c, _, events := benchReads(b, 1)
	zero := unix.Timespec{}
	b.ReportAllocs()
	for b.Loop() {
		if n, err := c.GetEvents(0, events, &zero); n != 0 || err != nil {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkRawGetEventsEmptyRing is the same through the io_getevents system
// call, for comparison.
func BenchmarkRawGetEventsEmptyRing(b *testing.B) {
	c, _, events := benchReads(b, 1)
	zero := unix.Timespec{}
	b.ReportAllocs()
	for b.Loop() {
		if n, e := rawGetEvents(c, 0, events, &zero); n != 0 || e != 0 {
			b.Fatal(n, e)
		}
	}
}

// BenchmarkQueueDo is one request through a Queue from parallel goroutines:
// a 512-byte read of /dev/zero, which the kernel does inside io_submit, so
// that the Queue's own cost shows.
func BenchmarkQueueDo(b *testing.B) {
	q := newQueue(b, 128)
	fd := openFile(b, "/dev/zero", unix.O_RDONLY)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		buf := heapBytes(512)
		var cb IoControlBlock
		cb.PrepPread(fd, buf, 0)
		for pb.Next() {
			if ev, err := q.Do(context.Background(), &cb); err != nil || ev.Res != 512 {
				b.Fatal(ev, err)
			}
		}
		runtime.KeepAlive(buf)
	})
	st := q.Stats()
	b.ReportMetric(float64(st.Requests)/float64(st.Submits), "reqs/io_submit")
}
