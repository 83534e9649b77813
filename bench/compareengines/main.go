// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

// Command compareengines runs aiobench's engines side by side on one file
// or device, in interleaved rounds (every engine once per round, in the same
// order: ABCD ABCD ...), and prints per engine the median, least and most
// IOPS, the CPU per I/O, the most threads, and the system calls per I/O, as a
// Markdown table. It is run by bench/compare-engines.sh, which builds
// aiobench.
//
// With -ram the target is a loop device with direct I/O over a file in
// /dev/shm (as comparefio's -ram): a device fast enough that the program,
// not the device, sets the pace. Otherwise it is a file in -dir, which
// aiobench lays out on the first run.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernelio/aio/bench/internal/benchutil"
)

// sample is one aiobench run's JSON report, the fields used here.
type sample struct {
	IOPS         float64 `json:"iops"`
	IOs          float64 `json:"ios"`
	CPUUser      float64 `json:"cpu_user_s"`
	CPUSys       float64 `json:"cpu_sys_s"`
	Threads      float64 `json:"threads"`
	Submits      float64 `json:"io_submit_calls"`
	Getevents    float64 `json:"io_getevents_calls"`
	RingReaps    float64 `json:"ring_reaps"`
	EventfdWaits float64 `json:"eventfd_waits"`
	Syncs        float64 `json:"syncs"`
	Flushes      float64 `json:"flushes"`

	devDepth float64 // requests in flight at the block device, on average
}

func (s sample) cpuPerIO() float64 { return (s.CPUUser + s.CPUSys) / s.IOs }

func main() {
	aiobench := flag.String("aiobench", "aiobench", "the aiobench binary")
	engines := flag.String("engines", "queue,pread,aio", "engines to compare, in the order each round runs them; with -fsync, ENGINE/fdatasync runs ENGINE with --fdatasync instead of --fsync")
	runs := flag.Int("runs", 5, "rounds: runs of each engine")
	runtimeFlag := flag.Duration("runtime", 5*time.Second, "length of each run")
	dir := flag.String("dir", ".", "directory for the test file (a disk file system)")
	size := flag.String("size", "1G", "bytes of the file or device to use")
	iodepth := flag.Int("iodepth", 64, "iodepth of every engine")
	rw := flag.String("rw", "randread", "aiobench's --rw")
	fsync := flag.Int("fsync", 0, "aiobench's --fsync: a Sync after every N writes of each goroutine (pread and file engines)")
	cpuprofile := flag.String("cpuprofile", "", "write each run's CPU profile to this directory, as ENGINE-ROUND.pprof")
	bs := flag.String("bs", "4k", "block size")
	ram := flag.Bool("ram", false, "use a loop device over /dev/shm instead of a file in -dir (root)")
	raw := flag.String("raw", "", "append every run's JSON report, one a line, to this file")
	flag.Parse()

	target := filepath.Join(*dir, fmt.Sprintf(".compareengines-%d.dat", os.Getpid()))
	where := "a file in " + *dir
	if *ram {
		n, err := benchutil.ParseSize(*size)
		fail(err)
		dev, cleanup, err := benchutil.RAMLoop("compareengines", n, true)
		fail(err)
		defer cleanup()
		target, where = dev, "a loop device (direct I/O) over a file in /dev/shm"
	} else {
		defer os.Remove(target)
	}
	var rawOut *os.File
	if *raw != "" {
		f, err := os.OpenFile(*raw, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		fail(err)
		defer f.Close()
		rawOut = f
	}

	// The block device's in-flight counter, sampled during each run: the
	// queue depth the device saw.
	inflight := inflightFile(target)

	names := strings.Split(*engines, ",")
	results := map[string][]sample{}
	for r := 0; r < *runs; r++ {
		for _, engine := range names {
			name, datasync := strings.CutSuffix(engine, "/fdatasync")
			args := []string{"--filename", target, "--size", *size, "--bs", *bs, "--iodepth", strconv.Itoa(*iodepth),
				"--rw", *rw, "--engine", name, "--runtime", runtimeFlag.String(), "--output-format", "json"}
			switch {
			case *fsync > 0 && datasync:
				args = append(args, "--fdatasync", strconv.Itoa(*fsync))
			case *fsync > 0:
				args = append(args, "--fsync", strconv.Itoa(*fsync))
			}
			if *cpuprofile != "" {
				args = append(args, "--cpuprofile", filepath.Join(*cpuprofile,
					fmt.Sprintf("%s-%d.pprof", strings.ReplaceAll(engine, "/", "-"), r+1)))
			}
			cmd := exec.Command(*aiobench, args...)
			cmd.Stderr = os.Stderr
			stop := make(chan struct{})
			depth := make(chan float64)
			go func() { depth <- sampleInflight(inflight, stop) }()
			out, err := cmd.Output()
			close(stop)
			devDepth := <-depth
			if err != nil {
				fail(fmt.Errorf("aiobench %s: %v", strings.Join(args, " "), err))
			}
			var s sample
			fail(json.Unmarshal(out, &s))
			s.devDepth = devDepth
			if rawOut != nil {
				var compact strings.Builder
				enc := json.NewEncoder(&compact)
				var v any
				fail(json.Unmarshal(out, &v))
				fail(enc.Encode(map[string]any{"round": r + 1, "target": where, "device_inflight_avg": devDepth, "report": v}))
				rawOut.WriteString(compact.String())
			}
			line := fmt.Sprintf("round %d %-15s %8.0f IOPS %6.2f us CPU/I/O %3.0f threads %6.3f io_submit/I/O %5.1f at the device",
				r+1, engine, s.IOPS, s.cpuPerIO()*1e6, s.Threads, s.Submits/s.IOs, s.devDepth)
			if s.Syncs > 0 {
				line += fmt.Sprintf(" %6.0f Syncs %6.0f flushes (%.3f per Sync)", s.Syncs, s.Flushes, s.Flushes/s.Syncs)
			}
			fmt.Fprintln(os.Stderr, line)
			results[engine] = append(results[engine], s)
		}
	}

	host, _ := os.Hostname()
	what := fmt.Sprintf("%s %s", *bs, *rw)
	if *fsync > 0 {
		what += fmt.Sprintf(" --fsync %d", *fsync)
	}
	fmt.Printf("%s O_DIRECT, iodepth %d, on %s: %d interleaved rounds of %s runs, unpinned (%s, %d CPUs, %s)\n\n",
		what, *iodepth, where, *runs, runtimeFlag, host, runtime.NumCPU(), benchutil.Kernel())
	fmt.Println("| engine | IOPS median | min | max | / pread (paired) | CPU/I/O median (min-max) | threads (most) | io_submit / I/O | io_getevents / I/O | at the device | Syncs | flushes / Sync |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, e := range names {
		ss := results[e]
		iops := values(ss, func(s sample) float64 { return s.IOPS })
		cpu := values(ss, func(s sample) float64 { return s.cpuPerIO() * 1e6 })
		vsPread := "-"
		if p, ok := results["pread"]; ok && e != "pread" {
			ratios := make([]float64, len(ss))
			for i := range ss {
				ratios[i] = ss[i].IOPS / p[i].IOPS
			}
			vsPread = fmt.Sprintf("%.2fx", benchutil.Median(ratios))
		}
		syncs, perSync := "-", "-"
		if sy := benchutil.Median(values(ss, func(s sample) float64 { return s.Syncs })); sy > 0 {
			syncs = fmt.Sprintf("%.0f", sy)
			perSync = fmt.Sprintf("%.3f", benchutil.Median(values(ss, func(s sample) float64 { return s.Flushes / s.Syncs })))
		}
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %s | %.2f us (%.2f-%.2f) | %.0f | %.3f | %.4f | %.1f | %s | %s |\n",
			e, benchutil.Median(iops), slices.Min(iops), slices.Max(iops), vsPread,
			benchutil.Median(cpu), slices.Min(cpu), slices.Max(cpu),
			slices.Max(values(ss, func(s sample) float64 { return s.Threads })),
			benchutil.Median(values(ss, func(s sample) float64 { return s.Submits / s.IOs })),
			benchutil.Median(values(ss, func(s sample) float64 { return s.Getevents / s.IOs })),
			benchutil.Median(values(ss, func(s sample) float64 { return s.devDepth })),
			syncs, perSync)
	}
	fmt.Println("\n/ pread is the median of the ratios within each round. CPU/I/O is aiobench's: user+system")
	fmt.Println("time of the I/O phase over the I/Os. threads is the most OS threads the process had.")
	fmt.Println("at the device: requests in flight at the block device (its sysfs inflight), sampled every 10ms.")
}

// inflightFile returns the sysfs inflight file of the block device that
// target is (a device node) or whose file system holds target's directory,
// or "" when there is none.
func inflightFile(target string) string {
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		return fmt.Sprintf("/sys/dev/block/%d:%d/inflight", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
	}
	if err := unix.Stat(filepath.Dir(target), &st); err != nil {
		return ""
	}
	name := fmt.Sprintf("/sys/dev/block/%d:%d/inflight", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)))
	if _, err := os.Stat(name); err != nil {
		return ""
	}
	return name
}

// sampleInflight reads name (reads and writes in flight) every 10ms until
// stop is closed, and returns the average of their sum; 0 without name.
func sampleInflight(name string, stop <-chan struct{}) float64 {
	if name == "" {
		<-stop
		return 0
	}
	var sum, n float64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			if n == 0 {
				return 0
			}
			return sum / n
		case <-tick.C:
			b, err := os.ReadFile(name)
			if err != nil {
				continue
			}
			f := strings.Fields(string(b))
			if len(f) != 2 {
				continue
			}
			r, _ := strconv.ParseFloat(f[0], 64)
			w, _ := strconv.ParseFloat(f[1], 64)
			sum += r + w
			n++
		}
	}
}

func values(ss []sample, key func(sample) float64) []float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = key(s)
	}
	return v
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "compareengines:", err)
		os.Exit(1)
	}
}
