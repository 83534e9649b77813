// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package aio

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// smallExt4 makes an ext4 file system of size bytes on a loop device over
// a file, mounts it in a test directory and returns that directory; it
// skips the test where that cannot be done (not root, no loop devices, no
// mkfs.ext4).
func smallExt4(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts an ext4 file system on a loop device")
	}
	for _, bin := range []string{"mkfs.ext4", "losetup"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s: %v", bin, err)
		}
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	// 4 KiB blocks and no reserved blocks: the free space is what is left.
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-b", "4096", "-m", "0", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v: %s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(dev, mnt, "ext4", 0, ""); err != nil {
		t.Skipf("mount %s: %v", dev, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return mnt
}

// fillFile writes n bytes of pattern seed to name with plain writes.
func fillFile(t *testing.T, name string, n int, seed uint64) {
	t.Helper()
	data := make([]byte, n)
	for i := 0; i < n/4096; i++ {
		blockPattern(data[i*4096:(i+1)*4096], seed, uint64(i))
	}
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFullFileSystem fills a small ext4 with O_DIRECT writes: the writes
// past the free space complete with ENOSPC, in IoEvent.Res through an
// IoContext and from File.WriteAt, what was written before reads back
// intact, and space freed later makes writes succeed again.
func TestFullFileSystem(t *testing.T) {
	const chunk = 64 << 10
	mnt := smallExt4(t, 8<<20)
	// Two files to delete later, for room.
	fillFile(t, filepath.Join(mnt, "spare1"), 1<<20, 90)
	fillFile(t, filepath.Join(mnt, "spare2"), 1<<20, 91)

	// 1. An IoContext: batches of 16 writes of 64 KiB until one completes
	// with ENOSPC.
	name := filepath.Join(mnt, "a")
	fd, err := OpenDirect(name, unix.O_RDWR|unix.O_CREAT, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c := newContext(t, 32)
	buf := make([][]byte, 16)
	for i := range buf {
		buf[i] = alignedGo(chunk, 4096)
	}
	written := map[int64]bool{} // chunks written whole, by index
	var enospc, short int
	for batch := 0; enospc == 0; batch++ {
		if batch > 16 {
			t.Fatal("no ENOSPC after 16 MiB of writes to an 8 MiB file system")
		}
		cbs := make([]*IoControlBlock, len(buf))
		for i := range cbs {
			idx := uint64(batch*len(buf) + i)
			for b := 0; b < chunk/4096; b++ {
				blockPattern(buf[i][b*4096:(b+1)*4096], 1, idx*chunk/4096+uint64(b))
			}
			cbs[i] = new(IoControlBlock)
			cbs[i].PrepPwrite(fd, buf[i], int64(idx)*chunk)
			cbs[i].Data = idx
		}
		if !submitAll(t, c, cbs) {
			t.FailNow()
		}
		for _, ev := range reap(t, c, len(cbs)) {
			switch {
			case ev.Res == chunk:
				written[int64(ev.Data)] = true
			case ev.Res >= 0:
				short++ // what part was written is not promised
			case errors.Is(ev.Err(), syscall.ENOSPC):
				enospc++
			default:
				t.Fatalf("chunk %d: Res %d (%v); want %d or ENOSPC", ev.Data, ev.Res, ev.Err(), chunk)
			}
		}
	}
	t.Logf("IoContext: %d chunks of 64 KiB written, %d short, %d ENOSPC", len(written), short, enospc)
	checkChunks := func(what string) {
		t.Helper()
		got := alignedGo(chunk, 4096)
		want := make([]byte, chunk)
		for idx := range written {
			ev := reapOne(t, c, readCB(fd, got, idx*chunk, uint64(idx)))
			for b := 0; b < chunk/4096; b++ {
				blockPattern(want[b*4096:(b+1)*4096], 1, uint64(idx)*chunk/4096+uint64(b))
			}
			if ev.Res != chunk || !bytes.Equal(got, want) {
				t.Fatalf("%s: chunk %d reads back %d bytes (%v), equal %v", what, idx, ev.Res, ev.Err(), bytes.Equal(got, want))
			}
		}
	}
	checkChunks("full")

	// 2. A File: free 1 MiB, then WriteAt until ENOSPC.
	if err := os.Remove(filepath.Join(mnt, "spare1")); err != nil {
		t.Fatal(err)
	}
	f, err := Open(filepath.Join(mnt, "b"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	model := []byte{}
	p := at(chunk+100, 0) // aligned head, a partial block at the end
	var fileErr error
	for i := 0; fileErr == nil; i++ {
		if i > 64 {
			t.Fatal("File: no ENOSPC after 4 MiB more")
		}
		for j := range p {
			p[j] = byte(i*31 + j/7)
		}
		off := int64(len(model))
		n, err := f.WriteAt(p, off)
		if err != nil {
			fileErr = err
			if n >= len(p) {
				t.Fatalf("WriteAt = %d, %v: a full count with an error", n, err)
			}
			t.Logf("File: WriteAt at %d = %d, %v", off, n, err)
			model = append(model, p[:n]...)
			break
		}
		model = append(model, p...)
	}
	if !errors.Is(fileErr, syscall.ENOSPC) {
		t.Fatalf("File.WriteAt past the free space: %v; want ENOSPC", fileErr)
	}
	var pe *os.PathError
	if !errors.As(fileErr, &pe) {
		t.Errorf("File.WriteAt error %T is not an *os.PathError", fileErr)
	}
	got := make([]byte, len(model))
	if n, err := f.ReadAt(got, 0); n != len(model) || err != nil || !bytes.Equal(got, model) {
		t.Fatalf("File: what was written reads back as %d bytes, %v, equal %v", n, err, bytes.Equal(got, model))
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync on the full file system: %v", err)
	}
	checkChunks("after the File filled the disk")

	// 3. Free space: the same writes succeed again, on both paths.
	if err := os.Remove(filepath.Join(mnt, "spare2")); err != nil {
		t.Fatal(err)
	}
	off := int64(len(model))
	if n, err := f.WriteAt(p, off); n != len(p) || err != nil {
		t.Fatalf("File.WriteAt after space was freed = %d, %v", n, err)
	}
	model = append(model, p...)
	got = make([]byte, len(model))
	if n, err := f.ReadAtContext(context.Background(), got, 0); n != len(model) || err != nil || !bytes.Equal(got, model) {
		t.Fatalf("File after space was freed: %d, %v, equal %v", n, err, bytes.Equal(got, model))
	}
	var last int64
	for idx := range written {
		last = max(last, idx+1)
	}
	for b := 0; b < chunk/4096; b++ {
		blockPattern(buf[0][b*4096:(b+1)*4096], 1, uint64(last)*chunk/4096+uint64(b))
	}
	ev := reapOne(t, c, writeCB(fd, buf[0], last*chunk, uint64(last)))
	if ev.Res != chunk {
		t.Fatalf("IoContext write after space was freed: Res %d (%v)", ev.Res, ev.Err())
	}
	written[last] = true
	checkChunks("after space was freed")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// reapOne submits cb alone and returns its completion.
func reapOne(t *testing.T, c *IoContext, cb *IoControlBlock) IoEvent {
	t.Helper()
	if !submitAll(t, c, []*IoControlBlock{cb}) {
		t.FailNow()
	}
	return reap(t, c, 1)[0]
}

func writeCB(fd int, buf []byte, off int64, data uint64) *IoControlBlock {
	cb := new(IoControlBlock)
	cb.PrepPwrite(fd, buf, off)
	cb.Data = data
	return cb
}
