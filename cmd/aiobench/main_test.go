// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags(nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BS != 4096 || cfg.IODepth != 32 || cfg.RW != "randread" || cfg.Runtime != 5*time.Second ||
		!cfg.Direct || cfg.Engine != "aio" || cfg.Size != 256<<20 || !cfg.tempFile || cfg.Batch != 32 ||
		cfg.CompleteMax != 1 || cfg.OutputFormat != "normal" {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg, err = parseFlags(strings.Fields("--bs 64k --size 1g --iodepth=4 --rw randrw --runtime 2 --batch 2 --filename f"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BS != 64<<10 || cfg.Size != 1<<30 || cfg.IODepth != 4 || cfg.RW != "randrw" || cfg.Runtime != 2*time.Second ||
		cfg.Batch != 2 || cfg.Filename != "f" || cfg.tempFile {
		t.Errorf("parsed: %+v", cfg)
	}
	for _, args := range []string{
		"--bogus", "--bs 100", "--bs 0", "--bs x", "--iodepth 0", "--rw sideways", "--runtime -1s",
		"--engine mmap", "--output-format xml", "--size 1k --bs 4k", "--engine pread --batch 4",
		"--engine queue --batch 4", "--engine file --batch 4", "--fsync -1", "--engine aio --fsync 4",
		"--engine queue --fsync 4", "--engine aio --fdatasync 4", "--fsync 4 --fdatasync 4", "--fdatasync -2",
		"--iodepth_batch_complete_max 0", "--batch -1", "extra",
	} {
		if _, err := parseFlags(strings.Fields(args), os.Stderr); err == nil {
			t.Errorf("%q: no error", args)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("%q: %v is not a usage error", args, err)
		}
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--iodepth", "0"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if lines := strings.Count(stderr.String(), "\n"); lines != 1 || !strings.Contains(stderr.String(), "--iodepth") {
		t.Errorf("stderr %q: want one line about --iodepth", stderr.String())
	}
}

// runJSON runs aiobench with args and decodes its JSON report.
func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(args, "--output-format", "json")
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("aiobench %v: exit %d: %s", args, code, stderr.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	return rep
}

func directArgs(t *testing.T) []string {
	// O_DIRECT needs a disk file system; fall back where the test directory
	// has none.
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	var stdout, stderr bytes.Buffer
	if run([]string{"--filename", probe, "--size", "64k", "--runtime", "10ms"}, &stdout, &stderr) != 0 {
		return []string{"--filename", filepath.Join(dir, "data"), "--direct=false"}
	}
	return []string{"--filename", filepath.Join(dir, "data")}
}

func TestJSONOutput(t *testing.T) {
	for _, engine := range []string{"aio", "queue", "file", "pread"} {
		args := append(directArgs(t), "--size", "4M", "--runtime", "200ms", "--iodepth", "4", "--engine", engine)
		rep := runJSON(t, args...)
		iops, _ := rep["iops"].(float64)
		bw, _ := rep["bw_bytes"].(float64)
		ios, _ := rep["ios"].(float64)
		if iops <= 0 || ios <= 0 || bw != iops*4096 {
			t.Errorf("%s: iops %v, bw_bytes %v, ios %v", engine, iops, bw, ios)
		}
		lat, _ := rep["lat_ns"].(map[string]any)
		p50, _ := lat["p50"].(float64)
		p99, _ := lat["p99"].(float64)
		p999, _ := lat["p999"].(float64)
		if p50 <= 0 || p50 > p99 || p99 > p999 {
			t.Errorf("%s: latencies %v", engine, lat)
		}
		for _, k := range []string{"cpu_user_s", "cpu_sys_s"} {
			if v, ok := rep[k].(float64); !ok || v < 0 {
				t.Errorf("%s: %s = %v", engine, k, rep[k])
			}
		}
		// The system calls: counted by the aio engine, from the Queue's
		// counters for queue, none for pread.
		submits, ok1 := rep["io_submit_calls"].(float64)
		getevents, ok2 := rep["io_getevents_calls"].(float64)
		if !ok1 || !ok2 {
			t.Errorf("%s: io_submit_calls %v, io_getevents_calls %v", engine, rep["io_submit_calls"], rep["io_getevents_calls"])
		}
		switch engine {
		case "aio":
			if submits < 1 || submits > ios+1 {
				t.Errorf("aio: %v io_submit calls for %v I/Os", submits, ios)
			}
		case "queue", "file":
			if submits < 1 || submits > ios+4 || getevents != 0 {
				t.Errorf("queue: %v io_submit calls, %v io_getevents calls for %v I/Os", submits, getevents, ios)
			}
		case "pread":
			if submits != 0 || getevents != 0 {
				t.Errorf("pread: %v io_submit calls, %v io_getevents calls", submits, getevents)
			}
		}
		reaps, hasReaps := rep["ring_reaps"].(float64)
		_, hasWaits := rep["eventfd_waits"].(float64)
		if want := engine == "queue" || engine == "file"; hasReaps != want || hasWaits != want || want && reaps < 1 {
			t.Errorf("%s: ring_reaps %v, eventfd_waits %v", engine, rep["ring_reaps"], rep["eventfd_waits"])
		}
		// The main goroutine's thread at least, and pread's 4 goroutines
		// each block one.
		if threads, _ := rep["threads"].(float64); threads < 1 || engine == "pread" && threads < 4 {
			t.Errorf("%s: threads %v", engine, rep["threads"])
		}
		if _, ok := rep["syncs"]; ok {
			t.Errorf("%s: syncs without --fsync", engine)
		}
		params, _ := rep["params"].(map[string]any)
		if params["engine"] != engine || params["rw"] != "randread" || params["bs"] != 4096.0 ||
			params["iodepth"] != 4.0 || params["size"] != float64(4<<20) || params["runtime_s"] != 0.2 {
			t.Errorf("%s: params %v", engine, params)
		}
	}
}

// TestVerify writes random blocks with --verify, which then reads back and
// checks every block of the file.
func TestVerify(t *testing.T) {
	for _, engine := range []string{"aio", "queue", "file"} {
		for _, rw := range []string{"randwrite", "randrw", "write"} {
			args := append(directArgs(t), "--size", "2M", "--runtime", "150ms", "--rw", rw, "--verify", "--engine", engine)
			rep := runJSON(t, args...)
			if got, _ := rep["verified_blocks"].(float64); got != 2<<20/4096 {
				t.Errorf("%s %s: verified %v blocks, want %d", engine, rw, rep["verified_blocks"], 2<<20/4096)
			}
		}
	}
	// An existing file that does not hold the pattern gets it everywhere
	// before the run, so blocks the run does not write pass too.
	args := directArgs(t)
	if err := os.WriteFile(args[1], bytes.Repeat([]byte{0xee}, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := runJSON(t, append(args, "--runtime", "20ms", "--iodepth", "1", "--rw", "randwrite", "--verify")...)
	if got, _ := rep["verified_blocks"].(float64); got != 4<<20/4096 {
		t.Errorf("existing file: verified %v blocks, want %d", rep["verified_blocks"], 4<<20/4096)
	}
	// A block that does not hold its pattern is found.
	args = directArgs(t)
	name := args[1]
	runJSON(t, append(args, "--size", "1M", "--runtime", "50ms", "--rw", "write", "--verify")...)
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("corrupt!"), 5*4096+8)
	f.Close()
	var stdout, stderr bytes.Buffer
	if code := run(append(args, "--size", "1M", "--runtime", "50ms", "--rw", "read", "--verify"), &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "offset 20480") {
		t.Errorf("corrupt block: exit %d, %q", code, stderr.String())
	}
}

// TestTempFile runs as a newcomer would, without --filename: the summary is
// printed and no file is left behind.
func TestTempFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	code := run([]string{"--size", "1M", "--runtime", "100ms"}, &stdout, &stderr)
	if code != 0 {
		if strings.Contains(stderr.String(), "O_DIRECT") {
			t.Skip(stderr.String())
		}
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"IOPS=", "lat (usec): p50=", "cpu: usr=", "threads: ", "syscalls: io_submit="} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "\r") {
		t.Error("progress line written to a pipe")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for v := int64(1); v <= 100000; v++ {
		h.add(v * 1000) // 1us .. 100ms, uniform
	}
	for _, c := range []struct {
		p    float64
		want int64
	}{{0.5, 50e6}, {0.99, 99e6}, {0.999, 99.9e6}} {
		got := h.percentile(c.p)
		if d := float64(got-c.want) / float64(c.want); d < -0.04 || d > 0.04 {
			t.Errorf("p%v = %d, want %d within 4%%", c.p*100, got, c.want)
		}
	}
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1 << 20, 1<<40 + 12345} {
		if lo, hi := lower(bucket(v)), lower(bucket(v)+1); v < lo || v >= hi {
			t.Errorf("%d falls in [%d, %d)", v, lo, hi)
		}
	}
	var empty histogram
	if empty.percentile(0.5) != 0 {
		t.Error("percentile of nothing")
	}
}

// TestFsync runs --fsync on the engines that take it: each goroutine syncs
// after every N writes; the file engine's concurrent Syncs share flushes,
// pread's each make one.
func TestFsync(t *testing.T) {
	for _, c := range []struct{ engine, flag string }{{"file", "--fsync"}, {"pread", "--fsync"}, {"file", "--fdatasync"}, {"pread", "--fdatasync"}} {
		engine := c.engine
		args := append(directArgs(t), "--size", "2M", "--runtime", "300ms", "--iodepth", "8", "--rw", "randwrite",
			c.flag, "4", "--engine", engine, "--verify")
		rep := runJSON(t, args...)
		ios, _ := rep["ios"].(float64)
		syncs, ok1 := rep["syncs"].(float64)
		flushes, ok2 := rep["flushes"].(float64)
		// Each of the 8 goroutines syncs after its 4th, 8th, ... write.
		if !ok1 || !ok2 || syncs < 1 || syncs > ios/4 || syncs < ios/4-8 {
			t.Errorf("%s: %v syncs, %v flushes for %v writes", engine, rep["syncs"], rep["flushes"], ios)
		}
		if engine == "pread" && flushes != syncs || engine == "file" && (flushes < 1 || flushes > syncs) {
			t.Errorf("%s: %v flushes for %v syncs", engine, flushes, syncs)
		}
		if got, _ := rep["verified_blocks"].(float64); got != 2<<20/4096 {
			t.Errorf("%s: verified %v blocks", engine, rep["verified_blocks"])
		}
		if params, _ := rep["params"].(map[string]any); params[c.flag[2:]] != 4.0 {
			t.Errorf("%s: params %v", engine, params)
		}
	}
}

// TestCPUProfile writes a profile that go tool pprof can read.
func TestCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	runJSON(t, append(directArgs(t), "--size", "1M", "--runtime", "100ms", "--engine", "queue", "--cpuprofile", prof)...)
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	// A profile is gzipped protocol buffers.
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("%s: %d bytes, not gzip", prof, len(b))
	}
}

func TestThreadSampler(t *testing.T) {
	if n := parseThreads([]byte("Name:\tx\nUmask:\t0022\nThreads:\t17\nSigQ:\t0/1\n")); n != 17 {
		t.Errorf("parseThreads: %d, want 17", n)
	}
	if n := parseThreads([]byte("Name:\tx\n")); n != 0 {
		t.Errorf("parseThreads without Threads: %d, want 0", n)
	}
	s := startThreadSampler()
	time.Sleep(3 * threadInterval)
	if n := s.done(); n < 1 {
		t.Errorf("sampled %d threads", n)
	}
}
