// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// threadInterval is how often the sampler reads the thread count. A pread
// of /proc/self/status, kept open, costs some 7us of CPU, so every 5ms is
// about 0.2% of a CPU, charged to every engine alike. (os.ReadFile, which
// opens and closes the file each time, cost 8% of the CPU of a queue run
// on the loop device.)
const threadInterval = 5 * time.Millisecond

// threadSampler records the most OS threads the process had while it ran:
// Threads: of /proc/self/status, read every threadInterval by a goroutine of
// its own.
type threadSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	fd   int // /proc/self/status, or -1
	buf  []byte
	max  int
}

// startThreadSampler takes a first sample and starts sampling.
func startThreadSampler() *threadSampler {
	t := &threadSampler{stop: make(chan struct{}), buf: make([]byte, 8192)}
	fd, err := unix.Open("/proc/self/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fd = -1
	}
	t.fd = fd
	t.max = t.count()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(threadInterval)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				t.max = max(t.max, t.count())
			}
		}
	}()
	return t
}

// done stops the sampler, takes a last sample and returns the most threads
// seen. Go's runtime keeps the threads it made, so the last sample alone
// would nearly always be the most; the periodic ones catch threads that
// exited meanwhile (a goroutine locked to its thread that returns).
func (t *threadSampler) done() int {
	close(t.stop)
	t.wg.Wait()
	n := max(t.max, t.count())
	if t.fd >= 0 {
		unix.Close(t.fd)
	}
	return n
}

// count returns the process's number of threads, or 0 if it cannot be
// read.
func (t *threadSampler) count() int {
	if t.fd < 0 {
		return 0
	}
	n, err := unix.Pread(t.fd, t.buf, 0)
	if err != nil {
		return 0
	}
	return parseThreads(t.buf[:n])
}

// parseThreads returns the number on the Threads: line of a
// /proc/PID/status, or 0.
func parseThreads(b []byte) int {
	_, rest, ok := bytes.Cut(b, []byte("\nThreads:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil {
		return 0
	}
	return n
}
