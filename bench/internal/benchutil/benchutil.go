// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

// Package benchutil holds what the comparisons under bench/ share: sizes
// as fio and aiobench write them, the RAM loop device, medians and the
// kernel's name.
package benchutil

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ParseSize reads a size as fio and aiobench do: a number with an optional
// k, m or g (powers of 1024).
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("kmg", t[n-1]); i >= 0 {
			mult, t = int64(1)<<(10*(i+1)), t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("-size: bad size %q", s)
	}
	return v * mult, nil
}

// RAMLoop writes n bytes of data to a file in /dev/shm named after prog
// (real pages, not holes, when fill is set; holes read back faster than
// any device) and attaches a loop device with direct I/O over it: an
// asynchronous device (the loop driver's worker does the copies) fast
// enough that the programs, not the device, set the pace. cleanup detaches
// the device and removes the file. It needs root.
func RAMLoop(prog string, n int64, fill bool) (dev string, cleanup func(), err error) {
	img := filepath.Join("/dev/shm", fmt.Sprintf("%s-%d.img", prog, os.Getpid()))
	f, err := os.Create(img)
	if err != nil {
		return "", nil, err
	}
	if err := layOut(f, n, fill); err != nil {
		f.Close()
		os.Remove(img)
		return "", nil, err
	}
	f.Close()
	out, err := exec.Command("losetup", "--find", "--show", "--direct-io=on", img).Output()
	if err != nil {
		os.Remove(img)
		return "", nil, fmt.Errorf("losetup (run as root): %v", err)
	}
	dev = strings.TrimSpace(string(out))
	return dev, func() {
		exec.Command("losetup", "-d", dev).Run()
		os.Remove(img)
	}, nil
}

// layOut makes f n bytes long, written when fill is set.
func layOut(f *os.File, n int64, fill bool) error {
	if !fill {
		return f.Truncate(n)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i*7 + 1)
	}
	for off := int64(0); off < n; off += int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(int64(len(chunk)), n-off)]); err != nil {
			return err
		}
	}
	return w.Flush()
}

// Median returns the median of v, 0 when v is empty.
func Median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// Kernel names the running kernel, as "Linux 6.18.1".
func Kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "Linux"
	}
	return "Linux " + strings.TrimSpace(string(b))
}
