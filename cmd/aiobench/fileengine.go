// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/kernelio/aio"
	"golang.org/x/sys/unix"
)

// ioFile is what the file engine and the pread engine with --fsync drive:
// an *aio.File, or an *os.File.
type ioFile interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Sync() error
}

// runFile is what a Go program does with an aio.File: iodepth goroutines,
// each calling ReadAt or WriteAt on one File (whose Queue has depth
// iodepth) in runPread's loop, and with --fsync N, Sync after every N of its
// writes (--fdatasync does the same: File.Sync is an FDSYNC unless the File
// is opened WithFsync). Each goroutine's buffer is its own aligned part of an
// AllocBuffer mapping, so every transfer goes to the kernel zero-copy.
func runFile(ctx context.Context, cfg *config, size int64, progress *atomic.Int64) (*result, error) {
	opts := []aio.FileOption{aio.WithDepth(cfg.IODepth)}
	if !cfg.Direct {
		opts = append(opts, aio.AllowBuffered())
	}
	f, err := aio.Open(cfg.Filename, os.O_RDWR, 0o644, opts...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := runFiles(ctx, cfg, f, size, progress)
	if res != nil {
		st := f.Stats()
		if q := f.Queue(); q != nil {
			res.setQueueStats(q.Stats())
		}
		res.syncs, res.flushes = int64(st.Syncs), int64(st.Flushes)
	}
	return res, err
}

// runOSFile is the pread engine with --fsync or --fdatasync: iodepth
// goroutines doing (*os.File).ReadAt and WriteAt, each calling
// (*os.File).Sync, which is fsync(2), or fdatasync(2), after every N of its
// writes.
func runOSFile(ctx context.Context, cfg *config, fd int, size int64, progress *atomic.Int64) (*result, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), cfg.Filename)
	defer f.Close()
	var file ioFile = f
	if cfg.Fdatasync > 0 {
		file = datasyncFile{f}
	}
	res, err := runFiles(ctx, cfg, file, size, progress)
	if res != nil {
		res.flushes = res.syncs // every Sync is an fsync(2) of its own
	}
	return res, err
}

// datasyncFile is an *os.File whose Sync is fdatasync(2).
type datasyncFile struct{ *os.File }

// Sync calls fdatasync(2), as (*os.File).Sync calls fsync(2).
func (f datasyncFile) Sync() error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

// runFiles is the loop of runFile and runOSFile. The latency of a write
// that a Sync follows includes the Sync.
func runFiles(ctx context.Context, cfg *config, f ioFile, size int64, progress *atomic.Int64) (*result, error) {
	writes := make([]int, cfg.IODepth)
	syncs := make([]int64, cfg.IODepth)
	res, err := runGoroutines(ctx, cfg, size, progress, func(g int, buf []byte, off int64, write bool) error {
		var n int
		var err error
		if write {
			n, err = f.WriteAt(buf, off)
		} else {
			n, err = f.ReadAt(buf, off)
		}
		if err != nil || n != len(buf) {
			return fmt.Errorf("%w (%d bytes of %d)", err, n, len(buf))
		}
		if write && cfg.syncEvery() > 0 {
			if writes[g]++; writes[g] == cfg.syncEvery() {
				writes[g] = 0
				if err := f.Sync(); err != nil {
					return err
				}
				syncs[g]++
			}
		}
		return nil
	})
	if res != nil {
		for _, n := range syncs {
			res.syncs += n
		}
	}
	return res, err
}
