// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync"

	"github.com/kernelio/aio"
)

// Write records from many goroutines at any offsets, make them durable with
// one shared flush, and read one back, as with an *os.File.
func ExampleFile() {
	dir, err := os.MkdirTemp("", "aio-file-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// O_DIRECT, through a Queue of the File's own; AllowBuffered falls back
	// to buffered I/O where the file system refuses O_DIRECT.
	f, err := aio.Open(filepath.Join(dir, "log"), os.O_RDWR|os.O_CREATE, 0o600, aio.AllowBuffered())
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			// Records of 10 bytes: neither offsets nor lengths are aligned.
			rec := fmt.Appendf(nil, "record %02d\n", i)
			if _, err := f.WriteAt(rec, int64(i*len(rec))); err != nil {
				log.Fatal(err)
			}
			if err := f.Sync(); err != nil { // concurrent Syncs share flushes
				log.Fatal(err)
			}
		})
	}
	wg.Wait()

	buf := make([]byte, 32)
	n, err := f.ReadAt(buf, 150)
	fmt.Printf("%q %v\n", buf[:n], err == io.EOF)
	// Output: "record 15\n" true
}
