// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"fmt"
	"os"
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
