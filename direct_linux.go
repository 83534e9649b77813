// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

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
