// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// chaosOps is the number of operations of TestChaos, and the time after
// which it stops short of them (0: none); AIO_CHAOS_OPS sets another
// number, with no time limit, for runs by hand. The limit keeps the suite
// short in emulated VMs, where 3000 operations take 15 s or more.
func chaosOps() (int64, time.Duration) {
	if v, err := strconv.ParseInt(os.Getenv("AIO_CHAOS_OPS"), 10, 64); err == nil && v > 0 {
		return v, 0
	}
	if raceEnabled || testing.Short() {
		return 1000, 5 * time.Second
	}
	return 3000, 5 * time.Second
}

// chaosOwner is one goroutine of TestChaos: its bytes of the file, as the
// model says, and those that a cancelled write left either old or new.
type chaosOwner struct {
	g         int
	uncertain map[int][]byte // byte offset: every value it may hold
}

// TestChaos runs 64 goroutines on one File doing random ReadAt, WriteAt
// (aligned and not, sharing blocks with their neighbours), Sync and calls
// whose context is done before or while they run, while the process is
// sent signals at a high rate and the File is closed at a random moment,
// again and again over epochs. Each goroutine owns stripes of the file
// that share blocks with the others': it checks every read, and its whole
// share after every Sync, against a model in which a cancelled write
// leaves each byte of its unfinished part either old or new. After each
// Close the whole file is checked. Memory held by the File's own buffers
// stays bounded: the bounce pool keeps at most maxKept bytes, and the
// heap in use is sampled.
func TestChaos(t *testing.T) {
	const goroutines, stripe, stripesEach = 64, 13000, 4
	const size = goroutines * stripe * stripesEach // 3328000: a partial last block
	total, budget := chaosOps()
	epochOps := max(min(total/3, 5000), 1)
	f0, data := openTestFile(t, size)
	name := f0.Name()
	if err := f0.Close(); err != nil {
		t.Fatal(err)
	}
	model := bytes.Clone(data)
	owners := make([]*chaosOwner, goroutines)
	for g := range owners {
		owners[g] = &chaosOwner{g: g, uncertain: map[int][]byte{}}
	}

	// Signals: SIGURG (the runtime's own preemption signal) and SIGWINCH,
	// handled through signal.Notify, sent to the process at a high rate.
	winch := make(chan os.Signal, 64)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	var signals atomic.Int64
	stopSignals := make(chan struct{})
	signalsDone := make(chan struct{})
	go func() {
		defer close(signalsDone)
		pid := os.Getpid()
		for i := 0; ; i++ {
			select {
			case <-stopSignals:
				return
			case <-winch:
			default:
			}
			sig := syscall.SIGURG
			if i%2 == 1 {
				sig = syscall.SIGWINCH
			}
			if syscall.Kill(pid, sig) == nil {
				signals.Add(1)
			}
			time.Sleep(20 * time.Microsecond)
		}
	}()
	defer func() {
		close(stopSignals)
		<-signalsDone
	}()

	var (
		ops, cancelled, doneCtx, closedCalls, syncs, checks atomic.Int64
		maxHeap, maxKeptSeen                                atomic.Uint64
	)
	start := time.Now()
	epochs := 0
	var firstLive, maxLive uint64
	overBudget := func() bool { return budget > 0 && time.Since(start) > budget }
	for ops.Load() < total && !t.Failed() && !overBudget() {
		epochs++
		f, err := Open(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		closeAt := ops.Load() + epochOps/2 + rand.Int64N(epochOps/2+1)
		closeAt = min(closeAt, total)
		stopSample := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			var ms runtime.MemStats
			for {
				f.bounce.mu.Lock()
				kept := uint64(f.bounce.kept)
				f.bounce.mu.Unlock()
				if kept > maxKeptSeen.Load() {
					maxKeptSeen.Store(kept)
				}
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > maxHeap.Load() {
					maxHeap.Store(ms.HeapInuse)
				}
				select {
				case <-stopSample:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
		var closer sync.WaitGroup
		closer.Go(func() {
			for ops.Load() < closeAt && !t.Failed() && !overBudget() {
				time.Sleep(50 * time.Microsecond)
			}
			if err := f.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		var wg sync.WaitGroup
		for g := range goroutines {
			o := owners[g]
			seed := uint64(epochs)
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(o.g), seed))
				for !t.Failed() {
					ctx, cancel := context.Background(), context.CancelFunc(func() {})
					faulty := rng.IntN(4) == 0
					if faulty {
						doneCtx.Add(1)
						if rng.IntN(4) == 0 {
							ctx, cancel = context.WithCancel(ctx)
							cancel()
						} else {
							ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(300))*time.Microsecond)
						}
					}
					ok := o.step(t, f, ctx, rng, model, &cancelled, &syncs, &checks)
					cancel()
					if !ok {
						closedCalls.Add(1)
						return
					}
					ops.Add(1)
				}
			})
		}
		wg.Wait()
		closer.Wait()
		close(stopSample)
		sampler.Wait()
		if t.Failed() {
			break
		}
		// The whole file, read with plain reads after Close.
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != size {
			t.Fatalf("epoch %d: the file is %d bytes; want %d", epochs, len(got), size)
		}
		for _, o := range owners {
			o.check(t, got, 0, model, "after Close")
		}
		if t.Failed() {
			break
		}
		// What stays live after a Close: flat however long the run.
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if epochs == 1 {
			firstLive = ms.HeapAlloc
		}
		maxLive = max(maxLive, ms.HeapAlloc)
	}
	el := time.Since(start)
	t.Logf("%d operations in %.1fs over %d epochs (a Close at a random moment in each): "+
		"%d signals sent, %d calls with a context done before or during them, %d returned ctx.Err(), "+
		"%d Syncs, %d checks of a share after a Sync, %d calls refused after Close, 0 mismatches; "+
		"bounce pool kept at most %d bytes (bound %d), heap in use at most %.1f MiB, "+
		"live heap after a Close %.1f MiB after the first epoch, at most %.1f MiB",
		ops.Load(), el.Seconds(), epochs, signals.Load(), doneCtx.Load(), cancelled.Load(),
		syncs.Load(), checks.Load(), closedCalls.Load(), maxKeptSeen.Load(), maxKept,
		float64(maxHeap.Load())/(1<<20), float64(firstLive)/(1<<20), float64(maxLive)/(1<<20))
	if maxKeptSeen.Load() > maxKept {
		t.Errorf("the bounce pool kept %d bytes; the bound is %d", maxKeptSeen.Load(), maxKept)
	}
	if maxHeap.Load() > 256<<20 {
		t.Errorf("%d bytes of heap in use", maxHeap.Load())
	}
	if maxLive > firstLive+16<<20 {
		t.Errorf("live heap grew from %d to %d bytes over the run", firstLive, maxLive)
	}
}

// step does one random operation; it reports false when the File was
// closed.
func (o *chaosOwner) step(t *testing.T, f *File, ctx context.Context, rng *rand.Rand, model []byte,
	cancelled, syncs, checks *atomic.Int64) bool {
	const goroutines, stripe, stripesEach = 64, 13000, 4
	s := (rng.IntN(stripesEach)*goroutines + o.g) * stripe
	off := s + rng.IntN(stripe)
	n := 1 + rng.IntN(s+stripe-off)
	misalign := rng.IntN(2) * rng.IntN(4096)
	if rng.IntN(3) == 0 {
		// Aligned: whole blocks of the stripe from aligned memory, which
		// go to the kernel as they are.
		lo, hi := (s+4095)&^4095, (s+stripe)&^4095
		k := (hi - lo) / 4096
		first := rng.IntN(k)
		off, n, misalign = lo+first*4096, (1+rng.IntN(k-first))*4096, 0
	}
	p := at(n, misalign)
	isCtxErr := func(err error) bool {
		return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	}
	switch rng.IntN(5) {
	case 0, 1:
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		m, err := f.WriteAtContext(ctx, p, int64(off))
		switch {
		case errors.Is(err, os.ErrClosed):
			if m != 0 {
				t.Errorf("WriteAt after Close wrote %d bytes", m)
			}
			return false
		case err == nil && m == n:
			o.set(model, off, p)
		case isCtxErr(err) && m >= 0 && m <= n:
			cancelled.Add(1)
			o.set(model, off, p[:m])
			o.maybe(model, off+m, p[m:])
			// The call has returned: its bytes are settled. Read them
			// back now, which keeps the uncertain set small.
			q := make([]byte, n)
			if k, err := f.ReadAt(q, int64(off)); k == n && err == nil {
				o.check(t, q, off, model, "after a cancelled WriteAt")
			} else if !errors.Is(err, os.ErrClosed) {
				t.Errorf("ReadAt after a cancelled WriteAt = %d, %v", k, err)
			}
		default:
			t.Errorf("WriteAtContext(%d bytes at %d) = %d, %v", n, off, m, err)
		}
	case 2, 3:
		m, err := f.ReadAtContext(ctx, p, int64(off))
		switch {
		case errors.Is(err, os.ErrClosed):
			return false
		case err == nil && m == n:
			o.check(t, p, off, model, "ReadAt")
		case isCtxErr(err) && m >= 0 && m <= n:
			cancelled.Add(1)
			o.check(t, p[:m], off, model, "a cancelled ReadAt")
			snap := bytes.Clone(p)
			runtime.Gosched()
			time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
			if !bytes.Equal(snap, p) {
				t.Errorf("the buffer of a cancelled ReadAt (%d bytes at %d) changed after it returned", n, off)
			}
		default:
			t.Errorf("ReadAtContext(%d bytes at %d) = %d, %v", n, off, m, err)
		}
	case 4:
		err := f.SyncContext(ctx)
		switch {
		case errors.Is(err, os.ErrClosed):
			return false
		case isCtxErr(err):
			cancelled.Add(1)
		case err != nil:
			t.Errorf("Sync: %v", err)
		default:
			syncs.Add(1)
			// The whole share, read back.
			for k := range stripesEach {
				s := (k*goroutines + o.g) * stripe
				q := make([]byte, stripe)
				m, err := f.ReadAt(q, int64(s))
				if errors.Is(err, os.ErrClosed) {
					return false
				}
				if m != stripe || err != nil {
					t.Errorf("ReadAt after Sync = %d, %v", m, err)
					return true
				}
				o.check(t, q, s, model, "after a Sync")
			}
			checks.Add(1)
		}
	}
	return true
}

// set records that the bytes at off hold p.
func (o *chaosOwner) set(model []byte, off int, p []byte) {
	copy(model[off:], p)
	for i := range p {
		delete(o.uncertain, off+i)
	}
}

// maybe records that the bytes at off hold either what they held or p.
func (o *chaosOwner) maybe(model []byte, off int, p []byte) {
	for i, b := range p {
		c, ok := o.uncertain[off+i]
		if !ok {
			c = []byte{model[off+i]}
		}
		o.uncertain[off+i] = append(c, b)
	}
}

// check compares the bytes of o's share in got, which holds the file from
// off, with the model, and settles the uncertain ones to what was read:
// once a call has returned, its bytes do not change any more.
func (o *chaosOwner) check(t *testing.T, got []byte, off int, model []byte, what string) {
	const goroutines, stripe = 64, 13000
	if len(got) == 0 {
		return
	}
	if len(o.uncertain) > 0 {
		// A map keeps its buckets when emptied: start a new one once
		// this check has settled everything.
		defer func() {
			if len(o.uncertain) == 0 {
				o.uncertain = map[int][]byte{}
			}
		}()
	}
	for si := off / stripe; si <= (off+len(got)-1)/stripe; si++ {
		if si%goroutines != o.g {
			continue
		}
		lo, hi := max(si*stripe, off), min((si+1)*stripe, off+len(got))
		if !o.checkRange(t, got[lo-off:hi-off], lo, model, what) {
			return
		}
	}
}

func (o *chaosOwner) checkRange(t *testing.T, got []byte, off int, model []byte, what string) bool {
	if len(o.uncertain) == 0 && bytes.Equal(got, model[off:off+len(got)]) {
		return true
	}
	for i, b := range got {
		at := off + i
		if c, ok := o.uncertain[at]; ok {
			if bytes.IndexByte(c, b) < 0 {
				t.Errorf("%s: byte %d is %#x; a cancelled write left it one of %x", what, at, b, c)
				return false
			}
			model[at] = b
			delete(o.uncertain, at)
			continue
		}
		if model[at] != b {
			t.Errorf("%s: byte %d is %#x; the model says %#x", what, at, b, model[at])
			return false
		}
	}
	return true
}
