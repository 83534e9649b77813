// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

// Command comparefio runs aiobench and fio's libaio engine side by side on
// one file, interleaved, and prints the medians as a Markdown table. It is
// run by bench/compare-fio.sh, which builds aiobench and installs fio.
//
// Each round runs every configuration pinned (with taskset) to the same
// CPU, and successive rounds take the CPUs in turn. Pinning matters on
// small VMs: a virtio disk interrupts one CPU, and a depth-1 run whose
// thread sleeps on the other CPU needs an extra wake-up per I/O. Measured
// on a 2-vCPU VM, that is worth a quarter of the IOPS, so an unpinned
// comparison mostly measures where the scheduler happened to put each
// program.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kernelio/aio/bench/internal/benchutil"
)

// sample is one run: its IOPS, and CPU seconds per I/O as the program
// reports them for its I/O and as wait4 reports them for the whole process
// (fio's parent process, start-up and end included).
type sample struct{ iops, cpuPerIO, procCPUPerIO float64 }

func main() {
	aiobench := flag.String("aiobench", "aiobench", "the aiobench binary")
	runs := flag.Int("runs", 4, "rounds: runs of each configuration")
	runtimeFlag := flag.Duration("runtime", 5*time.Second, "length of each run")
	dir := flag.String("dir", ".", "directory for the test file (a disk file system)")
	size := flag.String("size", "256M", "test file size")
	cpusFlag := flag.String("cpus", "all", "CPUs the rounds are pinned to in turn: all, none, or a list such as 0,1")
	ram := flag.Bool("ram", false, "read a loop device over /dev/shm instead of a file in -dir (root)")
	flag.Parse()
	cpus, err := parseCPUs(*cpusFlag)
	fail(err)

	file := filepath.Join(*dir, fmt.Sprintf(".comparefio-%d.dat", os.Getpid()))
	target := "a file in " + *dir
	if *ram {
		n, err := benchutil.ParseSize(*size)
		fail(err)
		dev, cleanup, err := benchutil.RAMLoop("comparefio", n, false) // fio lays it out
		fail(err)
		defer cleanup()
		file = dev
		target = "a loop device over /dev/shm"
	} else {
		defer os.Remove(file)
	}
	secs := fmt.Sprint(int(runtimeFlag.Seconds()))

	// fio lays the file out, then every engine reads the same blocks.
	fail(exec.Command("fio", "--name=layout", "--filename="+file, "--size="+*size, "--rw=write",
		"--bs=1M", "--direct=1", "--ioengine=libaio", "--output=/dev/null").Run())

	// run runs a program, pinned to cpu unless cpu is negative, and returns
	// its standard output and the CPU seconds of the whole process.
	run := func(cpu int, name string, args ...string) ([]byte, float64, error) {
		if cpu >= 0 {
			args = append([]string{"-c", strconv.Itoa(cpu), name}, args...)
			name = "taskset"
		}
		cmd := exec.Command(name, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %v", name, err)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		return out, time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(), nil
	}
	fio := func(depth string) func(int) (sample, error) {
		return func(cpu int) (sample, error) {
			out, proc, err := run(cpu, "fio", "--name=cmp", "--filename="+file, "--size="+*size, "--bs=4k",
				"--iodepth="+depth, "--rw=randread", "--direct=1", "--ioengine=libaio",
				"--runtime="+secs, "--time_based", "--output-format=json")
			if err != nil {
				return sample{}, err
			}
			var r struct {
				Jobs []struct {
					Read struct {
						IOPS     float64 `json:"iops"`
						TotalIOs float64 `json:"total_ios"`
						Runtime  float64 `json:"runtime"` // ms
					} `json:"read"`
					Usr float64 `json:"usr_cpu"` // percent of the run
					Sys float64 `json:"sys_cpu"`
				} `json:"jobs"`
			}
			if err := json.Unmarshal(out, &r); err != nil || len(r.Jobs) != 1 {
				return sample{}, fmt.Errorf("fio's JSON: %v", err)
			}
			j := r.Jobs[0]
			jobCPU := (j.Usr + j.Sys) / 100 * j.Read.Runtime / 1000
			return sample{j.Read.IOPS, jobCPU / j.Read.TotalIOs, proc / j.Read.TotalIOs}, nil
		}
	}
	aio := func(engine, depth string) func(int) (sample, error) {
		return func(cpu int) (sample, error) {
			out, proc, err := run(cpu, *aiobench, "--filename="+file, "--size="+*size, "--bs=4k",
				"--iodepth="+depth, "--rw=randread", "--engine="+engine, "--runtime="+runtimeFlag.String(),
				"--output-format=json")
			if err != nil {
				return sample{}, err
			}
			var r struct {
				IOPS    float64 `json:"iops"`
				IOs     float64 `json:"ios"`
				CPUUser float64 `json:"cpu_user_s"`
				CPUSys  float64 `json:"cpu_sys_s"`
			}
			if err := json.Unmarshal(out, &r); err != nil {
				return sample{}, err
			}
			return sample{r.IOPS, (r.CPUUser + r.CPUSys) / r.IOs, proc / r.IOs}, nil
		}
	}
	configs := []struct {
		name string
		run  func(cpu int) (sample, error)
	}{
		{"fio qd32", fio("32")},
		{"aio qd32", aio("aio", "32")},
		{"pread qd32", aio("pread", "32")},
		{"fio qd1", fio("1")},
		{"aio qd1", aio("aio", "1")},
	}
	results := map[string][]sample{}
	for r := 0; r < *runs; r++ {
		cpu := cpus[r%len(cpus)]
		for i, c := range configs {
			// Alternate which program goes first, so that neither always
			// runs just after the other.
			if r%2 == 1 {
				c = configs[len(configs)-1-i]
			}
			s, err := c.run(cpu)
			fail(err)
			where := "any CPU"
			if cpu >= 0 {
				where = fmt.Sprintf("CPU %d", cpu)
			}
			fmt.Fprintf(os.Stderr, "round %d %-7s %-10s %8.0f IOPS %6.2f us CPU per I/O (%6.2f us whole process)\n",
				r+1, where, c.name, s.iops, s.cpuPerIO*1e6, s.procCPUPerIO*1e6)
			results[c.name] = append(results[c.name], s)
		}
	}
	med := func(name string) sample {
		ss := results[name]
		return sample{
			median(ss, func(s sample) float64 { return s.iops }),
			median(ss, func(s sample) float64 { return s.cpuPerIO }),
			median(ss, func(s sample) float64 { return s.procCPUPerIO }),
		}
	}
	// paired is the median over rounds of a's IOPS over b's in that round:
	// the two ran on the same CPU, minutes apart at most.
	paired := func(a, b string) float64 {
		ratios := make([]float64, *runs)
		for r := range ratios {
			ratios[r] = results[a][r].iops / results[b][r].iops
		}
		return median(ratios, func(x float64) float64 { return x })
	}
	host, _ := os.Hostname()
	pin := "unpinned"
	if cpus[0] >= 0 {
		pin = fmt.Sprintf("pinned to CPUs %s in turn", strings.Trim(fmt.Sprint(cpus), "[]"))
	}
	fmt.Printf("4 KiB O_DIRECT random reads of %s, %d interleaved rounds of %s runs, %s; medians (%s, %d CPUs, %s)\n\n",
		target, *runs, runtimeFlag, pin, host, runtime.NumCPU(), benchutil.Kernel())
	fmt.Println("| iodepth | fio libaio IOPS | aio IOPS | aio / fio | pread IOPS | aio / pread | CPU/I/O fio | CPU/I/O aio | whole process fio | whole process aio |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, d := range []string{"32", "1"} {
		f, a := med("fio qd"+d), med("aio qd"+d)
		pr, ratio := "-", "-"
		if d == "32" {
			pr = fmt.Sprintf("%.0f", med("pread qd"+d).iops)
			ratio = fmt.Sprintf("%.2fx", paired("aio qd"+d, "pread qd"+d))
		}
		fmt.Printf("| %s | %.0f | %.0f | %.3fx | %s | %s | %.2f us | %.2f us | %.2f us | %.2f us |\n",
			d, f.iops, a.iops, paired("aio qd"+d, "fio qd"+d), pr, ratio,
			f.cpuPerIO*1e6, a.cpuPerIO*1e6, f.procCPUPerIO*1e6, a.procCPUPerIO*1e6)
	}
	fmt.Println("\naio / fio and aio / pread are medians of the ratios within each round. CPU/I/O is what")
	fmt.Println("each program reports for its I/O (fio: the job's process); whole process is wait4's")
	fmt.Println("user+system time for the whole run, start-up and fio's parent process included.")
}

// parseCPUs reads -cpus: "all" is every CPU this process may use, "none"
// is a single -1 (no pinning).
func parseCPUs(s string) ([]int, error) {
	switch s {
	case "none":
		return []int{-1}, nil
	case "all":
		var set unix.CPUSet
		if err := unix.SchedGetaffinity(0, &set); err != nil {
			return nil, err
		}
		var cpus []int
		for c := 0; len(cpus) < set.Count(); c++ {
			if set.IsSet(c) {
				cpus = append(cpus, c)
			}
		}
		return cpus, nil
	}
	var cpus []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-cpus: bad CPU %q", f)
		}
		cpus = append(cpus, n)
	}
	return cpus, nil
}

// median is the median of key over xs.
func median[T any](xs []T, key func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = key(x)
	}
	return benchutil.Median(v)
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "comparefio:", err)
		os.Exit(1)
	}
}
