// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

// Command init is PID 1 of the test VMs that internal/vmtest boots: it
// mounts what the tests need, loads the kernel modules listed in /modules,
// mounts the virtio disk if there is one, runs /aio.test with the arguments
// in /args, prints its exit status on the console and powers the VM off.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	code := run()
	fmt.Printf("\nVMTEST-EXIT: %d\n", code)
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {} // PID 1 must not exit
}

func say(format string, a ...any) { fmt.Printf("vmtest: "+format+"\n", a...) }

func run() int {
	for _, m := range []struct{ src, dir, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
	} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.fstype, 0, ""); err != nil {
			say("mount %s: %v", m.dir, err)
			return 125
		}
	}
	if b, err := os.ReadFile("/modules"); err == nil {
		for _, path := range strings.Fields(string(b)) {
			if err := loadModule(path); err != nil {
				say("insmod %s: %v", path, err)
			}
		}
	}
	tmp := "/tmp"
	if disk := waitFor("/dev/vda", 10*time.Second); disk {
		os.MkdirAll("/mnt", 0o755)
		if err := unix.Mount("/dev/vda", "/mnt", "ext4", 0, ""); err != nil {
			say("mount /dev/vda: %v", err)
		} else {
			tmp = "/mnt"
			say("TMPDIR is an ext4 disk: O_DIRECT is tested")
		}
	} else {
		say("no disk: tests that need O_DIRECT skip")
	}
	args := []string{}
	if b, err := os.ReadFile("/args"); err == nil {
		args = strings.Fields(string(b))
	}
	cmd := exec.Command("/aio.test", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	cmd.Env = []string{"TMPDIR=" + tmp, "HOME=/tmp", "PATH=/"}
	cmd.Dir = "/"
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode()
	}
	if err != nil {
		say("running the tests: %v", err)
		return 126
	}
	return 0
}

func loadModule(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.FinitModule(fd, "", 0); err != nil && err != unix.EEXIST {
		return err
	}
	return nil
}

func waitFor(path string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return true
		}
	}
	return false
}
