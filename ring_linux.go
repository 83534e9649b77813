// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"sync/atomic"
	"unsafe"
)

// ringHeader is the header of the completion ring that io_setup maps into
// the process (struct aio_ring of fs/aio.c; it is not in the UAPI headers).
// Eight 32-bit words on every architecture, followed by nr IoEvents.
type ringHeader struct {
	id               uint32
	nr               uint32 // number of io_events
	head             uint32 // next event to reap, written by the reaper
	tail             uint32 // next event to fill, written by the kernel
	magic            uint32
	compatFeatures   uint32
	incompatFeatures uint32
	headerLength     uint32
}

const (
	ringMagic            = 0xa10a10a1
	ringIncompatFeatures = 0 // AIO_RING_INCOMPAT_FEATURES: what we understand
)

// reapRing moves up to len(events) completions from the ring to events
// without entering the kernel, as fio's userspace_reap does. looked is false
// when it could not read the ring: another goroutine is reaping, or the
// header is not one it knows. The kernel writes an event, then (after a write
// barrier) the tail; so tail is loaded first, with acquire ordering, and head
// is stored last, with release ordering, once the events are copied.
func (c *IoContext) reapRing(events []IoEvent) (n int, looked bool) {
	if len(events) == 0 || c.ring == nil {
		return 0, false
	}
	c.ringUsers.Add(1)
	defer c.ringUsers.Add(-1)
	if c.state.Load()&closedBit != 0 || !c.reapMu.TryLock() {
		return 0, false
	}
	defer c.reapMu.Unlock()
	r := (*ringHeader)(c.ring)
	if atomic.LoadUint32(&r.magic) != ringMagic || atomic.LoadUint32(&r.incompatFeatures) != ringIncompatFeatures {
		return 0, false
	}
	nr := atomic.LoadUint32(&r.nr)
	tail := atomic.LoadUint32(&r.tail)
	head := atomic.LoadUint32(&r.head)
	if head >= nr || tail >= nr {
		return 0, false
	}
	if head == tail {
		return 0, true
	}
	ring := unsafe.Slice((*IoEvent)(unsafe.Add(c.ring, unsafe.Sizeof(ringHeader{}))), nr)
	for head != tail && n < len(events) {
		events[n] = ring[head]
		n++
		if head++; head == nr {
			head = 0
		}
	}
	atomic.StoreUint32(&r.head, head)
	return n, true
}

// ringPending reports whether completions are waiting in the ring.
func (c *IoContext) ringPending() bool {
	if c.ring == nil {
		return false
	}
	c.ringUsers.Add(1)
	defer c.ringUsers.Add(-1)
	if c.state.Load()&closedBit != 0 {
		return false
	}
	r := (*ringHeader)(c.ring)
	return atomic.LoadUint32(&r.magic) == ringMagic && atomic.LoadUint32(&r.head) != atomic.LoadUint32(&r.tail)
}
