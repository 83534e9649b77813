package aio

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AllocBuffer returns size bytes of zeroed, page-aligned memory outside the
// Go heap (an anonymous mmap), with the size rounded up to a whole number of
// pages. The garbage collector neither moves nor frees it, so it may be
// handed to the kernel for as long as the caller likes, and its alignment
// suits O_DIRECT on every device whose logical block size is at most a page.
// Free it with FreeBuffer; it is not freed otherwise.
func AllocBuffer(size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("aio: AllocBuffer(%d): size must be positive", size)
	}
	page := os.Getpagesize()
	n := (size + page - 1) / page * page
	if n < size {
		return nil, fmt.Errorf("aio: AllocBuffer(%d): too large", size)
	}
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	buffersMu.Lock()
	buffers[bufferEnd(b)] = b
	buffersMu.Unlock()
	return b, nil
}

// buffers holds every buffer AllocBuffer returned and FreeBuffer has not
// freed, by the address of its end, which every reslice b[i:j] shares.
var (
	buffersMu sync.Mutex
	buffers   = map[uintptr][]byte{}
)

// bufferEnd is the address just past b's capacity.
func bufferEnd(b []byte) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b))) + uintptr(cap(b))
}

// FreeBuffer unmaps a buffer from AllocBuffer, given the buffer or any
// reslice of it that ends where it does: b[i:j] will do, b[i:j:k] with k
// short of the end will not. It unmaps the whole buffer. Using the memory
// afterwards crashes the program, and so would the kernel's writes into it:
// free a buffer only once no request that uses it is in flight. A slice
// that is not (part of) a buffer AllocBuffer returned and FreeBuffer has not
// yet freed gives EINVAL, and nothing is unmapped.
func FreeBuffer(b []byte) error {
	if cap(b) == 0 {
		return unix.EINVAL
	}
	end := bufferEnd(b)
	buffersMu.Lock()
	defer buffersMu.Unlock()
	m, ok := buffers[end]
	if !ok || uintptr(unsafe.Pointer(unsafe.SliceData(b))) < uintptr(unsafe.Pointer(unsafe.SliceData(m))) {
		return unix.EINVAL
	}
	if err := unix.Munmap(m); err != nil {
		return err
	}
	delete(buffers, end)
	return nil
}

// Request is an IoControlBlock that pins the Go memory it points to, with a
// runtime.Pinner, from its Prep call until Release: the garbage collector
// will neither free nor move that memory while the kernel may use it, even
// if the caller lets go of it, and a buffer the compiler would have kept on
// a goroutine stack goes to the heap instead.
//
// Submit &r.IoControlBlock. Call Release once the request's completion has
// been reaped; the next Prep call releases the previous pins itself. A
// Request must not be copied, and must be released before it is dropped:
// the Go runtime panics when it collects a Pinner that still pins memory.
type Request struct {
	IoControlBlock
	pinner runtime.Pinner
}

// PrepPread releases r's pins, prepares a read into buf (see
// IoControlBlock.PrepPread) and pins buf.
func (r *Request) PrepPread(fd int, buf []byte, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPread(fd, buf, offset)
	r.pinBytes(buf)
}

// PrepPwrite releases r's pins, prepares a write of buf and pins buf.
func (r *Request) PrepPwrite(fd int, buf []byte, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPwrite(fd, buf, offset)
	r.pinBytes(buf)
}

// PrepPreadv releases r's pins, prepares a vectored read, and pins the iovec
// array and every buffer it points to.
func (r *Request) PrepPreadv(fd int, iovs []unix.Iovec, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPreadv(fd, iovs, offset)
	r.pinIovecs(iovs)
}

// PrepPwritev releases r's pins, prepares a vectored write, and pins the
// iovec array and every buffer it points to.
func (r *Request) PrepPwritev(fd int, iovs []unix.Iovec, offset int64) {
	r.Release()
	r.IoControlBlock.PrepPwritev(fd, iovs, offset)
	r.pinIovecs(iovs)
}

// PrepFsync releases r's pins and prepares an fsync (see
// IoControlBlock.PrepFsync), which points to no memory.
func (r *Request) PrepFsync(fd int) {
	r.Release()
	r.IoControlBlock.PrepFsync(fd)
}

// PrepFdsync releases r's pins and prepares an fdatasync.
func (r *Request) PrepFdsync(fd int) {
	r.Release()
	r.IoControlBlock.PrepFdsync(fd)
}

// PrepPoll releases r's pins and prepares a poll, which points to no memory.
func (r *Request) PrepPoll(fd int, events int16) {
	r.Release()
	r.IoControlBlock.PrepPoll(fd, events)
}

// Release unpins the memory r pinned. It may be called any number of times.
func (r *Request) Release() { r.pinner.Unpin() }

func (r *Request) pinBytes(b []byte) {
	if len(b) > 0 {
		r.pinner.Pin(&b[0])
	}
}

func (r *Request) pinIovecs(iovs []unix.Iovec) {
	if len(iovs) == 0 {
		return
	}
	r.pinner.Pin(&iovs[0])
	for i := range iovs {
		if iovs[i].Base != nil {
			r.pinner.Pin(iovs[i].Base)
		}
	}
}

// ErrNoDirectIO says that a file system does not support O_DIRECT.
var ErrNoDirectIO = errors.New("aio: the file system does not support O_DIRECT")

// OpenDirect opens path with O_DIRECT (and O_CLOEXEC) added to flags. When
// the file system refuses O_DIRECT (tmpfs before Linux 6.6, some FUSE and
// network file systems), the error says so: it satisfies both
// errors.Is(err, ErrNoDirectIO) and errors.Is(err, unix.EINVAL).
func OpenDirect(path string, flags int, perm uint32) (int, error) {
	fd, err := unix.Open(path, flags|unix.O_DIRECT|unix.O_CLOEXEC, perm)
	if err == unix.EINVAL {
		return -1, fmt.Errorf("%w: open %s: %w", ErrNoDirectIO, path, err)
	}
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// DirectIOAlignment returns the alignments that O_DIRECT I/O on fd needs:
// mem for buffer addresses, offset for file offsets and lengths. It asks
// statx for STATX_DIOALIGN (Linux 6.1 and later, on file systems that report
// it), which also tells when the file cannot do O_DIRECT at all
// (ErrNoDirectIO); else the logical block size of the block device behind
// fd; else 4096, which suits almost every device.
func DirectIOAlignment(fd int) (mem, offset int, err error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN|unix.STATX_TYPE, &stx); err == nil &&
		stx.Mask&unix.STATX_DIOALIGN != 0 {
		if stx.Dio_mem_align == 0 || stx.Dio_offset_align == 0 {
			return 0, 0, ErrNoDirectIO
		}
		return int(stx.Dio_mem_align), int(stx.Dio_offset_align), nil
	}
	if n := logicalBlockSize(fd); n > 0 {
		return n, n, nil
	}
	return 4096, 4096, nil
}

// logicalBlockSize returns the logical block size of the block device fd is,
// or that holds fd's file system, or 0 when it cannot tell.
func logicalBlockSize(fd int) int {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0
	}
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		if n, err := unix.IoctlGetInt(fd, unix.BLKSSZGET); err == nil && n > 0 {
			return n
		}
		return 0
	}
	dev := fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)))
	// A partition has no queue of its own; its disk, one level up, does.
	for _, p := range []string{dev + "/queue/logical_block_size", dev + "/../queue/logical_block_size"} {
		if b, err := os.ReadFile(p); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}
