// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestEventErr(t *testing.T) {
	for _, c := range []struct {
		res  int64
		want error
	}{{0, nil}, {4096, nil}, {-int64(unix.EIO), unix.EIO}, {-int64(unix.EAGAIN), unix.EAGAIN}, {-5000, nil}} {
		ev := IoEvent{Res: c.res}
		if err := ev.Err(); err != c.want {
			t.Errorf("Res %d: Err() = %v, want %v", c.res, err, c.want)
		}
	}
}

// TestFaultsInEvents: errors of the I/O itself come back in the event of
// the request that failed, the other requests of the batch complete, and
// the context keeps working.
func TestFaultsInEvents(t *testing.T) {
	c := newContext(t, 32)

	t.Run("unaligned O_DIRECT buffer", func(t *testing.T) {
		_, fd := directFile(t, 16384, 3)
		mem, err := AllocBuffer(4 * 4096)
		if err != nil {
			t.Fatal(err)
		}
		defer FreeBuffer(mem)
		cbs := make([]*IoControlBlock, 3)
		for i := range cbs {
			cbs[i] = new(IoControlBlock)
			cbs[i].PrepPread(fd, mem[i*4096:(i+1)*4096], int64(i)*4096)
			cbs[i].Data = uint64(i)
		}
		cbs[1].PrepPread(fd, mem[4096+1:8192+1], 4096) // misaligned memory
		cbs[1].Data = 1
		if n, err := c.Submit(cbs); n != 3 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		for _, ev := range reap(t, c, 3) {
			switch {
			case ev.Data == 1 && ev.Err() != unix.EINVAL:
				t.Errorf("misaligned read: Res %d, want -EINVAL", ev.Res)
			case ev.Data != 1 && (ev.Res != 4096 || ev.Err() != nil):
				t.Errorf("aligned read %d: Res %d", ev.Data, ev.Res)
			}
		}
		want := make([]byte, 4096)
		blockPattern(want, 3, 2)
		if !bytes.Equal(mem[2*4096:3*4096], want) {
			t.Error("the good read after the bad one did not land")
		}
	})

	t.Run("RWF_NOWAIT on uncached data", func(t *testing.T) {
		name, _ := tempFile(t, 0, unix.O_RDONLY)
		if err := os.WriteFile(name, bytes.Repeat([]byte("n"), 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		fd := openFile(t, name, unix.O_RDONLY)
		unix.Fdatasync(fd)
		if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		r := new(Request)
		defer r.Release()
		r.PrepPread(fd, buf, 512<<10)
		r.RwFlags = unix.RWF_NOWAIT
		good := readCB(openFile(t, "/dev/zero", unix.O_RDONLY), make([]byte, 8), 0, 9)
		n, err := c.Submit([]*IoControlBlock{&r.IoControlBlock, good})
		if n == 0 && errors.Is(err, unix.EOPNOTSUPP) {
			t.Skip("the file system has no RWF_NOWAIT (tmpfs before Linux 6.6)")
		}
		if n != 2 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		for _, ev := range reap(t, c, 2) {
			if ev.Data == 9 {
				if ev.Res != 8 {
					t.Errorf("the other request: Res %d", ev.Res)
				}
			} else if ev.Res > 0 {
				t.Skip("the page cache still held the data")
			} else if ev.Err() != unix.EAGAIN {
				t.Errorf("RWF_NOWAIT read of uncached data: Res %d, want -EAGAIN", ev.Res)
			}
		}
	})

	t.Run("past RLIMIT_FSIZE", func(t *testing.T) {
		_, fd := tempFile(t, 0, unix.O_RDWR)
		var old unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
		lim := old
		lim.Cur = 10000
		if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
			t.Skip(err)
		}
		// The Go runtime ignores the SIGXFSZ the kernel sends with EFBIG.
		defer unix.Setrlimit(unix.RLIMIT_FSIZE, &old)
		buf := bytes.Repeat([]byte("w"), 8192)
		short, over, read := new(IoControlBlock), new(IoControlBlock), new(IoControlBlock)
		short.PrepPwrite(fd, buf, 4096)
		short.Data = 1
		over.PrepPwrite(fd, buf[:4096], 16384)
		over.Data = 2
		rbuf := make([]byte, 100)
		read.PrepPread(fd, rbuf, 4096)
		read.Data = 3
		if n, err := c.Submit([]*IoControlBlock{short, over, read}); n != 3 || err != nil {
			t.Fatalf("Submit = %d, %v", n, err)
		}
		unix.Setrlimit(unix.RLIMIT_FSIZE, &old)
		for _, ev := range reap(t, c, 3) {
			switch ev.Data {
			case 1:
				if ev.Res != 10000-4096 {
					t.Errorf("write across the limit: Res %d, want the short count %d", ev.Res, 10000-4096)
				}
			case 2:
				if ev.Err() != unix.EFBIG {
					t.Errorf("write past the limit: Res %d, want -EFBIG", ev.Res)
				}
			case 3:
				if ev.Res != 100 || !bytes.Equal(rbuf, buf[:100]) {
					t.Errorf("read: Res %d", ev.Res)
				}
			}
		}
		runtime.KeepAlive(buf)
	})

	// After all that, the context still works.
	fd := openFile(t, "/dev/zero", unix.O_RDONLY)
	buf := make([]byte, 64)
	if n, err := c.Submit([]*IoControlBlock{readCB(fd, buf, 0, 1)}); n != 1 || err != nil {
		t.Fatalf("Submit after the faults = %d, %v", n, err)
	}
	if ev := reap(t, c, 1)[0]; ev.Res != 64 {
		t.Errorf("Res %d", ev.Res)
	}
}

// TestExhaustContexts creates contexts until the machine's fs.aio-max-nr is
// used up: the next one fails with EAGAIN and says what to raise, and once
// they are closed a context can be created again.
func TestExhaustContexts(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/fs/aio-max-nr")
	if err != nil {
		t.Skip(err)
	}
	max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if max <= 0 || max > 1<<22 {
		t.Skipf("fs.aio-max-nr is %d", max)
	}
	nr := uint32(max/4 + 1)
	var ctxs []*IoContext
	defer func() {
		for _, c := range ctxs {
			c.Close()
		}
	}()
	for {
		c, err := NewIoContext(nr)
		if err != nil {
			if !errors.Is(err, unix.EAGAIN) || !strings.Contains(err.Error(), "fs.aio-max-nr") {
				t.Fatalf("context %d: %v; want EAGAIN naming fs.aio-max-nr", len(ctxs)+1, err)
			}
			break
		}
		if ctxs = append(ctxs, c); len(ctxs) > 4 {
			t.Fatalf("%d contexts of %d events fit in fs.aio-max-nr %d", len(ctxs), nr, max)
		}
	}
	for _, c := range ctxs {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ctxs = nil
	c, err := NewIoContext(nr)
	if err != nil {
		t.Fatalf("after closing them all: %v", err)
	}
	c.Close()
}

// TestMisuse: what callers get wrong gets an error or a documented result.
func TestMisuse(t *testing.T) {
	c := newContext(t, 8)
	t.Run("closed fd", func(t *testing.T) {
		fd, err := unix.Open("/dev/zero", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		unix.Close(fd)
		buf := make([]byte, 8)
		if n, err := c.Submit([]*IoControlBlock{readCB(fd, buf, 0, 0)}); n != 0 || !errors.Is(err, unix.EBADF) {
			t.Errorf("Submit on a closed fd = %d, %v; want EBADF", n, err)
		}
	})
	t.Run("block resubmitted while in flight", func(t *testing.T) {
		// Documented: the kernel copies the block at each Submit, so these
		// are two requests, with two completions that both name the block.
		r, w := pipeFDs(t)
		cb := pollCB(r, unix.POLLIN, 6)
		for i := 0; i < 2; i++ {
			if n, err := c.Submit([]*IoControlBlock{cb}); n != 1 || err != nil {
				t.Fatalf("Submit #%d = %d, %v", i, n, err)
			}
		}
		unix.Write(w, []byte{1})
		for _, ev := range reap(t, c, 2) {
			if ev.Data != 6 || ev.Obj != uint64(uintptr(unsafe.Pointer(cb))) {
				t.Errorf("event %+v", ev)
			}
		}
	})
	t.Run("nil timeout and nil events", func(t *testing.T) {
		if n, err := c.GetEvents(0, nil, nil); n != 0 || err != nil {
			t.Errorf("GetEvents(0, nil, nil) = %d, %v", n, err)
		}
	})
	t.Run("Cancel of nil", func(t *testing.T) {
		if err := c.Cancel(nil, nil); !errors.Is(err, unix.EFAULT) {
			t.Errorf("Cancel(nil) = %v, want EFAULT", err)
		}
	})
}

// TestCloseWaitsForInflight: Close returns only once the kernel is done with
// every buffer, which then holds the completed reads and no longer changes.
func TestCloseWaitsForInflight(t *testing.T) {
	const n = 32
	_, fd := directFile(t, n*4096, 11)
	c, err := NewIoContext(n)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := AllocBuffer(n * 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer FreeBuffer(mem)
	cbs := make([]*IoControlBlock, n)
	for i := range cbs {
		cbs[i] = new(IoControlBlock)
		cbs[i].PrepPread(fd, mem[i*4096:(i+1)*4096], int64(i)*4096)
	}
	if k, err := c.Submit(cbs); k != n || err != nil {
		t.Fatalf("Submit = %d, %v", k, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	snapshot := append([]byte(nil), mem...)
	want := make([]byte, 4096)
	for i := 0; i < n; i++ {
		blockPattern(want, 11, uint64(i))
		if !bytes.Equal(snapshot[i*4096:(i+1)*4096], want) {
			t.Fatalf("block %d had not landed when Close returned", i)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if !bytes.Equal(mem, snapshot) {
		t.Error("the buffers changed after Close returned")
	}
}

// soakWrites is the number of block writes of TestSoak; AIO_SOAK_WRITES
// raises it for a longer run by hand.
func soakWrites(t *testing.T) int {
	if v, err := strconv.Atoi(os.Getenv("AIO_SOAK_WRITES")); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return 500
	}
	return 3000
}

// The shape of TestSoak: blocks of the file, writer and reader goroutines,
// and requests per batch.
const soakBlocks, soakWriters, soakReaders, soakBatch = 256, 3, 3, 8

// TestSoak is the data-integrity soak: writer goroutines write patterned
// blocks with O_DIRECT through one context, in batches, some with
// RWF_DSYNC, with IOCB_CMD_FSYNC now and then, while reader goroutines read
// blocks back through the same context; one goroutine reaps for all. Every
// block read back must hold the last generation written to it.
func TestSoak(t *testing.T) {
	_, fd := directFile(t, soakBlocks*4096, 0)
	s := &soak{t: t, c: newContext(t, 128), fd: fd, total: soakWrites(t)}

	stopReap := make(chan struct{})
	var reaper sync.WaitGroup
	reaper.Add(1)
	go func() { defer reaper.Done(); s.reap(stopReap) }()

	var wg sync.WaitGroup
	for w := 0; w < soakWriters; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.write(w) }()
	}
	for r := 0; r < soakReaders; r++ {
		wg.Add(1)
		go func() { defer wg.Done(); s.read(r) }()
	}
	wg.Wait()
	close(stopReap)
	reaper.Wait()

	s.checkFile()
	t.Logf("%d block writes, %d reads verified during the run, %d blocks at the end",
		s.written.Load(), s.verified.Load(), soakBlocks)
	if s.verified.Load() == 0 {
		t.Error("no read was verified during the run")
	}
}

// soak is what TestSoak's goroutines share.
type soak struct {
	t     *testing.T
	c     *IoContext
	fd    int
	total int // block writes to do

	// state[b] is gen<<1 | busy: the generation the block holds, and
	// whether a write of it is in flight.
	state [soakBlocks]atomic.Uint64

	slots  sync.Map // Data -> chan int64, which gets the completion's Res
	nextID atomic.Uint64

	written, verified atomic.Int64
}

// submit numbers the blocks, submits them all and returns the channels
// their results arrive on, or nil when Submit failed.
func (s *soak) submit(cbs []*IoControlBlock) []chan int64 {
	chans := make([]chan int64, len(cbs))
	for i, cb := range cbs {
		cb.Data = s.nextID.Add(1)
		chans[i] = make(chan int64, 1)
		s.slots.Store(cb.Data, chans[i])
	}
	if !submitAll(s.t, s.c, cbs) {
		return nil
	}
	return chans
}

// reap hands every completion to the goroutine that waits for it, until
// stop is closed and no completion is left.
func (s *soak) reap(stop <-chan struct{}) {
	events := make([]IoEvent, 64)
	for {
		ts := unix.NsecToTimespec(int64(5 * time.Millisecond))
		n, err := s.c.GetEvents(1, events, &ts)
		if err != nil {
			s.t.Errorf("GetEvents: %v", err)
			return
		}
		for _, ev := range events[:n] {
			ch, ok := s.slots.LoadAndDelete(ev.Data)
			if !ok {
				s.t.Errorf("completion of unknown request %d", ev.Data)
				continue
			}
			ch.(chan int64) <- ev.Res
		}
		if n == 0 {
			select {
			case <-stop:
				return
			default:
			}
		}
	}
}

// write is writer w: batches of writes of its own blocks (every
// soakWriters-th from w), each block one generation further, some with
// RWF_DSYNC, every fifth batch with an fsync, until the soak has done its
// writes.
func (s *soak) write(w int) {
	rnd := rand.New(rand.NewSource(int64(w)))
	reqs := make([]Request, soakBatch)
	bufs := make([][]byte, soakBatch)
	for i := range bufs {
		bufs[i] = alignedGo(4096, 4096)
	}
	defer func() {
		for i := range reqs {
			reqs[i].Release()
		}
	}()
	for round := 0; s.written.Load() < int64(s.total); round++ {
		var cbs []*IoControlBlock
		var mine []int
		for i := 0; i < soakBatch; i++ {
			b := (rnd.Intn(soakBlocks/soakWriters))*soakWriters + w
			st := s.state[b].Load()
			if st&1 != 0 || !s.state[b].CompareAndSwap(st, st|1) {
				continue
			}
			blockPattern(bufs[i], st>>1+1, uint64(b))
			reqs[i].PrepPwrite(s.fd, bufs[i], int64(b)*4096)
			if rnd.Intn(3) == 0 {
				reqs[i].RwFlags = unix.RWF_DSYNC
			}
			cbs = append(cbs, &reqs[i].IoControlBlock)
			mine = append(mine, b)
		}
		if round%5 == 4 {
			fsync := new(IoControlBlock)
			fsync.PrepFsync(s.fd)
			cbs = append(cbs, fsync)
		}
		for i, ch := range s.submit(cbs) {
			res := <-ch
			if i >= len(mine) { // the fsync
				if res != 0 {
					s.t.Errorf("fsync: Res %d", res)
				}
				continue
			}
			if res != 4096 {
				s.t.Errorf("write of block %d: Res %d", mine[i], res)
			}
			s.state[mine[i]].Add(1) // gen+1, not busy: (st|1)+1 = (gen+1)<<1
		}
		s.written.Add(int64(len(mine)))
	}
}

// read is reader r: batches of reads of random blocks into AllocBuffer
// memory, each checked against the generation its block held, when no
// write touched the block meanwhile.
func (s *soak) read(r int) {
	rnd := rand.New(rand.NewSource(int64(100 + r)))
	mem, err := AllocBuffer(soakBatch * 4096)
	if err != nil {
		s.t.Error(err)
		return
	}
	defer FreeBuffer(mem)
	want := make([]byte, 4096)
	for s.written.Load() < int64(s.total) {
		cbs := make([]*IoControlBlock, soakBatch)
		bs := make([]int, soakBatch)
		before := make([]uint64, soakBatch)
		for i := range cbs {
			bs[i] = rnd.Intn(soakBlocks)
			before[i] = s.state[bs[i]].Load()
			cbs[i] = new(IoControlBlock)
			cbs[i].PrepPread(s.fd, mem[i*4096:(i+1)*4096], int64(bs[i])*4096)
		}
		for i, ch := range s.submit(cbs) {
			if res := <-ch; res != 4096 {
				s.t.Errorf("read of block %d: Res %d", bs[i], res)
				continue
			}
			// Only a block that no write touched meanwhile says what it
			// must hold.
			if st := s.state[bs[i]].Load(); st != before[i] || st&1 != 0 {
				continue
			}
			blockPattern(want, before[i]>>1, uint64(bs[i]))
			if !bytes.Equal(mem[i*4096:(i+1)*4096], want) {
				s.t.Errorf("block %d does not hold generation %d", bs[i], before[i]>>1)
				return
			}
			s.verified.Add(1)
		}
	}
}

// checkFile reads every block back after a final fsync: each must hold
// the last generation written to it.
func (s *soak) checkFile() {
	t := s.t
	if err := unix.Fsync(s.fd); err != nil {
		t.Fatal(err)
	}
	mem, err := AllocBuffer(soakBlocks * 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer FreeBuffer(mem)
	if n, err := unix.Pread(s.fd, mem, 0); n != len(mem) || err != nil {
		t.Fatalf("pread = %d, %v", n, err)
	}
	want := make([]byte, 4096)
	for b := 0; b < soakBlocks; b++ {
		blockPattern(want, s.state[b].Load()>>1, uint64(b))
		if !bytes.Equal(mem[b*4096:(b+1)*4096], want) {
			t.Fatalf("block %d does not hold its last generation %d", b, s.state[b].Load()>>1)
		}
	}
}
