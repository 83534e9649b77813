// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// threadInterval is how often the sampler reads the thread count. Each
// reading of /proc/self/status costs some 20us of CPU, so every 5ms is 0.4%
// of a CPU, charged to every engine alike.
const threadInterval = 5 * time.Millisecond

// threadSampler records the most OS threads the process had while it ran:
// Threads: of /proc/self/status, read every threadInterval by a goroutine of
// its own.
type threadSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	max  int
}

// startThreadSampler takes a first sample and starts sampling.
func startThreadSampler() *threadSampler {
	t := &threadSampler{stop: make(chan struct{}), max: threadCount()}
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
				t.max = max(t.max, threadCount())
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
	return max(t.max, threadCount())
}

// threadCount returns the process's number of threads, or 0 if it cannot
// be read.
func threadCount() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
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
