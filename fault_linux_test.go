// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// What internal/vmtest/testdata/blkdebug.conf does to the disk that
// AIO_FAULT_DEV names: reads of the 512-byte sector at badRead fail with
// EIO, and so do writes of the one at badWrite, every time; the first
// faultFlushes flushes that follow writes fail (QEMU skips a flush when
// nothing was written since the last one that succeeded).
const (
	badRead      = 2048 * 512
	badWrite     = 4096 * 512
	faultFlushes = 5
)

// faultDevice opens the disk that AIO_FAULT_DEV names, or skips the test.
func faultDevice(t *testing.T, env, serial string) string {
	t.Helper()
	dev := os.Getenv(env)
	if dev == "" {
		t.Skipf("%s is not set: it names a disk that internal/vmtest's VMs attach", env)
	}
	if b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "serial")); err == nil &&
		strings.TrimSpace(string(b)) != serial {
		t.Fatalf("%s is %s, whose serial is %q; want %q", env, dev, strings.TrimSpace(string(b)), serial)
	}
	return dev
}

// TestDeviceFaults runs on a disk under qemu's blkdebug: exactly the
// requests that touch a failing sector complete with EIO, through an
// IoContext and through a File, while every other request of the same
// batch completes with the right data; a failing flush fails every Sync
// that shared it and every Sync that was waiting when it failed; and the
// IoContext, the Queue and the File keep working. The subtests run in
// order: the flush failures are counted.
func TestDeviceFaults(t *testing.T) {
	dev := faultDevice(t, "AIO_FAULT_DEV", "aio-fault")
	fd, err := OpenDirect(dev, unix.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "queue/write_cache")); err == nil {
		t.Logf("%s: write cache %q", dev, strings.TrimSpace(string(b)))
	}
	c := newContext(t, 64)
	const size = 16 << 20
	model := make([]byte, size) // the disk starts zeroed
	pattern := func(p []byte, seed int) {
		for i := range p {
			p[i] = byte(seed*131 + i*7 + i/509)
		}
	}
	type req struct {
		off, n int
		write  bool
		fail   bool // expected to fail with EIO
	}
	// batch submits reqs in one io_submit and checks each completion.
	batch := func(what string, reqs []req) {
		t.Helper()
		cbs := make([]*IoControlBlock, len(reqs))
		bufs := make([][]byte, len(reqs))
		for i, r := range reqs {
			bufs[i] = alignedGo(r.n, 4096)
			if r.write {
				pattern(bufs[i], r.off+i)
				cbs[i] = writeCB(fd, bufs[i], int64(r.off), uint64(i))
			} else {
				cbs[i] = readCB(fd, bufs[i], int64(r.off), uint64(i))
			}
		}
		if !submitAll(t, c, cbs) {
			t.FailNow()
		}
		for _, ev := range reap(t, c, len(cbs)) {
			r := reqs[ev.Data]
			switch {
			case r.fail:
				if !errors.Is(ev.Err(), syscall.EIO) {
					t.Errorf("%s: %d bytes at %d touch a failing sector: Res %d; want -EIO", what, r.n, r.off, ev.Res)
				}
			case ev.Res != int64(r.n):
				t.Errorf("%s: %d bytes at %d: Res %d (%v); want %d", what, r.n, r.off, ev.Res, ev.Err(), r.n)
			case r.write:
				copy(model[r.off:], bufs[ev.Data])
			case !bytes.Equal(bufs[ev.Data], model[r.off:r.off+r.n]):
				t.Errorf("%s: %d bytes at %d: wrong data", what, r.n, r.off)
			}
		}
	}
	t.Run("IoContext", func(t *testing.T) {
		// Known data around both failing sectors (writes at badRead work).
		batch("setup", []req{
			{badRead - 16<<10, 32 << 10, true, false},
			{badWrite - 16<<10, 16 << 10, true, false},
			{badWrite + 4<<10, 12 << 10, true, false},
		})
		// Reads: requests that do not touch each other, so that neither
		// the guest's block layer nor QEMU merges them.
		batch("reads", []req{
			{badRead - 16<<10, 4 << 10, false, false},
			{badRead - 8<<10, 4 << 10, false, false},
			{badRead, 4 << 10, false, true},
			{badRead + 8<<10, 4 << 10, false, false},
			{3 << 20, 4 << 10, false, false},
		})
		batch("reads across the sector", []req{
			{badRead - 12<<10, 4 << 10, false, false},
			{badRead - 4<<10, 8 << 10, false, true},
			{badRead + 8<<10, 512, false, false},
		})
		batch("one sector", []req{
			{badRead, 512, false, true},
			{badRead + 1024, 512, false, false}, // the next sector but one
			{badRead - 1024, 512, false, false},
		})
		batch("writes", []req{
			{badWrite - 12<<10, 4 << 10, true, false},
			{badWrite, 4 << 10, true, true},
			{badWrite + 8<<10, 4 << 10, true, false},
			{badWrite + 6144, 512, true, false},
			{badRead, 4 << 10, true, false}, // only reads fail there
		})
		// What was written reads back.
		batch("read back", []req{
			{badWrite - 12<<10, 4 << 10, false, false},
			{badWrite + 8<<10, 4 << 10, false, false},
			{badWrite + 6144, 512, false, false},
			{badRead + 8<<10, 4 << 10, false, false},
		})
		// Adjacent requests of one batch may be merged into one request
		// of the device, which fails whole: said, not asserted.
		buf := [2][]byte{alignedGo(4096, 4096), alignedGo(4096, 4096)}
		cbs := []*IoControlBlock{readCB(fd, buf[0], badRead-4096, 0), readCB(fd, buf[1], badRead, 1)}
		submitAll(t, c, cbs)
		for _, ev := range reap(t, c, 2) {
			if ev.Data == 0 {
				t.Logf("a read adjacent to the failing one in the same batch: Res %d (%v)", ev.Res, ev.Err())
			}
		}
		// Flushes: through AIO (IOCB_CMD_FDSYNC), then fdatasync(2).
		batch("before the flush", []req{{3 << 20, 4096, true, false}})
		ev := reapOne(t, c, &IoControlBlock{LioOpcode: IOCB_CMD_FDSYNC, Fildes: uint32(fd)})
		if !errors.Is(ev.Err(), syscall.EIO) {
			t.Errorf("IOCB_CMD_FDSYNC on a failing flush: Res %d; want -EIO", ev.Res)
		}
		batch("before fdatasync", []req{{3 << 20, 4096, true, false}})
		if err := unix.Fdatasync(fd); err != unix.EIO {
			t.Errorf("fdatasync(2) on a failing flush: %v; want EIO", err)
		}
		// The context works on.
		batch("afterwards", []req{
			{badRead - 16<<10, 32 << 10, false, true},
			{3 << 20, 4096, false, false},
		})
	})
	t.Run("File", func(t *testing.T) {
		q := newQueue(t, 16)
		f, err := Open(dev, os.O_RDWR, 0, WithQueue(q))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		t.Logf("File: O_DIRECT alignment %d (memory), %d (offsets)", f.memAlign, f.blk)
		// Concurrent calls, aligned and not: those whose blocks cover a
		// failing sector fail with EIO, every other one does its work. A
		// misaligned WriteAt reads its edge blocks first: it fails when
		// one of them is the sector that fails reads.
		covers := func(off, n, sector int) bool {
			lo, hi := off&^(f.blk-1), (off+n+f.blk-1)&^(f.blk-1)
			return lo <= sector && sector < hi
		}
		type call struct {
			off, n, misalign int
			write            bool
		}
		// Concurrent calls go to the device together, and the block layer
		// (the guest's, or QEMU's) merges contiguous requests into one,
		// which fails whole: the calls that succeed keep a gap of at
		// least a sector from those that fail. Calls that touch a sector
		// next to a failing one run alone afterwards.
		calls := []call{
			{badRead, 4096, 0, false},
			{badRead + 100, 10, 3, false},
			{badRead - 4000, 5000, 0, false},
			{badRead + 10, 20, 0, true}, // its read-modify-write reads the bad sector
			{badRead - 8192 - 100, 50, 7, false},
			{badRead + 8192, 4096, 0, false},
			{badRead + 16384, 4096, 0, true},
			{badWrite, 4096, 0, true},
			{badWrite + 10, 20, 5, true}, // reads its sector, fails to write it
			{badWrite - 8192 - 100, 50, 0, true},
			{badWrite + 8192, 4096, 0, true},
			{badWrite + 12288 + 100, 300, 9, true},
		}
		alone := []call{
			{badRead + 600, 10, 1, false}, // the next sector
			{badRead - 100, 50, 7, false}, // the sector before
			{badRead - 4096, 4096, 0, false},
			{badRead + 4096, 4096, 0, false},
			{badWrite - 100, 50, 0, true},
			{badWrite + 600, 20, 0, true},
			{badWrite + 4096, 4096, 0, true},
		}
		var mu sync.Mutex
		do := func(cl call) {
			p := at(cl.n, cl.misalign)
			sector := badRead
			fail := covers(cl.off, cl.n, badRead) // reads, and the edge reads of a misaligned write
			if cl.write {
				pattern(p, cl.off)
				aligned := cl.off%f.blk == 0 && cl.n%f.blk == 0
				fail = covers(cl.off, cl.n, badWrite) || (!aligned && covers(cl.off, cl.n, badRead))
				sector = badWrite
				n, err := f.WriteAt(p, int64(cl.off))
				switch {
				case fail && (!errors.Is(err, syscall.EIO) || n == cl.n):
					t.Errorf("WriteAt(%d bytes at %d), over a failing sector = %d, %v; want EIO", cl.n, cl.off, n, err)
				case !fail && (err != nil || n != cl.n):
					t.Errorf("WriteAt(%d bytes at %d) = %d, %v", cl.n, cl.off, n, err)
				case !fail:
					mu.Lock()
					copy(model[cl.off:], p)
					mu.Unlock()
				}
				return
			}
			n, err := f.ReadAt(p, int64(cl.off))
			switch {
			case fail && (!errors.Is(err, syscall.EIO) || n == cl.n):
				t.Errorf("ReadAt(%d bytes at %d), over the sector at %d = %d, %v; want EIO", cl.n, cl.off, sector, n, err)
			case !fail && (err != nil || n != cl.n):
				t.Errorf("ReadAt(%d bytes at %d) = %d, %v", cl.n, cl.off, n, err)
			case !fail:
				mu.Lock()
				ok := bytes.Equal(p, model[cl.off:cl.off+cl.n])
				mu.Unlock()
				if !ok {
					t.Errorf("ReadAt(%d bytes at %d): wrong data", cl.n, cl.off)
				}
			}
			var pe *os.PathError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("ReadAt's error %T is not an *os.PathError", err)
			}
		}
		var wg sync.WaitGroup
		for _, cl := range calls {
			wg.Go(func() { do(cl) })
		}
		wg.Wait()
		for _, cl := range alone {
			do(cl)
		}
		calls = append(calls, alone...)
		// What the successful writes wrote reads back.
		for _, cl := range calls {
			if !cl.write || covers(cl.off, cl.n, badWrite) || covers(cl.off, cl.n, badRead) {
				continue
			}
			p := make([]byte, cl.n)
			if n, err := f.ReadAt(p, int64(cl.off)); n != cl.n || err != nil || !bytes.Equal(p, model[cl.off:cl.off+cl.n]) {
				t.Errorf("reading back %d bytes at %d: %d, %v", cl.n, cl.off, n, err)
			}
		}

		write := func() {
			t.Helper()
			p := at(4096, 0)
			pattern(p, 99)
			if _, err := f.WriteAt(p, 3<<20); err != nil {
				t.Fatal(err)
			}
		}
		// syncRound plugs the Queue, starts one Sync, whose flush waits
		// behind the plug, then n more, which share the flush after it,
		// and unplugs; it returns the others' errors and the first Sync's.
		syncRound := func(n int) (later []error, first error) {
			t.Helper()
			write()
			st := f.Stats()
			unplug := plugSubmitter(t, q)
			firstc := make(chan error, 1)
			go func() { firstc <- f.Sync() }()
			waitFor(t, "the first flush", func() bool { return f.Stats().Flushes == st.Flushes+1 })
			time.Sleep(5 * time.Millisecond) // its FDSYNC is in line behind the plug
			laterc := make(chan error, n)
			for range n {
				go func() { laterc <- f.Sync() }()
			}
			waitFor(t, "the Syncs to queue", func() bool { return f.Stats().Syncs == st.Syncs+1+uint64(n) })
			if ev, _ := unplug(); interrupted(ev) {
				t.Fatal("a signal ended the plug early; the flushes were not shared as planned")
			}
			first = <-firstc
			for range n {
				later = append(later, <-laterc)
			}
			if got := f.Stats().Flushes - st.Flushes; got != 2 {
				t.Errorf("%d flushes for %d Syncs; want 2", got, n+1)
			}
			return later, first
		}
		// Flushes 3 and 4 fail: the second is shared by eight Syncs.
		shared, first := syncRound(8)
		if !errors.Is(first, syscall.EIO) {
			t.Errorf("Sync on a failing flush: %v; want EIO", first)
		}
		for _, err := range shared {
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("a Sync that shared a failing flush: %v; want EIO", err)
			}
		}
		// Flush 5 fails; flush 6, which the four later Syncs share,
		// succeeds on the device: they began before the failure and
		// return after it, and get EIO all the same.
		waiting, first := syncRound(4)
		if !errors.Is(first, syscall.EIO) {
			t.Errorf("Sync on the fifth failing flush: %v; want EIO", first)
		}
		for _, err := range waiting {
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("a Sync that was waiting when a flush failed, and whose own flush succeeded: %v; want EIO", err)
			}
		}
		// Everything works on: a Sync that begins now, reads, writes.
		write()
		if err := f.Sync(); err != nil {
			t.Errorf("Sync after the failures: %v", err)
		}
		p := make([]byte, 8192)
		if n, err := f.ReadAtContext(context.Background(), p, badRead+4096); n != len(p) || err != nil || !bytes.Equal(p, model[badRead+4096:badRead+4096+8192]) {
			t.Errorf("ReadAt after the failures: %d, %v", n, err)
		}
		if _, err := f.ReadAt(p[:1], badRead+1); !errors.Is(err, syscall.EIO) {
			t.Errorf("ReadAt of the failing sector, again: %v", err)
		}
		if st := q.Stats(); st.InFlight != 0 || st.Waiting != 0 {
			t.Errorf("Queue after the failures: %+v", st)
		}
		t.Logf("File stats %+v, Queue stats %+v", f.Stats(), q.Stats())
		if err := f.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		ev := reapOne(t, c, &IoControlBlock{LioOpcode: IOCB_CMD_FDSYNC, Fildes: uint32(fd)})
		if ev.Res != 0 {
			t.Errorf("IOCB_CMD_FDSYNC after the failures: Res %d", ev.Res)
		}
	})
}
