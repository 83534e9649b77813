// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestFileReadAtContract(t *testing.T) {
	const size = 3*4096 + 100
	f, data := openTestFile(t, size)
	if !f.IsDirect() {
		t.Fatal("IsDirect = false for a file opened with O_DIRECT")
	}
	for _, c := range []struct {
		name          string
		off           int64
		n, misalign   int
		want          int
		wantErr       error
		wantNegOffErr bool
	}{
		{"aligned", 0, 4096, 0, 4096, nil, false},
		{"aligned, several blocks", 4096, 8192, 0, 8192, nil, false},
		{"misaligned memory", 4096, 4096, 3, 4096, nil, false},
		{"misaligned offset", 17, 5000, 0, 5000, nil, false},
		{"small, inside a block", 4097, 10, 1, 10, nil, false},
		{"EOF in the middle", 3 * 4096, 4096, 0, 100, io.EOF, false},
		{"EOF in the middle, misaligned", 3*4096 + 50, 4096, 5, 50, io.EOF, false},
		{"across EOF from an aligned start", 2 * 4096, 3 * 4096, 0, 4096 + 100, io.EOF, false},
		{"exactly to the end", 3*4096 + 90, 10, 0, 10, nil, false},
		{"at the end", size, 10, 0, 0, io.EOF, false},
		{"past the end", size + 5000, 4096, 0, 0, io.EOF, false},
		{"zero length", 5, 0, 0, 0, nil, false},
		{"zero length past the end", size * 2, 0, 0, 0, nil, false},
		{"negative offset", -1, 10, 0, 0, nil, true},
	} {
		p := at(c.n, c.misalign)
		for i := range p {
			p[i] = 0xee
		}
		n, err := f.ReadAt(p, c.off)
		if c.wantNegOffErr {
			if err == nil || n != 0 {
				t.Errorf("%s: %d, %v; want an error", c.name, n, err)
			}
			continue
		}
		if n != c.want || err != c.wantErr {
			t.Errorf("%s: ReadAt = %d, %v; want %d, %v", c.name, n, err, c.want, c.wantErr)
			continue
		}
		// io.ReaderAt lets ReadAt use all of p as scratch space, and an
		// O_DIRECT read may write whole blocks past the end of the file.
		if n > 0 && !bytes.Equal(p[:n], data[c.off:c.off+int64(n)]) {
			t.Errorf("%s: wrong data", c.name)
		}
	}
	var _ io.ReaderAt = f
	var _ io.WriterAt = f
}

func TestFileWriteAtContract(t *testing.T) {
	f, data := openTestFile(t, 2*4096)
	model := bytes.Clone(data)
	write := func(p []byte, off int64) {
		t.Helper()
		n, err := f.WriteAt(p, off)
		if n != len(p) || err != nil {
			t.Fatalf("WriteAt(%d bytes, %d) = %d, %v", len(p), off, n, err)
		}
		if end := int(off) + len(p); end > len(model) {
			model = append(model, make([]byte, end-len(model))...)
		}
		copy(model[off:], p)
	}
	check := func(what string) {
		t.Helper()
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, model) {
			t.Fatalf("%s: file differs from the model (size %d, want %d)", what, len(got), len(model))
		}
	}
	write(bytes.Repeat([]byte{1}, 4096), 4096) // aligned
	write([]byte("hello"), 10)                 // read-modify-write of one block
	write(bytes.Repeat([]byte{2}, 5000), 3000) // both edges
	copy(at(4096, 7), bytes.Repeat([]byte{3}, 4096))
	write(at(4096, 7), 0) // misaligned memory, aligned offset
	check("in place")
	write([]byte("tail"), 2*4096+10) // extends by a partial block
	check("extended by 14 bytes")
	write(bytes.Repeat([]byte{4}, 100), 5*4096+1) // a hole, then a partial block
	check("extended past a hole")
	write(bytes.Repeat([]byte{5}, 4096), 8*4096) // an aligned extension
	check("extended by a block")
	if n, err := f.WriteAt(nil, 100); n != 0 || err != nil {
		t.Errorf("WriteAt(nil) = %d, %v", n, err)
	}
	if n, err := f.WriteAt([]byte{1}, -1); n != 0 || err == nil {
		t.Errorf("WriteAt at -1 = %d, %v; want an error", n, err)
	}
	if st := f.Stats(); st.RMW == 0 || st.Bounced == 0 {
		t.Errorf("stats %+v: no read-modify-write counted", st)
	}
	// The size after an extension is what ReadAt sees too.
	p := make([]byte, 10)
	if n, err := f.ReadAt(p, int64(len(model))-4); n != 4 || err != io.EOF {
		t.Errorf("ReadAt at the new end = %d, %v; want 4, EOF", n, err)
	}
}

// TestFileSharedBlockWrites: goroutines write byte ranges that do not
// overlap but share blocks; none may lose another's bytes.
func TestFileSharedBlockWrites(t *testing.T) {
	const writers, rounds = 16, 40
	f, _ := openTestFile(t, 4*4096)
	for r := range rounds {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				// Writer w owns bytes [w*1000+r, w*1000+r+37) of the file:
				// neighbours share 4096-byte blocks.
				p := bytes.Repeat([]byte{byte(w + r*writers)}, 37)
				if n, err := f.WriteAt(p, int64(w*1000+r)); n != len(p) || err != nil {
					t.Errorf("WriteAt: %d, %v", n, err)
				}
			})
		}
		wg.Wait()
		got := make([]byte, 4*4096)
		if _, err := f.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		for w := range writers {
			for i := w*1000 + r; i < w*1000+r+37; i++ {
				if got[i] != byte(w+r*writers) {
					t.Fatalf("round %d: byte %d of writer %d is %d: a write was lost", r, i, w, got[i])
				}
			}
		}
	}
}

// TestFileGroupCommit: 16 goroutines doing WriteAt and Sync share flushes.
func TestFileGroupCommit(t *testing.T) {
	const goroutines, rounds = 16, 20
	f, _ := openTestFile(t, goroutines*4096)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			p := alignedGo(4096, 4096)
			for r := range rounds {
				p[0] = byte(r)
				if _, err := f.WriteAt(p, int64(g*4096)); err != nil {
					t.Error(err)
					return
				}
				if err := f.Sync(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := f.Stats()
	t.Logf("%d Syncs, %d flushes", st.Syncs, st.Flushes)
	if st.Syncs != goroutines*rounds || st.Flushes*2 > st.Syncs {
		t.Fatalf("%d flushes for %d Syncs; want at most one per two", st.Flushes, st.Syncs)
	}
}

// flushScript replaces f's flushes: each waits for a value on release and
// returns the next error of errs (nil when they run out); started counts
// the flushes begun.
func flushScript(f *File, errs ...error) (release chan struct{}, started *atomic.Int32) {
	release = make(chan struct{})
	started = new(atomic.Int32)
	f.flushHook = func() error {
		i := started.Add(1) - 1
		<-release
		if int(i) < len(errs) {
			return errs[i]
		}
		return nil
	}
	return release, started
}

// TestFileSyncWaitsForALaterFlush: a Sync that arrives while a flush is
// under way waits for the next one, which the Syncs that arrived meanwhile
// share.
func TestFileSyncWaitsForALaterFlush(t *testing.T) {
	f, _ := openTestFile(t, 4096)
	release, started := flushScript(f)
	first := make(chan error, 1)
	go func() { first <- f.Sync() }()
	waitFor(t, "the first flush", func() bool { return started.Load() == 1 })
	later := make(chan error, 5)
	for range 5 {
		go func() { later <- f.Sync() }()
	}
	waitFor(t, "the Syncs to queue", func() bool { return f.Stats().Syncs == 6 })
	release <- struct{}{} // the first flush ends; the second begins
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-later:
		t.Fatalf("a Sync returned (%v) with the flush that was under way when it began", err)
	case <-time.After(10 * time.Millisecond):
	}
	release <- struct{}{}
	for range 5 {
		if err := <-later; err != nil {
			t.Fatal(err)
		}
	}
	if n := started.Load(); n != 2 {
		t.Fatalf("%d flushes for six Syncs; want 2", n)
	}
}

// TestFileSyncErrorReachesEveryWaiter: a failed flush fails every Sync
// that shared it, and a Sync that was waiting when it failed, though the
// kernel reports the error only once.
func TestFileSyncErrorReachesEveryWaiter(t *testing.T) {
	f, _ := openTestFile(t, 4096)
	release, started := flushScript(f, nil, unix.EIO, nil)
	sync := func(c chan error) { c <- f.Sync() }
	a, shared, waiting := make(chan error, 1), make(chan error, 3), make(chan error, 1)
	go sync(a)
	waitFor(t, "flush 1", func() bool { return started.Load() == 1 })
	for range 3 {
		go sync(shared) // they share flush 2
	}
	waitFor(t, "three Syncs queued", func() bool { return f.Stats().Syncs == 4 })
	release <- struct{}{}
	if err := <-a; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "flush 2", func() bool { return started.Load() == 2 })
	go sync(waiting) // waits for flush 3, while flush 2 fails
	waitFor(t, "a Sync queued behind flush 2", func() bool { return f.Stats().Syncs == 5 })
	release <- struct{}{}
	for range 3 {
		if err := <-shared; !errors.Is(err, syscall.EIO) {
			t.Errorf("a Sync that shared the failed flush got %v; want EIO", err)
		}
	}
	release <- struct{}{}
	if err := <-waiting; !errors.Is(err, syscall.EIO) {
		t.Errorf("a Sync that was waiting when the flush failed got %v; want EIO", err)
	}
	go func() { release <- struct{}{} }()
	if err := f.Sync(); err != nil {
		t.Errorf("a Sync that began after the failure: %v", err)
	}
}

// TestFileCancel: a read through the File's buffer returns at once when
// its context is done; one on the caller's memory returns only when the
// kernel is done; and the caller's buffer is never written afterwards.
func TestFileCancel(t *testing.T) {
	f, _ := openTestFile(t, 64*4096)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := at(4096, 0)
	for i := range p {
		p[i] = 0xaa
	}
	if n, err := f.ReadAtContext(ctx, p, 0); n != 0 || err != context.Canceled {
		t.Fatalf("ReadAtContext with a done context = %d, %v", n, err)
	}
	if _, err := f.WriteAtContext(ctx, p, 0); err != context.Canceled {
		t.Fatalf("WriteAtContext with a done context: %v", err)
	}
	if err := f.SyncContext(ctx); err != context.Canceled {
		t.Fatalf("SyncContext with a done context: %v", err)
	}
	// Cancel at random moments; whatever the outcome, p must not change
	// after the call returns.
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		big := at(16*4096, i%2) // aligned: the caller's memory; misaligned: bounced
		for j := range big {
			big[j] = 0xaa
		}
		go func() {
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			cancel()
		}()
		n, err := f.ReadAtContext(ctx, big, int64(i%48)*4096)
		if err != nil && err != context.Canceled {
			t.Fatalf("ReadAtContext: %d, %v", n, err)
		}
		snap := bytes.Clone(big)
		time.Sleep(100 * time.Microsecond)
		runtime.Gosched()
		if !bytes.Equal(snap, big) {
			t.Fatalf("round %d: the buffer changed after ReadAtContext returned (%d, %v)", i, n, err)
		}
		cancel()
	}
	// Close waits for reads the callers left to the kernel.
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFileClosed(t *testing.T) {
	f, _ := openTestFile(t, 4096)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 10)
	_, rerr := f.ReadAt(p, 0)
	_, werr := f.WriteAt(p, 0)
	for name, err := range map[string]error{
		"ReadAt": rerr, "WriteAt": werr, "Sync": f.Sync(), "Close": f.Close(),
	} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: %v; want os.ErrClosed", name, err)
		}
	}
	var nilf *File
	if _, err := nilf.ReadAt(p, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("nil File: %v", err)
	}
}

// TestFileCloseWaits: Close returns only once the calls under way are done.
func TestFileCloseWaits(t *testing.T) {
	f, _ := openTestFile(t, 256*4096)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			p := at(4096, g%2)
			for i := 0; ; i++ {
				_, err := f.ReadAt(p, int64(i%256)*4096)
				if errors.Is(err, os.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("ReadAt: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func TestFileNewFile(t *testing.T) {
	osf, f := newFileOver(t, bytes.Repeat([]byte("0123456789"), 1000))
	if !f.IsDirect() || f.Fd() == int(osf.Fd()) {
		t.Fatalf("NewFile: direct %v, fd %d of %d", f.IsDirect(), f.Fd(), osf.Fd())
	}
	p := make([]byte, 5)
	if n, err := f.ReadAt(p, 13); n != 5 || err != nil || string(p) != "34567" {
		t.Fatalf("ReadAt = %d, %v, %q", n, err, p)
	}
	// The File has a file description of its own: the caller's offset stays.
	if _, err := osf.Seek(7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("x"), 20000); err != nil {
		t.Fatal(err)
	}
	if off, _ := osf.Seek(0, io.SeekCurrent); off != 7 {
		t.Fatalf("the caller's offset moved to %d", off)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// The os.File is still the caller's, without O_DIRECT.
	if n, err := osf.ReadAt(p, 1); n != 5 || err != nil || string(p) != "12345" {
		t.Fatalf("os.File after the File closed: %d, %v, %q", n, err, p)
	}
	if fl, _ := unix.FcntlInt(osf.Fd(), unix.F_GETFL, 0); fl&unix.O_DIRECT != 0 {
		t.Fatal("NewFile set O_DIRECT on the caller's file")
	}
	// A shared Queue stays open when the File closes.
	q := newQueue(t, 8)
	g, err := NewFile(osf, WithQueue(q))
	if err != nil {
		t.Fatal(err)
	}
	if g.Queue() != q {
		t.Fatal("WithQueue was not used")
	}
	g.Close()
	if _, err := q.Do(context.Background(), &IoControlBlock{LioOpcode: IOCB_CMD_FDSYNC, Fildes: uint32(osf.Fd())}); err != nil {
		t.Fatalf("the shared Queue after the File closed: %v", err)
	}
}

// TestFileBuffered: where O_DIRECT is refused, AllowBuffered gives a File
// that does buffered I/O with the same contracts. ramfs refuses O_DIRECT.
func TestFileBuffered(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("none", dir, "ramfs", 0, ""); err != nil {
		t.Skipf("cannot mount a ramfs to test on: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, []byte("hello, world"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(name, os.O_RDWR, 0); !errors.Is(err, ErrNoDirectIO) || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("Open on ramfs: %v; want ErrNoDirectIO", err)
	}
	f, err := Open(name, os.O_RDWR, 0, AllowBuffered())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.IsDirect() || f.Queue() != nil {
		t.Fatal("a buffered File says it is direct")
	}
	p := make([]byte, 20)
	if n, err := f.ReadAt(p, 7); n != 5 || err != io.EOF || string(p[:n]) != "world" {
		t.Fatalf("ReadAt = %d, %v, %q", n, err, p[:n])
	}
	if n, err := f.WriteAt([]byte("there"), 7); n != 5 || err != nil {
		t.Fatalf("WriteAt = %d, %v", n, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(name); string(got) != "hello, there" {
		t.Fatalf("file holds %q", got)
	}
	// A done context stops a buffered call before it starts, too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.WriteAtContext(ctx, []byte("x"), 0); err != context.Canceled {
		t.Errorf("WriteAtContext with a done context: %v", err)
	}
	if _, err := f.ReadAtContext(ctx, p, 0); err != context.Canceled {
		t.Errorf("ReadAtContext with a done context: %v", err)
	}
}

// TestFileModel runs goroutines that each own interleaved byte ranges of one
// file (neighbours share blocks) and read, write and Sync them at random
// offsets, lengths and alignments, checking every read against a model;
// then the whole file against it.
func TestFileModel(t *testing.T) {
	const goroutines, stripe, ops = 8, 1500, 300
	size := goroutines * stripe * 8
	f, data := openTestFile(t, size)
	model := bytes.Clone(data)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			// Goroutine g owns stripes g, g+goroutines, ...
			for range ops {
				s := (rng.IntN(size/stripe/goroutines)*goroutines + g) * stripe
				off := s + rng.IntN(stripe)
				n := 1 + rng.IntN(s+stripe-off)
				if rng.IntN(4) == 0 && n >= 4096 {
					n = n &^ 4095 // sometimes whole blocks
				}
				p := at(n, rng.IntN(2)*rng.IntN(4096))
				switch rng.IntN(5) {
				case 0, 1:
					for i := range p {
						p[i] = byte(rng.Uint32())
					}
					if m, err := f.WriteAt(p, int64(off)); m != n || err != nil {
						t.Errorf("WriteAt(%d, %d) = %d, %v", n, off, m, err)
						return
					}
					copy(model[off:], p)
				case 2, 3:
					if m, err := f.ReadAt(p, int64(off)); m != n || err != nil {
						t.Errorf("ReadAt(%d, %d) = %d, %v", n, off, m, err)
						return
					}
					if !bytes.Equal(p, model[off:off+n]) {
						t.Errorf("ReadAt(%d, %d): data differs from the model", n, off)
						return
					}
				case 4:
					if err := f.Sync(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	got := make([]byte, size+10)
	if n, err := f.ReadAt(got, 0); n != size || err != io.EOF || !bytes.Equal(got[:n], model) {
		t.Fatalf("the whole file: %d, %v, equal %v", n, err, bytes.Equal(got[:n], model))
	}
}

// TestFileDoesNotAllocate: aligned ReadAt and WriteAt allocate nothing.
func TestFileDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	f, _ := openTestFile(t, 16*4096)
	p := at(4096, 0)
	f.ReadAt(p, 0)
	f.WriteAt(p, 4096)
	if n := testing.AllocsPerRun(200, func() {
		if _, err := f.ReadAt(p, 8192); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(p, 4096); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("aligned ReadAt and WriteAt allocate %v times", n)
	}
}

// FuzzFile runs ReadAt, WriteAt and Sync with offsets, lengths and buffer
// alignments from the fuzzer, one after another, holding every result to a
// model of the file: the bytes, the size, io.EOF exactly at the end.
func FuzzFile(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{1, 0, 16, 0, 16, 0, 0, 1, 0, 16, 0, 16, 3})
	f.Add([]byte{1, 255, 255, 7, 9, 1, 2, 0, 0, 0, 255, 255, 255, 5})
	// One File for every input: opening costs an io_setup and closing an
	// io_destroy, which would make the fuzzer a hundred times slower.
	file, _ := openTestFile(f, 0)
	f.Fuzz(func(t *testing.T, ops []byte) {
		model := make([]byte, len(ops)*97%20000)
		for i := range model {
			model[i] = byte(i * 5)
		}
		if err := unix.Ftruncate(file.Fd(), 0); err != nil {
			t.Fatal(err)
		}
		file.size.Store(0) // the File's idea of the size, which Ftruncate bypassed
		if n, err := file.WriteAt(model, 0); n != len(model) || err != nil {
			t.Fatalf("laying out the file: %d, %v", n, err)
		}
		next := func() int {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return int(b)
		}
		for len(ops) > 0 {
			kind := next() % 4
			off := (next()<<8 | next()) * 3 // up to ~196 KiB
			n := (next()<<8 | next()) % (64 << 10)
			p := at(n, next()%9*512%4096)
			switch kind {
			case 0, 1: // write
				for i := range p {
					p[i] = byte(off + i*13)
				}
				m, err := file.WriteAt(p, int64(off))
				if m != n || err != nil {
					t.Fatalf("WriteAt(%d, %d) = %d, %v", n, off, m, err)
				}
				if n == 0 {
					break // writes nothing, extends nothing
				}
				if off+n > len(model) {
					model = append(model, make([]byte, off+n-len(model))...)
				}
				copy(model[off:], p)
			case 2: // read
				m, err := file.ReadAt(p, int64(off))
				want := max(0, min(n, len(model)-off))
				var wantErr error
				if want < n {
					wantErr = io.EOF
				}
				if m != want || err != wantErr {
					t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d, %v (size %d)", n, off, m, err, want, wantErr, len(model))
				}
				if m > 0 && !bytes.Equal(p[:m], model[off:off+m]) {
					t.Fatalf("ReadAt(%d, %d): data differs from the model", n, off)
				}
			case 3:
				if err := file.Sync(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if st, err := os.Stat(file.Name()); err != nil || st.Size() != int64(len(model)) {
			t.Fatalf("size %d, %v; the model's is %d", st.Size(), err, len(model))
		}
	})
}

// TestFileWriteOnly: a File opened O_WRONLY, as writers open files, still
// does misaligned writes, inside the file and one record after another.
func TestFileWriteOnly(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, bytes.Repeat([]byte{'x'}, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(name, os.O_WRONLY, 0)
	if errors.Is(err, ErrNoDirectIO) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := f.WriteAt([]byte("hello"), 10); n != 5 || err != nil {
		t.Fatalf("WriteAt inside an O_WRONLY File = %d, %v", n, err)
	}
	log, err := Open(filepath.Join(t.TempDir(), "log"), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	rec := bytes.Repeat([]byte{'r'}, 100)
	for i := range 3 {
		if n, err := log.WriteAt(rec, int64(i*len(rec))); n != len(rec) || err != nil {
			t.Fatalf("record %d: WriteAt = %d, %v", i, n, err)
		}
	}
}

// TestFileStaleSize: NewFile leaves the caller its *os.File; what that
// appends must survive a File write that cuts its last block back.
func TestFileStaleSize(t *testing.T) {
	osf, f := newFileOver(t, bytes.Repeat([]byte{'a'}, 5000))
	defer f.Close()
	name := osf.Name()
	if _, err := osf.WriteAt(bytes.Repeat([]byte{'b'}, 3000), 5000); err != nil {
		t.Fatal(err)
	}
	if n, err := f.WriteAt([]byte("xy"), 4990); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	got, _ := os.ReadFile(name)
	if len(got) != 8000 || string(got[4990:4992]) != "xy" || got[7999] != 'b' {
		t.Fatalf("size %d; want 8000 with both writes", len(got))
	}
}

// TestFileBufferedCreateExcl: O_CREATE|O_EXCL with AllowBuffered where
// O_DIRECT is refused opens once, and so creates the file once.
func TestFileBufferedCreateExcl(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("none", dir, "ramfs", 0, ""); err != nil {
		t.Skipf("cannot mount a ramfs to test on: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	name := filepath.Join(dir, "new")
	if _, err := Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, ErrNoDirectIO) {
		t.Fatalf("Open without AllowBuffered: %v", err)
	}
	if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed O_EXCL Open left the file behind: %v", err)
	}
	f, err := Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600, AllowBuffered())
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestFileSyncErrorNobodyWaited: a flush that fails after every Sync that
// waited for it gave up is reported by the next Sync.
func TestFileSyncErrorNobodyWaited(t *testing.T) {
	f, _ := openTestFile(t, 4096)
	release, started := flushScript(f, unix.EIO, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.SyncContext(ctx) }()
	waitFor(t, "flush 1", func() bool { return started.Load() == 1 })
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("SyncContext = %v", err)
	}
	release <- struct{}{} // flush 1 fails, with nobody waiting
	waitFor(t, "flush 1 to end", func() bool {
		f.syncMu.Lock()
		defer f.syncMu.Unlock()
		return f.running == nil
	})
	go func() { release <- struct{}{} }()
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("the Sync after a failed flush nobody saw: %v; want EIO", err)
	}
	go func() { release <- struct{}{} }()
	if err := f.Sync(); err != nil {
		t.Fatalf("the Sync after that: %v", err)
	}
}

// TestFileNoOvershootSeen: a writer extends the file a byte at a time (each
// write writes the last block whole, then cuts the file back) while others
// read past the end: nobody may see a byte that was never written.
func TestFileNoOvershootSeen(t *testing.T) {
	f, _ := openTestFile(t, 0)
	var stop atomic.Bool
	var committed atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		defer stop.Store(true)
		b := []byte{0xab}
		for i := range 2000 {
			if n, err := f.WriteAt(b, int64(i)); n != 1 || err != nil {
				t.Errorf("WriteAt: %d, %v", n, err)
				return
			}
			committed.Store(int64(i + 1))
		}
	})
	for range 3 {
		wg.Go(func() {
			p := make([]byte, 700)
			for !stop.Load() {
				off := max(committed.Load()-100, 0)
				n, err := f.ReadAt(p, off)
				if err != nil && err != io.EOF {
					t.Errorf("ReadAt: %v", err)
					return
				}
				if bytes.Count(p[:n], []byte{0xab}) != n {
					t.Errorf("ReadAt(%d): %d bytes, some never written", off, n)
					return
				}
			}
		})
	}
	wg.Wait()
}

// newFileOver writes data to a new file, opens it as an *os.File, which the
// test closes when it ends, and makes a File of that with NewFile.
func newFileOver(t *testing.T, data []byte) (*os.File, *File) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	osf, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { osf.Close() })
	f, err := NewFile(osf)
	if errors.Is(err, ErrNoDirectIO) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return osf, f
}
