// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/kernelio/aio"
	"golang.org/x/sys/unix"
)

// fillPattern fills b, which sits at file offset off, with the pattern that
// --verify checks: every 8-byte word holds a value derived from its own file
// offset, so a block read from the wrong place or not written shows.
func fillPattern(b []byte, off int64) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], patternWord(off+int64(i)))
	}
}

func patternWord(off int64) uint64 { return uint64(off)*0x9e3779b97f4a7c15 ^ 0xa10a10a1 }

// checkPattern returns the file offset of the first word of b, at file
// offset off, that does not hold the pattern, or -1.
func checkPattern(b []byte, off int64) int64 {
	for i := 0; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:]) != patternWord(off+int64(i)) {
			return off + int64(i)
		}
	}
	return -1
}

// openTarget opens (and if need be creates and lays out) the file to test,
// and returns its descriptor and the number of bytes to use.
func openTarget(ctx context.Context, cfg *config) (fd int, size int64, err error) {
	if cfg.tempFile {
		f, err := os.CreateTemp(".", ".aiobench-*.dat")
		if err != nil {
			return -1, 0, fmt.Errorf("creating the test file: %w (pass --filename)", err)
		}
		cfg.Filename = f.Name()
		f.Close()
	}
	flags := unix.O_RDWR | unix.O_CREAT
	if cfg.Direct {
		fd, err = aio.OpenDirect(cfg.Filename, flags, 0o644)
		if errors.Is(err, aio.ErrNoDirectIO) {
			return -1, 0, fmt.Errorf("%s: the file system does not support O_DIRECT (tmpfs, often mounted "+
				"on /tmp, did not before Linux 6.6): run in a directory on a disk, or pass --direct=false", cfg.Filename)
		}
	} else {
		fd, err = unix.Open(cfg.Filename, flags|unix.O_CLOEXEC, 0o644)
	}
	if err != nil {
		return -1, 0, fmt.Errorf("open %s: %w", cfg.Filename, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	have := st.Size
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		// A block device's size is where its end is.
		n, err := unix.Seek(fd, 0, unix.SEEK_END)
		if err != nil {
			unix.Close(fd)
			return -1, 0, err
		}
		have = n
	}
	size = cfg.Size
	if size == 0 {
		size = have
	}
	size -= size % int64(cfg.BS)
	if size < int64(cfg.BS) {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("%s holds %d bytes, less than one block of %d: pass --size", cfg.Filename, have, cfg.BS)
	}
	if have < size && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("%s has %d bytes, --size asks for %d", cfg.Filename, have, size)
	}
	from := have
	if cfg.Verify && cfg.writes() {
		// The blocks the run does not write must hold the pattern too, or
		// the check afterwards finds the file's old contents there.
		from = 0
	}
	if from < size {
		if err := layout(ctx, fd, from, size); err != nil {
			unix.Close(fd)
			return -1, 0, fmt.Errorf("laying out %s: %w", cfg.Filename, err)
		}
	}
	return fd, size, nil
}

// layout writes the pattern from offset from to size, so that reads hit
// written blocks (a hole or a preallocated extent reads back as zeros
// without touching the disk), then syncs.
func layout(ctx context.Context, fd int, from, size int64) error {
	const chunk = 1 << 20
	buf, err := aio.AllocBuffer(chunk)
	if err != nil {
		return err
	}
	defer aio.FreeBuffer(buf)
	from -= from % 4096
	for off := from; off < size; off += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(chunk), size-off)
		n += (4096 - n%4096) % 4096 // O_DIRECT wants whole blocks
		fillPattern(buf[:n], off)
		if _, err := unix.Pwrite(fd, buf[:n], off); err != nil {
			return err
		}
	}
	return unix.Fsync(fd)
}
