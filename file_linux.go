// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A File reads and writes a regular file or block device through a Queue,
// with the contracts of io.ReaderAt and io.WriterAt, from any number of
// goroutines at once. It lives in this package, beside the Queue it is
// built on, because it is the layer most programs want: f.ReadAt(buf, off)
// as with an *os.File, with asynchronous O_DIRECT I/O underneath and no
// thread blocked per call.
//
// # Any buffer, offset and length
//
// The File opens with O_DIRECT. A transfer whose memory, offset and length
// are aligned as DirectIOAlignment says goes to the kernel from and into the
// caller's memory, pinned (runtime.Pinner) for the duration; the rest goes
// through buffers the File owns: reads through a bounce buffer, writes as a
// read-modify-write of the blocks at their edges. Two WriteAt calls on
// ranges that do not overlap but share a block never lose each other's
// bytes: the read-modify-write of a block is serialized. A write into the
// last block of the file writes that block whole and cuts the file back to
// its size, which it rereads first, so that what another writer appended
// survives; a file that another writer shrinks while the File is open may
// grow back by up to a block.
//
// # Cancellation
//
// The Context variants return ctx.Err() when ctx is done first, and the
// kernel never writes the caller's memory after a call has returned. A read
// through the File's own buffer returns at once; a request in the kernel on
// the caller's memory, and every write, returns when the kernel has
// finished it: as long as the device takes for one request, which is
// milliseconds on a healthy disk and unbounded on a hung one. What was
// transferred before ctx was done is counted in n.
//
// # Sync and group commit
//
// Concurrent Sync calls share one flush (IOCB_CMD_FDSYNC, or IOCB_CMD_FSYNC
// with WithFsync); each returns once a flush that began after the call began
// has completed, with that flush's error. A failed flush is reported to
// every caller that shared it, and to every Sync that was waiting when it
// failed: Linux reports a writeback error to a file description once, and
// the File hands it on. When the kernel or the file system does not take
// flushes through AIO, the File finds out once and calls fdatasync(2)
// (fsync(2)) instead.
//
// # Errors
//
// Errors are *os.PathError values around the kernel's errno, as from an
// *os.File (errors.Is(err, syscall.EIO) holds), except io.EOF,
// io.ErrShortWrite and ctx.Err(), which come bare. After Close every method
// returns an error satisfying errors.Is(err, os.ErrClosed).
type File struct {
	name     string
	fd       int
	direct   bool
	append   bool
	memAlign int // buffer addresses, for O_DIRECT
	blk      int // offsets and lengths, for O_DIRECT
	q        *Queue
	ownQueue bool
	fsync    bool

	mu     sync.RWMutex // shared by every call, exclusive for Close
	closed bool

	// sizeMu is taken exclusively by writes that reach into the last block
	// of the file or past it, and shared by other writes and by reads that
	// reach past size: such a write may write a partial last block whole,
	// then truncate, and nobody may see the block in between.
	sizeMu sync.RWMutex
	size   atomic.Int64

	blockLocks [64]sync.Mutex // read-modify-write of a block, by block number
	bounce     bouncePool
	pinMu      sync.Mutex
	pinners    []*runtime.Pinner

	syncMu           sync.Mutex
	running, next    *flushRound // the flush under way, the one to start after it
	flushing         bool        // flushRounds is running
	failSeq          uint64      // counts failed flushes
	failErr          error
	unseen           bool // a flush failed while no Sync waited
	flushers         sync.WaitGroup
	aioFlush         atomic.Int32 // 0: not probed, 1: through AIO, 2: fdatasync(2)
	reads, writes    atomic.Uint64
	syncs, flushes   atomic.Uint64
	bounced, rmwDone atomic.Uint64
	flushHook        func() error // tests replace the flush with it
}

// FileStats are a File's counters.
type FileStats struct {
	Reads, Writes uint64 // ReadAt and WriteAt calls
	Syncs         uint64 // Sync calls
	Flushes       uint64 // flushes issued: FDSYNC or FSYNC requests, or fdatasync(2) calls
	Bounced       uint64 // requests that went through the File's own buffers
	RMW           uint64 // read-modify-writes of edge blocks
}

// A FileOption changes how Open and NewFile set a File up.
type FileOption func(*fileOptions)

type fileOptions struct {
	queue    *Queue
	depth    int
	buffered bool
	fsync    bool
}

// WithQueue makes the File use q, shared with other Files, instead of a
// Queue of its own; Close then leaves q open.
func WithQueue(q *Queue) FileOption { return func(o *fileOptions) { o.queue = q } }

// WithDepth sets the depth of the File's own Queue (default 128).
func WithDepth(n int) FileOption { return func(o *fileOptions) { o.depth = n } }

// AllowBuffered makes Open and NewFile fall back to buffered I/O where the
// file system refuses O_DIRECT. The File then reads and writes with
// pread(2) and pwrite(2) on the calling goroutine, as *os.File does, and
// IsDirect reports false.
func AllowBuffered() FileOption { return func(o *fileOptions) { o.buffered = true } }

// WithFsync makes Sync flush metadata too (IOCB_CMD_FSYNC, fsync(2))
// rather than only what is needed to read the data back (FDSYNC).
func WithFsync() FileOption { return func(o *fileOptions) { o.fsync = true } }

// Open opens the named file as os.OpenFile does, and makes a File of it
// with O_DIRECT. When the file system refuses O_DIRECT it fails with an
// error satisfying errors.Is(err, ErrNoDirectIO), unless AllowBuffered is
// given. A file asked for O_WRONLY is opened O_RDWR where the permissions
// allow, because a misaligned write reads the blocks at its edges; where
// they do not, such a write fails with EBADF.
func Open(name string, flag int, perm os.FileMode, opts ...FileOption) (*File, error) {
	fd, err := openRW(name, flag, uint32(perm.Perm()))
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := newFile(name, fd, fileOpts(opts))
	if err != nil && flag&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
		unix.Unlink(name) // it was this call that made it
	}
	return f, err
}

// openRW opens path, for reading too when it is asked for O_WRONLY and the
// permissions allow.
func openRW(path string, flag int, perm uint32) (int, error) {
	if flag&unix.O_ACCMODE == unix.O_WRONLY {
		fd, err := unix.Open(path, flag&^unix.O_ACCMODE|unix.O_RDWR|unix.O_CLOEXEC, perm)
		if err != unix.EACCES {
			return fd, err
		}
	}
	return unix.Open(path, flag|unix.O_CLOEXEC, perm)
}

// NewFile makes a File of f's file, which f keeps: the File opens a file
// description of its own (through /proc/self/fd), with O_DIRECT, so that
// neither f's flags nor its offset change, and closing either leaves the
// other open. Options are as for Open.
func NewFile(f *os.File, opts ...FileOption) (*File, error) {
	defer runtime.KeepAlive(f)
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "fcntl", Path: f.Name(), Err: err}
	}
	keep := flags & (unix.O_ACCMODE | unix.O_APPEND | unix.O_SYNC | unix.O_DSYNC | unix.O_NOATIME)
	fd, err := openRW("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), keep, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: f.Name(), Err: err}
	}
	return newFile(f.Name(), fd, fileOpts(opts))
}

func fileOpts(opts []FileOption) fileOptions {
	o := fileOptions{depth: 128}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// newFile makes a File of fd, which it owns from then on, and turns
// O_DIRECT on; one open call, so that O_CREATE|O_EXCL works with
// AllowBuffered too.
func newFile(name string, fd int, o fileOptions) (*File, error) {
	f := &File{name: name, fd: fd, direct: true, fsync: o.fsync}
	fail := func(err error) (*File, error) {
		unix.Close(fd)
		return nil, err
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fail(&os.PathError{Op: "fcntl", Path: name, Err: err})
	}
	f.append = flags&unix.O_APPEND != 0
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fail(&os.PathError{Op: "stat", Path: name, Err: err})
	}
	size := st.Size
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		// The size of a block device is where it ends; the offset of the
		// File's own description does not matter to pread, pwrite or AIO.
		n, err := unix.Seek(fd, 0, io.SeekEnd)
		if err != nil {
			return fail(&os.PathError{Op: "seek", Path: name, Err: err})
		}
		size = n
	}
	f.size.Store(size)
	noDirect := func(err error) (*File, error) {
		if !o.buffered {
			return fail(fmt.Errorf("%w: open %s: %w", ErrNoDirectIO, name, err))
		}
		f.direct = false
		return f, nil
	}
	if flags&unix.O_DIRECT == 0 {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags|unix.O_DIRECT)
		if err == unix.EINVAL {
			return noDirect(err)
		}
		if err != nil {
			return fail(&os.PathError{Op: "fcntl", Path: name, Err: err})
		}
		flags |= unix.O_DIRECT
	}
	mem, blk, err := DirectIOAlignment(fd)
	if errors.Is(err, ErrNoDirectIO) {
		if _, e := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_DIRECT); e != nil {
			return fail(&os.PathError{Op: "fcntl", Path: name, Err: e})
		}
		return noDirect(unix.EINVAL)
	}
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", name, err))
	}
	f.memAlign, f.blk = max(mem, 1), max(blk, 1)
	if f.blk&(f.blk-1) != 0 || f.memAlign&(f.memAlign-1) != 0 {
		return fail(fmt.Errorf("open %s: O_DIRECT alignment %d/%d is not a power of two", name, mem, blk))
	}
	f.bounce.align = max(f.memAlign, f.blk)
	if o.queue != nil {
		f.q = o.queue
		return f, nil
	}
	q, err := NewQueue(o.depth)
	if err != nil {
		return fail(err)
	}
	f.q, f.ownQueue = q, true
	return f, nil
}

// Name returns the name the File was opened with.
func (f *File) Name() string { return f.name }

// Fd returns the File's descriptor, valid until Close.
func (f *File) Fd() int { return f.fd }

// IsDirect reports whether the File does O_DIRECT I/O through its Queue
// (false when AllowBuffered made it fall back).
func (f *File) IsDirect() bool { return f.direct }

// Queue returns the Queue the File submits to, nil for buffered I/O.
func (f *File) Queue() *Queue { return f.q }

// Stats returns the File's counters.
func (f *File) Stats() FileStats {
	return FileStats{
		Reads: f.reads.Load(), Writes: f.writes.Load(),
		Syncs: f.syncs.Load(), Flushes: f.flushes.Load(),
		Bounced: f.bounced.Load(), RMW: f.rmwDone.Load(),
	}
}

func (f *File) enter() bool {
	f.mu.RLock()
	if f.closed {
		f.mu.RUnlock()
		return false
	}
	return true
}

func (f *File) leave() { f.mu.RUnlock() }

func (f *File) pathErr(op string, err error) error {
	if errno, ok := err.(unix.Errno); ok {
		return &os.PathError{Op: op, Path: f.name, Err: errno}
	}
	return err // ctx.Err(), io.EOF, and errors already wrapped
}

var (
	errNegativeOffset = errors.New("negative offset")
	errAppendWriteAt  = errors.New("WriteAt on a file opened with O_APPEND")
)

// maxTransfer bounds one request on the caller's memory (Linux's own bound
// is a little under 2 GiB), and maxBounce one through the File's buffers.
const (
	maxTransfer = 1 << 30
	maxBounce   = 1 << 20
)

// ReadAt reads len(p) bytes at off, as io.ReaderAt says: n < len(p) only
// with an error, io.EOF at the end of the file.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.ReadAtContext(context.Background(), p, off)
}

// ReadAtContext is ReadAt with a context: see the type's documentation on
// cancellation.
func (f *File) ReadAtContext(ctx context.Context, p []byte, off int64) (n int, err error) {
	if f == nil || !f.enter() {
		return 0, &os.PathError{Op: "read", Path: f.nameOrNil(), Err: os.ErrClosed}
	}
	defer f.leave()
	f.reads.Add(1)
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: f.name, Err: errNegativeOffset}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off > math.MaxInt64-int64(len(p)) {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: unix.EINVAL}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if f.direct && off+int64(len(p)) > f.size.Load() {
		f.sizeMu.RLock()
		defer f.sizeMu.RUnlock()
	}
	for len(p) > 0 {
		var m int
		switch {
		case !f.direct:
			m, err = preadFull(f.fd, p, off)
		case f.aligned(p, off):
			m, err = f.transfer(ctx, IOCB_CMD_PREAD, p[:f.alignedLen(len(p))], off)
		default:
			m, err = f.bounceRead(ctx, p, off)
		}
		n += m
		p, off = p[m:], off+int64(m)
		if err != nil {
			return n, f.pathErr("read", err)
		}
		if m == 0 {
			return n, io.EOF
		}
	}
	return n, nil
}

// WriteAt writes p at off, as io.WriterAt says: n < len(p) only with an
// error.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	return f.WriteAtContext(context.Background(), p, off)
}

// WriteAtContext is WriteAt with a context: see the type's documentation on
// cancellation. A cancelled write may have been done in part.
func (f *File) WriteAtContext(ctx context.Context, p []byte, off int64) (n int, err error) {
	if f == nil || !f.enter() {
		return 0, &os.PathError{Op: "write", Path: f.nameOrNil(), Err: os.ErrClosed}
	}
	defer f.leave()
	f.writes.Add(1)
	switch {
	case f.append:
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errAppendWriteAt}
	case off < 0:
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errNegativeOffset}
	case len(p) == 0:
		return 0, nil
	case off > math.MaxInt64-int64(len(p)):
		return 0, &os.PathError{Op: "write", Path: f.name, Err: unix.EFBIG}
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case !f.direct:
		for n < len(p) && err == nil {
			var m int
			m, err = unix.Pwrite(f.fd, p[n:], off+int64(n))
			if err == unix.EINTR {
				err = nil
			}
			n += max(m, 0)
		}
		return n, f.pathErr("write", err)
	}

	// A write that reaches into the last, partial block of the file, or
	// past it, may write that block whole and must cut the file back.
	end := off + int64(len(p))
	blockEnd := (end + int64(f.blk) - 1) &^ int64(f.blk-1)
	f.sizeMu.RLock()
	extending := blockEnd > f.size.Load()
	if extending {
		f.sizeMu.RUnlock()
		f.sizeMu.Lock()
		defer f.sizeMu.Unlock()
	} else {
		defer f.sizeMu.RUnlock()
	}
	size := f.size.Load()
	if extending {
		// Somebody else (the *os.File that NewFile left its caller) may
		// have made the file longer: never cut that back.
		var st unix.Stat_t
		if e := unix.Fstat(f.fd, &st); e == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > size {
			size = st.Size
			f.size.Store(size)
		}
	}
	for n < len(p) && err == nil {
		var m int
		q, o := p[n:], off+int64(n)
		if f.aligned(q, o) {
			m, err = f.transfer(ctx, IOCB_CMD_PWRITE, q[:f.alignedLen(len(q))], o)
		} else {
			m, err = f.bounceWrite(ctx, q, o, size)
		}
		if m == 0 && err == nil {
			err = io.ErrShortWrite
		}
		n += m
	}
	if extending && n > 0 {
		// A partial last block was written whole: cut the file back.
		newSize := max(size, off+int64(n))
		var st unix.Stat_t
		if e := unix.Fstat(f.fd, &st); e == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > newSize {
			if e := unix.Ftruncate(f.fd, newSize); e != nil && err == nil {
				err = e
			}
		}
		f.size.Store(newSize)
	}
	return n, f.pathErr("write", err)
}

func (f *File) nameOrNil() string {
	if f == nil {
		return "<nil>"
	}
	return f.name
}

// aligned reports whether p at off can go to the kernel as it is.
func (f *File) aligned(p []byte, off int64) bool {
	return len(p) >= f.blk && off&int64(f.blk-1) == 0 &&
		uintptr(unsafe.Pointer(unsafe.SliceData(p)))&uintptr(f.memAlign-1) == 0
}

// alignedLen is the longest aligned transfer of at most n bytes.
func (f *File) alignedLen(n int) int { return min(n, maxTransfer) &^ (f.blk - 1) }

// transfer does one request on the caller's memory, pinned meanwhile, and
// returns what it transferred.
func (f *File) transfer(ctx context.Context, op uint16, p []byte, off int64) (int, error) {
	pin := f.getPinner()
	pin.Pin(unsafe.SliceData(p))
	var cb IoControlBlock
	if op == IOCB_CMD_PREAD {
		cb.PrepPread(f.fd, p, off)
	} else {
		cb.PrepPwrite(f.fd, p, off)
	}
	ev, err := f.q.Do(ctx, &cb)
	pin.Unpin()
	f.putPinner(pin)
	return int(max(ev.Res, 0)), err
}

func (f *File) getPinner() *runtime.Pinner {
	f.pinMu.Lock()
	defer f.pinMu.Unlock()
	if k := len(f.pinners); k > 0 {
		p := f.pinners[k-1]
		f.pinners = f.pinners[:k-1]
		return p
	}
	return new(runtime.Pinner)
}

func (f *File) putPinner(p *runtime.Pinner) {
	f.pinMu.Lock()
	f.pinners = append(f.pinners, p)
	f.pinMu.Unlock()
}

// window returns the aligned range of the file, at most maxBounce long,
// that holds the start of a transfer of n bytes at off: where it starts,
// how far into it off is, and its length.
func (f *File) window(off int64, n int) (start int64, head, length int) {
	start = off &^ int64(f.blk-1)
	head = int(off - start)
	length = min(head+n+f.blk-1, maxBounce) &^ (f.blk - 1)
	return start, head, length
}

// bounceRead reads into p through a buffer of the File's. When ctx is done
// while the request is in the kernel, it returns at once and the buffer
// goes back to the pool when the kernel is done with it.
func (f *File) bounceRead(ctx context.Context, p []byte, off int64) (int, error) {
	f.bounced.Add(1)
	start, head, length := f.window(off, len(p))
	b := f.bounce.get(length)
	var cb IoControlBlock
	cb.PrepPread(f.fd, b.buf[:length], start)
	f.bounce.detached.Add(1)
	ev, err := f.q.DoDetached(ctx, &cb, b.onLate)
	if ev == (IoEvent{}) {
		return 0, err // detached: onLate has the buffer, and calls Done
	}
	f.bounce.detached.Done()
	m := min(int(ev.Res)-head, len(p))
	if m > 0 {
		copy(p, b.buf[head:head+m])
	}
	f.bounce.put(b)
	return max(m, 0), err
}

// bounceWrite writes the start of p at off through a buffer of the File's,
// reading first the blocks at its edges that it covers only in part; size
// is the file's size, beyond which there is nothing to read.
func (f *File) bounceWrite(ctx context.Context, p []byte, off, size int64) (int, error) {
	f.bounced.Add(1)
	start, head, length := f.window(off, len(p))
	m := min(len(p), length-head)
	first, last := start/int64(f.blk), (start+int64(length))/int64(f.blk)-1
	needHead, needTail := head != 0, (head+m)%f.blk != 0
	if needHead || needTail {
		f.rmwDone.Add(1)
		a, b := uint64(first)%uint64(len(f.blockLocks)), uint64(last)%uint64(len(f.blockLocks))
		if !needHead {
			a = b
		} else if !needTail {
			b = a
		}
		if a > b {
			a, b = b, a
		}
		f.blockLocks[a].Lock()
		defer f.blockLocks[a].Unlock()
		if b != a {
			f.blockLocks[b].Lock()
			defer f.blockLocks[b].Unlock()
		}
	}
	buf := f.bounce.get(length)
	defer f.bounce.put(buf)
	edge := func(at int64, dst []byte) error {
		clear(dst)
		if at >= size {
			return nil // past the end: zeros
		}
		var cb IoControlBlock
		cb.PrepPread(f.fd, dst, at)
		_, err := f.q.Do(ctx, &cb) // a short read leaves zeros
		return err
	}
	if needHead {
		if err := edge(start, buf.buf[:f.blk]); err != nil {
			return 0, err
		}
	}
	if needTail && (last != first || !needHead) {
		if err := edge(start+int64(length-f.blk), buf.buf[length-f.blk:length]); err != nil {
			return 0, err
		}
	}
	copy(buf.buf[head:head+m], p[:m])
	var cb IoControlBlock
	cb.PrepPwrite(f.fd, buf.buf[:length], start)
	// Not detached: the edge blocks stay locked until the write is done.
	ev, err := f.q.Do(ctx, &cb)
	done := min(int(ev.Res)-head, m)
	return max(done, 0), err
}

// Sync flushes what the File has written to storage, sharing the flush with
// concurrent Sync calls: see the type's documentation.
func (f *File) Sync() error { return f.SyncContext(context.Background()) }

// SyncContext is Sync with a context. When ctx is done first it returns
// ctx.Err() at once; the flush goes on for the others.
func (f *File) SyncContext(ctx context.Context) error {
	if f == nil || !f.enter() {
		return &os.PathError{Op: "sync", Path: f.nameOrNil(), Err: os.ErrClosed}
	}
	defer f.leave()
	f.syncs.Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	f.syncMu.Lock()
	seq := f.failSeq
	unseen := f.unseen
	if unseen {
		// A flush failed with nobody waiting for it: this call reports it,
		// as fdatasync would have on its next call.
		seq--
		f.unseen = false
	}
	// Join the round that starts next: it begins after this call did.
	r := f.next
	if r == nil {
		r = &flushRound{done: make(chan struct{})}
		f.next = r
	}
	r.waiters++
	if !f.flushing {
		f.flushing = true
		f.flushers.Add(1)
		go f.flushRounds()
	}
	f.syncMu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		f.syncMu.Lock()
		select {
		case <-r.done: // done meanwhile: its result, not ctx.Err()
		default:
			r.waiters--
			f.unseen = f.unseen || unseen
			f.syncMu.Unlock()
			return ctx.Err()
		}
		f.syncMu.Unlock()
	}
	err := r.err
	if err == nil {
		// A flush that failed while this call waited may have lost what
		// it was to make durable: the kernel told only that flush.
		f.syncMu.Lock()
		if f.failSeq != seq {
			err = f.failErr
		}
		f.syncMu.Unlock()
	}
	return f.pathErr("sync", err)
}

// A flushRound is one flush and the Sync calls that wait for it.
type flushRound struct {
	done    chan struct{}
	err     error
	waiters int // Sync calls waiting for it, under syncMu
}

// flushRounds does one flush after another while Sync calls wait for one.
// Before each it lets the goroutines that are ready run, so that those
// about to call Sync join the round rather than wait for the next: with
// aiobench's 64 writers syncing every 16 writes on the virtio disk, flushes
// per Sync went from 0.31 to 0.26 (three interleaved rounds each).
func (f *File) flushRounds() {
	defer f.flushers.Done()
	for {
		runtime.Gosched()
		f.syncMu.Lock()
		r := f.next
		f.running, f.next = r, nil
		if r == nil {
			f.flushing = false
			f.syncMu.Unlock()
			return
		}
		f.syncMu.Unlock()
		var err error
		if f.flushHook != nil {
			err = f.flushHook()
		} else {
			err = f.doFlush()
		}
		f.syncMu.Lock()
		r.err = err
		if err != nil {
			f.failSeq++
			f.failErr = err
			// Waiters on r get err, and those on f.next see failSeq move;
			// with neither, the next Sync must report it.
			if r.waiters == 0 && (f.next == nil || f.next.waiters == 0) {
				f.unseen = true
			}
		}
		close(r.done)
		f.running = nil
		f.syncMu.Unlock()
	}
}

// doFlush flushes once, through AIO unless the kernel has refused that.
func (f *File) doFlush() error {
	f.flushes.Add(1)
	if f.direct && f.aioFlush.Load() != 2 {
		var cb IoControlBlock
		if f.fsync {
			cb.PrepFsync(f.fd)
		} else {
			cb.PrepFdsync(f.fd)
		}
		_, err := f.q.Do(context.Background(), &cb)
		if err != unix.EINVAL || f.aioFlush.Load() == 1 {
			f.aioFlush.CompareAndSwap(0, 1)
			return err
		}
		f.aioFlush.Store(2) // before Linux 4.18, or a file system without it
	}
	for {
		var err error
		if f.fsync {
			err = unix.Fsync(f.fd)
		} else {
			err = unix.Fdatasync(f.fd)
		}
		if err != unix.EINTR {
			return err
		}
	}
}

// Close waits for the File's calls and flushes in progress, closes its
// Queue unless WithQueue gave it, and closes its descriptor. Afterwards
// every method, Close included, returns an error satisfying
// errors.Is(err, os.ErrClosed).
func (f *File) Close() error {
	if f == nil {
		return &os.PathError{Op: "close", Path: "<nil>", Err: os.ErrClosed}
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	f.closed = true
	f.mu.Unlock()
	f.flushers.Wait()
	f.bounce.detached.Wait() // reads that callers left to the kernel
	var err error
	if f.ownQueue {
		err = f.q.Close()
	}
	if e := unix.Close(f.fd); e != nil && err == nil {
		err = &os.PathError{Op: "close", Path: f.name, Err: e}
	}
	return err
}

// preadFull reads until p is full, the end of the file or an error.
func preadFull(fd int, p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pread(fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// bouncePool keeps the File's aligned buffers, by power-of-two size, up to
// a bound on the bytes it keeps: memory held stays bounded however long
// the File runs.
type bouncePool struct {
	align    int
	detached sync.WaitGroup // requests left to the kernel on its buffers
	mu       sync.Mutex
	free     [21][]*bounceBuf // by log2 of the size
	kept     int              // bytes in free
}

// maxKept bounds the bytes a pool keeps for reuse.
const maxKept = 8 << 20

// A bounceBuf is one buffer of the pool.
type bounceBuf struct {
	buf    []byte
	class  int
	pool   *bouncePool
	onLate func(IoEvent) // returns it to the pool: for DoDetached
}

func (p *bouncePool) get(n int) *bounceBuf {
	class := 12
	for 1<<class < n {
		class++
	}
	p.mu.Lock()
	if k := len(p.free[class]); k > 0 {
		b := p.free[class][k-1]
		p.free[class] = p.free[class][:k-1]
		p.kept -= 1 << class
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	b := &bounceBuf{buf: alignedBytes(1<<class, p.align), class: class, pool: p}
	b.onLate = func(IoEvent) {
		p.put(b)
		p.detached.Done()
	}
	return b
}

func (p *bouncePool) put(b *bounceBuf) {
	p.mu.Lock()
	if p.kept+len(b.buf) <= maxKept {
		p.free[b.class] = append(p.free[b.class], b)
		p.kept += len(b.buf)
	}
	p.mu.Unlock()
}

// alignedBytes returns n bytes of Go memory whose address is a multiple of
// align. The heap does not move it; whoever submits it keeps it reachable.
func alignedBytes(n, align int) []byte {
	b := make([]byte, n+align)
	skip := (align - int(uintptr(unsafe.Pointer(&b[0]))&uintptr(align-1))) & (align - 1)
	return b[skip : skip+n : skip+n]
}
