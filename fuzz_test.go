// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The errnos the kernel may answer a fuzzed request with, at Submit and in
// the event; anything else fails the fuzz test.
var (
	fuzzSubmitErrnos = []unix.Errno{unix.EBADF, unix.EINVAL, unix.EOPNOTSUPP, unix.EPERM}
	fuzzEventErrnos  = []unix.Errno{unix.EINVAL, unix.EAGAIN, unix.EFBIG, unix.EBADF, unix.ESPIPE,
		unix.EOPNOTSUPP, unix.ENOSPC, unix.EINTR}
)

// fuzzEnv is what every fuzz input runs against, set up once per process:
// io_destroy takes tens of milliseconds, far too long for each input.
type fuzzEnv struct {
	c        *IoContext
	dir      string
	file     string
	rd, wr   int // the test file, and a read-only descriptor of it
	direct   int // the same file with O_DIRECT, or -1
	pr, pw   int // a non-blocking pipe
	efd      int
	closedFd int
	mem      []byte // AllocBuffer memory: data for writes, room for reads
	iovs     []unix.Iovec
}

var (
	fuzzOnce sync.Once
	fuzzE    *fuzzEnv
	fuzzErr  error
)

const fuzzBuf = 16384

func setupFuzz() (*fuzzEnv, error) {
	fuzzOnce.Do(func() {
		e := &fuzzEnv{direct: -1}
		if e.dir, fuzzErr = os.MkdirTemp("", "aio-fuzz-"); fuzzErr != nil {
			return
		}
		e.file = filepath.Join(e.dir, "data")
		if e.wr, fuzzErr = unix.Open(e.file, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600); fuzzErr != nil {
			return
		}
		if e.rd, fuzzErr = unix.Open(e.file, unix.O_RDONLY|unix.O_CLOEXEC, 0); fuzzErr != nil {
			return
		}
		if fd, err := OpenDirect(e.file, unix.O_RDWR, 0); err == nil {
			e.direct = fd
		}
		var p [2]int
		if fuzzErr = unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); fuzzErr != nil {
			return
		}
		e.pr, e.pw = p[0], p[1]
		if e.efd, fuzzErr = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); fuzzErr != nil {
			return
		}
		// A descriptor that is not open: a closed one could be reused by
		// the fuzzing engine's own files, and then written to.
		e.closedFd = 1<<31 - 1
		if e.mem, fuzzErr = AllocBuffer(2 * fuzzBuf); fuzzErr != nil {
			return
		}
		e.iovs = make([]unix.Iovec, 4)
		if e.c, fuzzErr = NewIoContext(64); fuzzErr != nil {
			return
		}
		fuzzE = e
	})
	return fuzzE, fuzzErr
}

// decoder hands out the fuzz input a piece at a time, and zeros after it.
type decoder struct{ b []byte }

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u16() uint16 { return uint16(d.byte()) | uint16(d.byte())<<8 }
func (d *decoder) u64() uint64 {
	return uint64(d.u16()) | uint64(d.u16())<<16 | uint64(d.u16())<<32 | uint64(d.u16())<<48
}

// fileModel is what the test file must hold: the bytes written, zeros
// elsewhere, up to size.
type fileModel struct {
	size  int64
	bytes map[int64]byte
}

func (m *fileModel) write(off int64, data []byte) {
	if len(data) == 0 {
		return // an empty write does not extend the file
	}
	for i, b := range data {
		m.bytes[off+int64(i)] = b
	}
	m.size = max(m.size, off+int64(len(data)))
}

func (m *fileModel) read(off int64, n int) []byte {
	if off >= m.size {
		return nil
	}
	n = int(min(int64(n), m.size-off))
	out := make([]byte, n)
	for i := range out {
		out[i] = m.bytes[off+int64(i)]
	}
	return out
}

// FuzzSubmit drives the prep helpers and Submit with random opcodes, file
// descriptors, offsets, lengths and flags against a file and a pipe, one
// request at a time. Nothing may crash or hang, every error must be one the
// kernel documents for the case, and the file must hold exactly what the
// completed writes put there.
func FuzzSubmit(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 1})                   // write
	f.Add([]byte{1, 0, 0, 8, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0}) // write, read
	f.Add([]byte{8, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})  // pwritev, preadv
	f.Add([]byte{5, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 3, 4, 0})        // polls
	f.Add([]byte{1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 16, 2, 255, 255, 255, 3, 2, 3})             // direct, flags
	f.Add(bytes.Repeat([]byte{0xff, 0x80, 0x7f, 0x01}, 20))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := setupFuzz()
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Ftruncate(e.wr, 0); err != nil {
			t.Fatal(err)
		}
		model := &fileModel{bytes: map[int64]byte{}}
		d := &decoder{data}
		for op := 0; op < 8 && len(d.b) > 0; op++ {
			fuzzOne(t, e, d, model)
		}
		checkModel(t, e, model)
	})
}

// fuzzOne decodes one request from the input, submits it, reaps it and
// holds the outcome against the model, in the four steps below.
func fuzzOne(t *testing.T, e *fuzzEnv, d *decoder, model *fileModel) {
	t.Helper()
	req := decodeRequest(e, d)
	decodeOptions(e, d, req.cb)
	ev, ok := submitFuzzed(t, e, req.cb)
	if ok {
		checkFuzzed(t, e, model, req, ev)
	}
}

// fuzzReq is a request that decodeRequest built, with what it takes to
// judge its outcome.
type fuzzReq struct {
	cb     *IoControlBlock
	opcode uint16
	fd     int
	sel    int // the index of fd among the candidates
	length int
	off    int64
	data   []byte   // what a write carries
	room   []byte   // where a read lands
	segs   [][]byte // what a vectored request transfers, in order
}

// decodeRequest takes from the input an opcode, a descriptor, a length,
// an offset and a fill byte, and prepares a block with them.
func decodeRequest(e *fuzzEnv, d *decoder) *fuzzReq {
	r := &fuzzReq{cb: new(IoControlBlock)}
	r.opcode = uint16(d.byte())
	if r.opcode >= 9 {
		r.opcode = d.u16() // anything at all
	}
	fds := []int{e.wr, e.direct, e.rd, e.pr, e.pw, e.closedFd, -1, e.efd}
	r.sel = int(d.byte()) % len(fds)
	r.fd = fds[r.sel]
	if r.fd < 0 && r.sel == 1 {
		r.fd = e.wr // no O_DIRECT here
	}
	r.length = int(d.u16()) % (fuzzBuf + 1)
	if mode := d.byte(); mode < 200 {
		r.off = int64(d.u16()) * int64(mode%16+1) // small: in and around the file
		if r.sel == 1 {
			r.off &^= 511
			r.length &^= 511
		}
	} else {
		r.off = int64(d.u64()) // anywhere, negative included
	}
	fill := d.byte()
	r.data = e.mem[:fuzzBuf]
	for i := range r.data {
		r.data[i] = fill + byte(i*7)
	}
	r.room = e.mem[fuzzBuf : 2*fuzzBuf]
	clear(r.room)

	cb, fd, off := r.cb, r.fd, r.off
	switch r.opcode {
	case IOCB_CMD_PREAD:
		cb.PrepPread(fd, r.room[:r.length], off)
	case IOCB_CMD_PWRITE:
		cb.PrepPwrite(fd, r.data[:r.length], off)
	case IOCB_CMD_PREADV, IOCB_CMD_PWRITEV:
		n := int(d.byte()) % (len(e.iovs) + 1)
		src := r.room
		if r.opcode == IOCB_CMD_PWRITEV {
			src = r.data
		}
		per := r.length / max(n, 1)
		for i := 0; i < n; i++ {
			seg := src[i*per : (i+1)*per]
			if per > 0 {
				e.iovs[i].Base = &seg[0]
			} else {
				e.iovs[i].Base = nil
			}
			e.iovs[i].SetLen(per)
			r.segs = append(r.segs, seg)
		}
		if r.opcode == IOCB_CMD_PREADV {
			cb.PrepPreadv(fd, e.iovs[:n], off)
		} else {
			cb.PrepPwritev(fd, e.iovs[:n], off)
		}
	case IOCB_CMD_FSYNC:
		cb.PrepFsync(fd)
	case IOCB_CMD_FDSYNC:
		cb.PrepFdsync(fd)
	case IOCB_CMD_POLL:
		cb.PrepPoll(fd, int16(d.u16()))
	default: // NOOP, 4, and everything else: no memory attached
		cb.LioOpcode, cb.Fildes, cb.Offset = r.opcode, uint32(fd), off
	}
	return r
}

// decodeOptions takes from the input the request's options: RWF flags,
// known and unknown, an eventfd or a descriptor that is not one, an I/O
// priority, and a non-zero Reserved2.
func decodeOptions(e *fuzzEnv, d *decoder, cb *IoControlBlock) {
	flags := d.byte()
	if flags&1 != 0 {
		cb.RwFlags = int32(d.u16()) // known RWF bits and unknown ones
		if flags&2 != 0 {
			cb.RwFlags |= 1 << 30
		}
	}
	if flags&4 != 0 {
		resfd := e.efd
		if flags&8 != 0 {
			resfd = e.wr // not an eventfd
		}
		cb.SetEventfd(resfd)
	}
	if flags&16 != 0 {
		cb.SetIoprio(int(d.byte()%5), int(d.byte()%9))
	}
	if flags&32 != 0 {
		cb.Reserved2 = uint64(d.byte()) + 1
	}
	cb.Data = 0xfeed
}

// submitFuzzed submits the block and reaps its completion. It reports false
// when Submit refused the block, with an error it documents; any other
// outcome of Submit fails the test.
func submitFuzzed(t *testing.T, e *fuzzEnv, cb *IoControlBlock) (IoEvent, bool) {
	t.Helper()
	n, err := e.c.Submit([]*IoControlBlock{cb})
	if os.Getenv("FUZZ_DEBUG") != "" {
		t.Logf("submit %+v -> %d, %v", *cb, n, err)
	}
	if err != nil {
		var errno unix.Errno
		if n != 0 || !errors.As(err, &errno) || !slices.Contains(fuzzSubmitErrnos, errno) {
			t.Fatalf("Submit(%+v) = %d, %v: not a documented error", *cb, n, err)
		}
		return IoEvent{}, false
	}
	if n != 1 {
		t.Fatalf("Submit = %d, nil", n)
	}
	ev := fuzzReap(t, e, cb)
	if ev.Data != 0xfeed || ev.Obj != uint64(uintptr(unsafe.Pointer(cb))) {
		t.Fatalf("event %+v is not the request's", ev)
	}
	return ev, true
}

// checkFuzzed holds a completion against the model: a failure must be a
// documented errno (and a failed write may have written part of its data);
// a write brings the model up to date, and a read must return what the
// model holds.
func checkFuzzed(t *testing.T, e *fuzzEnv, model *fileModel, r *fuzzReq, ev IoEvent) {
	t.Helper()
	cb, opcode := r.cb, r.opcode
	debug := os.Getenv("FUZZ_DEBUG") != ""
	file := r.fd == e.wr || r.fd == e.rd || r.fd == e.direct
	if ev.Res < 0 {
		if debug {
			t.Logf("-> Res %d", ev.Res)
		}
		if errno := ev.Err(); errno == nil || !slices.Contains(fuzzEventErrnos, errno.(unix.Errno)) {
			t.Fatalf("request %+v completed with Res %d: not a documented error", *cb, ev.Res)
		}
		if file && (opcode == IOCB_CMD_PWRITE || opcode == IOCB_CMD_PWRITEV) {
			attempted := r.data[:r.length]
			if opcode == IOCB_CMD_PWRITEV {
				attempted = bytes.Join(r.segs, nil)
			}
			reconcileFailedWrite(t, e, model, r.off, attempted)
		}
		return
	}
	if debug {
		t.Logf("op %d fd sel %d off %d len %d flags %#x rw %#x -> Res %d", opcode, r.sel, r.off, r.length, cb.Flags, cb.RwFlags, ev.Res)
	}
	if !file {
		return
	}
	where := r.off
	if cb.RwFlags&unix.RWF_APPEND != 0 {
		where = model.size
	}
	switch opcode {
	case IOCB_CMD_PWRITE:
		model.write(where, r.data[:ev.Res])
	case IOCB_CMD_PWRITEV:
		model.write(where, bytes.Join(r.segs, nil)[:ev.Res])
	case IOCB_CMD_PREAD:
		checkRead(t, cb, r.room[:ev.Res], model.read(r.off, r.length))
	case IOCB_CMD_PREADV:
		all := bytes.Join(r.segs, nil)
		checkRead(t, cb, all[:ev.Res], model.read(r.off, len(all)))
	}
}

// reconcileFailedWrite brings the model up to date after a write that
// failed: the kernel may still have written part of it (the second finding
// of the fuzz target: an O_DIRECT PWRITEV on ext4 whose segments were not
// block-aligned changed the file and completed with -EINVAL). Each byte of
// the range must hold either what it held or what the write carried; the
// model takes what the file holds.
func reconcileFailedWrite(t *testing.T, e *fuzzEnv, m *fileModel, off int64, data []byte) {
	t.Helper()
	if off < 0 || len(data) == 0 || off > 1<<40 {
		return
	}
	var st unix.Stat_t
	if err := unix.Fstat(e.wr, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size < m.size || st.Size > max(m.size, off+int64(len(data))) {
		t.Fatalf("a failed write of %d bytes at %d left the file %d bytes long, the model %d",
			len(data), off, st.Size, m.size)
	}
	got := make([]byte, len(data))
	n, err := unix.Pread(e.rd, got, off)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:n]
	old := m.read(off, len(data))
	for i, b := range got {
		was := byte(0)
		if i < len(old) {
			was = old[i]
		}
		if b != was && b != data[i] {
			t.Fatalf("a failed write at %d left byte %d holding neither its old value nor the written one", off, i)
		}
		if b != was || i < len(old) {
			m.bytes[off+int64(i)] = b
		}
	}
	m.size = st.Size
}

// checkRead holds what a read returned against the model: the same bytes,
// as many as the file has there, or fewer with RWF_NOWAIT, which returns
// what it can without waiting (the first finding of the fuzz target, after
// an RWF_DONTCACHE write had left part of the range out of the cache).
func checkRead(t *testing.T, cb *IoControlBlock, got, want []byte) {
	t.Helper()
	if cb.RwFlags&unix.RWF_NOWAIT != 0 && len(got) < len(want) {
		want = want[:len(got)]
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read of %d bytes at %d (flags %#x) returned %d bytes, unlike the %d of the model",
			cb.Nbytes, cb.Offset, cb.RwFlags, len(got), len(want))
	}
}

// fuzzReap returns the request's completion; a poll that is still waiting
// after a moment is cancelled first.
func fuzzReap(t *testing.T, e *fuzzEnv, cb *IoControlBlock) IoEvent {
	t.Helper()
	events := make([]IoEvent, 1)
	ts := unix.NsecToTimespec(int64(time.Millisecond))
	if n, err := e.c.GetEvents(1, events, &ts); err != nil || n == 1 {
		if err != nil {
			t.Fatalf("GetEvents: %v", err)
		}
		return events[0]
	}
	if cb.LioOpcode == IOCB_CMD_POLL {
		if err := e.c.Cancel(cb, nil); err != nil && !errors.Is(err, unix.EINVAL) {
			t.Fatalf("Cancel of a pending poll: %v", err)
		}
	}
	ts = unix.NsecToTimespec(int64(10 * time.Second))
	n, err := e.c.GetEvents(1, events, &ts)
	if err != nil || n != 1 {
		t.Fatalf("request %+v did not complete: %d, %v", *cb, n, err)
	}
	return events[0]
}

// checkModel holds the whole file against the model.
func checkModel(t *testing.T, e *fuzzEnv, m *fileModel) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(e.wr, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != m.size {
		t.Fatalf("file size %d, model %d", st.Size, m.size)
	}
	// A small file is compared whole; a sparse large one byte by byte where
	// it was written, and in full over its first 2 MiB.
	head := min(m.size, 2<<20)
	buf := make([]byte, head)
	if n, err := unix.Pread(e.rd, buf, 0); err != nil || int64(n) != head {
		t.Fatalf("pread of %d bytes = %d, %v", head, n, err)
	}
	if want := m.read(0, int(head)); !bytes.Equal(buf, want) {
		i := 0
		for i < len(buf) && buf[i] == want[i] {
			i++
		}
		t.Fatalf("the file differs from the model from byte %d of %d", i, len(buf))
	}
	one := make([]byte, 1)
	for off, b := range m.bytes {
		if off < head {
			continue
		}
		if n, err := unix.Pread(e.rd, one, off); n != 1 || err != nil || one[0] != b {
			t.Fatalf("file byte at %d differs from the model", off)
		}
	}
}
