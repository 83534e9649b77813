// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

// No build constraint, unlike the package's files: main.go has none, and
// CI vets this command as darwin, windows and freebsd too.

package main

// Disks that misbehave on purpose, for the root package's
// fault_linux_test.go and slow_linux_test.go, which skip unless the
// environment names them:
//
//   - AIO_FAULT_DEV: a 16 MiB raw disk under qemu's blkdebug driver, with
//     the rules of testdata/blkdebug.conf (sectors that fail reads and
//     writes with EIO, flushes that fail), and werror=report,rerror=report
//     so that the guest sees the errors instead of a paused VM;
//   - AIO_SLOW_DEV: qemu's null-co driver, which reads zeros and drops
//     writes after a fixed latency (AIO_SLOW_LATENCY).
//
// The guest gets the variables through /env in the initramfs, which init
// adds to the tests' environment.

import (
	_ "embed"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

//go:embed testdata/blkdebug.conf
var blkdebugRules []byte

var (
	faultArches = flag.String("faults", "arm64", "comma-separated GOARCHes whose VMs get the fault and slow disks")
	slowLatency = flag.Duration("slow-latency", 50*time.Millisecond, "latency of the slow disk")
)

// faultDisks returns the qemu arguments that attach the fault and slow
// disks after disk.img, as /dev/vdb and /dev/vdc, and writes /env into the
// initramfs staging directory; nothing for an architecture not in -faults.
func faultDisks(a vmArch, work, stage string) ([]string, error) {
	if !slices.Contains(strings.Split(*faultArches, ","), a.GOARCH) {
		return nil, nil
	}
	var device string // the virtio-blk device model that disk.img uses
	for _, d := range a.Disk {
		if strings.HasPrefix(d, "virtio-blk") {
			device, _, _ = strings.Cut(d, ",")
		}
	}
	if device == "" {
		return nil, fmt.Errorf("no virtio-blk device in %v", a.Disk)
	}
	rules := filepath.Join(work, "blkdebug.conf")
	if err := os.WriteFile(rules, blkdebugRules, 0o644); err != nil {
		return nil, err
	}
	img := filepath.Join(work, "fault.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		return nil, err
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		return nil, err
	}
	env := fmt.Sprintf("AIO_FAULT_DEV=/dev/vdb\nAIO_SLOW_DEV=/dev/vdc\nAIO_SLOW_LATENCY=%v\n", *slowLatency)
	if err := os.WriteFile(filepath.Join(stage, "env"), []byte(env), 0o644); err != nil {
		return nil, err
	}
	return []string{
		"-drive", fmt.Sprintf("file=blkdebug:%s:%s,if=none,id=fault0,format=raw,cache=writeback,werror=report,rerror=report", rules, img),
		"-device", device + ",drive=fault0,serial=aio-fault",
		"-blockdev", fmt.Sprintf("driver=null-co,node-name=slow0,size=%d,latency-ns=%d,read-zeroes=on", 64<<20, slowLatency.Nanoseconds()),
		"-device", device + ",drive=slow0,serial=aio-slow",
	}, nil
}
