// Command comparefio runs aiobench and fio's libaio engine side by side on
// one file, interleaved, and prints the medians as a Markdown table. It is
// run by bench/compare-fio.sh, which builds aiobench and installs fio.
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
	"strings"
	"time"
)

// sample is one run's IOPS and CPU seconds per I/O.
type sample struct{ iops, cpuPerIO float64 }

func main() {
	aiobench := flag.String("aiobench", "aiobench", "the aiobench binary")
	runs := flag.Int("runs", 3, "runs of each configuration")
	runtimeFlag := flag.Duration("runtime", 5*time.Second, "length of each run")
	dir := flag.String("dir", ".", "directory for the test file (a disk file system)")
	size := flag.String("size", "256M", "test file size")
	flag.Parse()

	file := filepath.Join(*dir, fmt.Sprintf(".comparefio-%d.dat", os.Getpid()))
	defer os.Remove(file)
	secs := fmt.Sprint(int(runtimeFlag.Seconds()))

	// fio lays the file out, then every engine reads the same blocks.
	fail(exec.Command("fio", "--name=layout", "--filename="+file, "--size="+*size, "--rw=write",
		"--bs=1M", "--direct=1", "--ioengine=libaio", "--output=/dev/null").Run())

	type config struct {
		name   string
		run    func() (sample, error)
		depth1 bool
	}
	fio := func(depth string) func() (sample, error) {
		return func() (sample, error) {
			out, err := exec.Command("fio", "--name=cmp", "--filename="+file, "--size="+*size, "--bs=4k",
				"--iodepth="+depth, "--rw=randread", "--direct=1", "--ioengine=libaio",
				"--runtime="+secs, "--time_based", "--output-format=json").Output()
			if err != nil {
				return sample{}, fmt.Errorf("fio: %v", err)
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
			cpu := (j.Usr + j.Sys) / 100 * j.Read.Runtime / 1000
			return sample{j.Read.IOPS, cpu / j.Read.TotalIOs}, nil
		}
	}
	aio := func(engine, depth string) func() (sample, error) {
		return func() (sample, error) {
			out, err := exec.Command(*aiobench, "--filename="+file, "--size="+*size, "--bs=4k",
				"--iodepth="+depth, "--rw=randread", "--engine="+engine, "--runtime="+runtimeFlag.String(),
				"--output-format=json").Output()
			if err != nil {
				return sample{}, fmt.Errorf("aiobench: %v", err)
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
			return sample{r.IOPS, (r.CPUUser + r.CPUSys) / r.IOs}, nil
		}
	}
	configs := []config{
		{"fio qd32", fio("32"), false},
		{"aio qd32", aio("aio", "32"), false},
		{"pread qd32", aio("pread", "32"), false},
		{"fio qd1", fio("1"), true},
		{"aio qd1", aio("aio", "1"), true},
	}
	results := map[string][]sample{}
	for r := 0; r < *runs; r++ {
		for _, c := range configs {
			s, err := c.run()
			fail(err)
			fmt.Fprintf(os.Stderr, "run %d %-10s %8.0f IOPS %6.2f us CPU per I/O\n", r+1, c.name, s.iops, s.cpuPerIO*1e6)
			results[c.name] = append(results[c.name], s)
		}
	}
	med := func(name string) sample {
		ss := results[name]
		iops := make([]float64, len(ss))
		cpu := make([]float64, len(ss))
		for i, s := range ss {
			iops[i], cpu[i] = s.iops, s.cpuPerIO
		}
		slices.Sort(iops)
		slices.Sort(cpu)
		return sample{iops[len(iops)/2], cpu[len(cpu)/2]}
	}
	host, _ := os.Hostname()
	fmt.Printf("4 KiB O_DIRECT random reads, %d interleaved runs of %s each, medians (%s, %d CPUs, %s)\n\n",
		*runs, runtimeFlag, host, runtime.NumCPU(), kernel())
	fmt.Println("| iodepth | fio libaio IOPS | aio IOPS | aio / fio | pread IOPS | aio / pread | fio CPU/I/O | aio CPU/I/O |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, d := range []string{"32", "1"} {
		f, a := med("fio qd"+d), med("aio qd"+d)
		pr, ratio := "-", "-"
		if d == "32" {
			p := med("pread qd" + d)
			pr, ratio = fmt.Sprintf("%.0f", p.iops), fmt.Sprintf("%.2fx", a.iops/p.iops)
		}
		fmt.Printf("| %s | %.0f | %.0f | %.2fx | %s | %s | %.2f us | %.2f us |\n",
			d, f.iops, a.iops, a.iops/f.iops, pr, ratio, f.cpuPerIO*1e6, a.cpuPerIO*1e6)
	}
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "Linux"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "comparefio:", err)
		os.Exit(1)
	}
}
