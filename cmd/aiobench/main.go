// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

// Command aiobench measures disk I/O through Linux native AIO (this
// repository's package aio) against what Go programs do today (goroutines
// doing pread), with fio's option names.
//
//	go run ./cmd/aiobench                       # 4 KiB O_DIRECT random reads, depth 32, 5s
//	go run ./cmd/aiobench --engine pread        # the same with 32 goroutines doing pread
//	go run ./cmd/aiobench --engine queue        # 32 goroutines sharing an aio.Queue
//	go run ./cmd/aiobench --engine file --rw randwrite --fsync 16   # aio.File, Sync every 16 writes
//	go run ./cmd/aiobench --rw randwrite --iodepth 1 --runtime 10s --output-format json
//
// Without --filename it creates a 256 MiB file in the current directory
// (not /tmp, often tmpfs) and removes it at the end, and on Ctrl-C.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	// With a single P (GOMAXPROCS=1: taskset -c N, a one-CPU container),
	// Go's sysmon takes the P away from any system call it sees blocked
	// across two of its ticks, 20us apart once it is busy, and the I/O
	// goroutine then hops between threads thousands of times a second. With
	// an idle P to spare, sysmon leaves a system call alone for 10ms. Pinned
	// to one CPU at iodepth 32 this took CPU per I/O from 5.8us to 4.7us.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// report is the JSON output: fio's measures under fio's names where fio has
// them, and the parameters of the run.
type report struct {
	IOPS     float64   `json:"iops"`                      // I/Os per second
	BWBytes  float64   `json:"bw_bytes"`                  // bytes per second
	LatNs    latencies `json:"lat_ns"`                    // completion latency percentiles
	CPUUser  float64   `json:"cpu_user_s"`                // user CPU seconds of the I/O phase
	CPUSys   float64   `json:"cpu_sys_s"`                 // system CPU seconds of the I/O phase
	IOs      int64     `json:"ios"`                       // I/Os completed
	Elapsed  float64   `json:"elapsed_s"`                 // seconds the I/O phase took
	Verified *int64    `json:"verified_blocks,omitempty"` // blocks checked by --verify

	// io_submit calls; io_getevents calls that could enter the kernel (the
	// queue and file engines never call it: their Queue reaps the ring
	// without waiting and parks on an eventfd); 0 and 0 for pread.
	IOSubmitCalls    int64 `json:"io_submit_calls"`
	IOGeteventsCalls int64 `json:"io_getevents_calls"`
	// The Queue's (queue and file engines): reaps of the completion ring,
	// none of which waits, and the times its submitter parked on the
	// eventfd.
	RingReaps    *int64 `json:"ring_reaps,omitempty"`
	EventfdWaits *int64 `json:"eventfd_waits,omitempty"`
	Threads      int    `json:"threads"` // the most OS threads the process had during the run
	// With --fsync or --fdatasync: Sync calls, and the flushes they issued
	// (FDSYNC requests or fdatasync calls for the file engine, whose
	// concurrent Syncs share one; for pread one fsync or fdatasync call per
	// Sync).
	Syncs   *int64 `json:"syncs,omitempty"`
	Flushes *int64 `json:"flushes,omitempty"`

	Params *config `json:"params"` // the run's parameters
}

// latencies are percentiles of the latency of an I/O, from submission to
// reaping, in nanoseconds.
type latencies struct {
	P50  int64 `json:"p50"`  // median
	P99  int64 `json:"p99"`  // 99th percentile
	P999 int64 `json:"p999"` // 99.9th percentile
}

// run is main without the exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "aiobench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench(ctx, cfg, stdout)
	if cfg.tempFile && cfg.Filename != "" {
		os.Remove(cfg.Filename)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "aiobench: interrupted")
		return 130
	}
	if err != nil {
		fmt.Fprintf(stderr, "aiobench: %v\n", err)
		return 1
	}
	if cfg.OutputFormat == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "aiobench: %v\n", err)
			return 1
		}
		return 0
	}
	printNormal(stdout, rep)
	return 0
}

// bench lays out the file, runs the engine, and measures.
func bench(ctx context.Context, cfg *config, stdout io.Writer) (*report, error) {
	fd, size, err := openTarget(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	cfg.Size = size

	var progress atomic.Int64
	if cfg.OutputFormat == "normal" && isTerminal(stdout) {
		done := make(chan struct{})
		defer close(done)
		go showProgress(stdout, cfg, &progress, done)
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	threads := startThreadSampler()
	var before, after unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &before)
	var res *result
	switch cfg.Engine {
	case "aio":
		res, err = runAIO(ctx, cfg, fd, size, &progress)
	case "queue":
		res, err = runQueue(ctx, cfg, fd, size, &progress)
	case "file":
		res, err = runFile(ctx, cfg, size, &progress)
	default:
		if cfg.syncEvery() > 0 {
			res, err = runOSFile(ctx, cfg, fd, size, &progress)
		} else {
			res, err = runPread(ctx, cfg, fd, size, &progress)
		}
	}
	unix.Getrusage(unix.RUSAGE_SELF, &after)
	maxThreads := threads.done()
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	secs := res.elapsed.Seconds()
	rep := &report{
		IOPS:    float64(res.ios) / secs,
		BWBytes: float64(res.ios) * float64(cfg.BS) / secs,
		LatNs: latencies{
			P50:  res.hist.percentile(0.50),
			P99:  res.hist.percentile(0.99),
			P999: res.hist.percentile(0.999),
		},
		CPUUser: tvSeconds(after.Utime) - tvSeconds(before.Utime),
		CPUSys:  tvSeconds(after.Stime) - tvSeconds(before.Stime),
		IOs:     res.ios,
		Elapsed: secs,

		IOSubmitCalls:    res.submits,
		IOGeteventsCalls: res.getevents,
		Threads:          maxThreads,
		Params:           cfg,
	}
	if res.queueStats {
		rep.RingReaps, rep.EventfdWaits = &res.ringReaps, &res.eventfdWaits
	}
	if cfg.syncEvery() > 0 {
		rep.Syncs, rep.Flushes = &res.syncs, &res.flushes
	}
	if cfg.Verify {
		n, err := verifyFile(cfg, fd, size)
		if err != nil {
			return nil, err
		}
		rep.Verified = &n
	}
	return rep, nil
}

func tvSeconds(tv unix.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// showProgress rewrites one line twice a second until done.
func showProgress(w io.Writer, cfg *config, progress *atomic.Int64, done <-chan struct{}) {
	start := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			fmt.Fprint(w, "\r\033[K")
			return
		case <-tick.C:
			el := time.Since(start)
			left := max(cfg.Runtime-el, 0)
			fmt.Fprintf(w, "\r\033[K[%s %s] %s IOPS, %.1fs elapsed, %.1fs left",
				cfg.Engine, cfg.RW, human(float64(progress.Load())/el.Seconds()), el.Seconds(), left.Seconds())
		}
	}
}

// human writes 123456 as 123k, fio style.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func printNormal(w io.Writer, r *report) {
	c := r.Params
	file := c.Filename
	if c.tempFile {
		file += " (temporary, removed)"
	}
	fmt.Fprintf(w, "aiobench: engine=%s rw=%s bs=%d iodepth=%d direct=%t size=%dMiB runtime=%s\n",
		c.Engine, c.RW, c.BS, c.IODepth, c.Direct, c.Size>>20, c.Runtime)
	fmt.Fprintf(w, "  file: %s\n", file)
	fmt.Fprintf(w, "  IOPS=%s, BW=%.1fMiB/s (%d I/Os in %.2fs)\n", human(r.IOPS), r.BWBytes/(1<<20), r.IOs, r.Elapsed)
	fmt.Fprintf(w, "  lat (usec): p50=%.1f, p99=%.1f, p99.9=%.1f\n",
		float64(r.LatNs.P50)/1e3, float64(r.LatNs.P99)/1e3, float64(r.LatNs.P999)/1e3)
	perIO := 0.0
	if r.IOs > 0 {
		perIO = (r.CPUUser + r.CPUSys) / float64(r.IOs) * 1e6
	}
	fmt.Fprintf(w, "  cpu: usr=%.2fs sys=%.2fs (%.2fus per I/O), threads: %d at most\n", r.CPUUser, r.CPUSys, perIO, r.Threads)
	perIO = 0
	if r.IOs > 0 {
		perIO = float64(r.IOSubmitCalls) / float64(r.IOs)
	}
	fmt.Fprintf(w, "  syscalls: io_submit=%d (%.3f per I/O), io_getevents=%d", r.IOSubmitCalls, perIO, r.IOGeteventsCalls)
	if r.RingReaps != nil {
		fmt.Fprintf(w, ", ring reaps=%d, eventfd waits=%d", *r.RingReaps, *r.EventfdWaits)
	}
	fmt.Fprintln(w)
	if r.Syncs != nil {
		perSync := 0.0
		if *r.Syncs > 0 {
			perSync = float64(*r.Flushes) / float64(*r.Syncs)
		}
		fmt.Fprintf(w, "  sync: %d Syncs, %d flushes (%.3f per Sync)\n", *r.Syncs, *r.Flushes, perSync)
	}
	if r.Verified != nil {
		fmt.Fprintf(w, "  verify: %d blocks read back and checked\n", *r.Verified)
	}
}
