// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/kernelio/aio"
)

// Read a file from eight goroutines through one Queue: each goroutine
// waits for its own completion, parked, while the Queue batches their
// requests into shared io_submit calls.
func ExampleQueue() {
	f, err := os.CreateTemp("", "aio-queue-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	for i := range 8 {
		fmt.Fprintf(f, "record %d|", i)
	}

	q, err := aio.NewQueue(64)
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	records := make([]string, 8)
	var wg sync.WaitGroup
	for i := range records {
		wg.Go(func() {
			// Request pins buf, and moves it off the goroutine's stack,
			// which may move while the goroutine is parked in Do.
			buf := make([]byte, 9)
			var r aio.Request
			r.PrepPread(int(f.Fd()), buf, int64(i*9))
			ev, err := q.Do(ctx, &r.IoControlBlock)
			r.Release()
			if err != nil {
				log.Fatal(err)
			}
			records[i] = string(buf[:ev.Res])
		})
	}
	wg.Wait()
	fmt.Println(records[0], records[7])
	// Output: record 0| record 7|
}
