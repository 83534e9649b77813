// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build linux

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// config is one run's parameters, named after fio's options.
// The fields are the options of the same names (see parseFlags).
type config struct {
	Filename     string        `json:"filename"`                   // --filename
	Size         int64         `json:"size"`                       // --size, in bytes
	BS           int           `json:"bs"`                         // --bs, in bytes
	IODepth      int           `json:"iodepth"`                    // --iodepth
	RW           string        `json:"rw"`                         // --rw
	Runtime      time.Duration `json:"-"`                          // --runtime
	RuntimeS     float64       `json:"runtime_s"`                  // --runtime, in seconds, for JSON
	Direct       bool          `json:"direct"`                     // --direct
	Engine       string        `json:"engine"`                     // --engine
	Batch        int           `json:"batch"`                      // --batch (aio)
	CompleteMax  int           `json:"iodepth_batch_complete_max"` // --iodepth_batch_complete_max
	Verify       bool          `json:"verify"`                     // --verify
	Fsync        int           `json:"fsync,omitempty"`            // --fsync
	Fdatasync    int           `json:"fdatasync,omitempty"`        // --fdatasync
	OutputFormat string        `json:"-"`                          // --output-format
	CPUProfile   string        `json:"-"`                          // --cpuprofile
	tempFile     bool          // the file is ours: create it, remove it
}

// byteSize is a flag.Value for sizes written as fio writes them: 4096, 4k,
// 256M, 1g, 4KiB (powers of 1024).
type byteSize struct{ v *int64 }

// String is the size in bytes, for flag's defaults.
func (b byteSize) String() string {
	if b.v == nil {
		return ""
	}
	return strconv.FormatInt(*b.v, 10)
}

// Set parses a size such as 4k or 256M.
func (b byteSize) Set(s string) error {
	v, err := parseSize(s)
	if err != nil {
		return err
	}
	*b.v = v
	return nil
}

func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}

// duration is a flag.Value that takes Go durations (5s, 500ms) and, as fio
// does, plain seconds (5).
type duration struct{ v *time.Duration }

// String is the duration, for flag's defaults.
func (d duration) String() string {
	if d.v == nil {
		return ""
	}
	return d.v.String()
}

// Set parses a Go duration or a number of seconds.
func (d duration) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		*d.v = time.Duration(n * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q", s)
	}
	*d.v = v
	return nil
}

const defaultSize = 256 << 20

var engines = []string{"aio", "queue", "file", "pread"}

var rwModes = []string{"randread", "randwrite", "read", "write", "randrw"}

// usageError is an error in the command line: exit status 2.
type usageError string

// Error is the message, without the program's name.
func (e usageError) Error() string { return string(e) }

// parseFlags reads the command line into a config and checks it.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("aiobench", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // one line of our own instead of the whole usage
	fs.StringVar(&cfg.Filename, "filename", "", "file or block device to test (default: a temporary file in the current directory, removed at the end)")
	fs.Var(byteSize{&cfg.Size}, "size", "bytes of the file to use (default 256M, or the size of an existing file)")
	cfg.BS = 4096
	bs := int64(cfg.BS)
	fs.Var(byteSize{&bs}, "bs", "block size")
	fs.IntVar(&cfg.IODepth, "iodepth", 32, "requests in flight")
	fs.StringVar(&cfg.RW, "rw", "randread", "randread, randwrite, read, write or randrw")
	cfg.Runtime = 5 * time.Second
	fs.Var(duration{&cfg.Runtime}, "runtime", "how long to run")
	fs.BoolVar(&cfg.Direct, "direct", true, "open the file with O_DIRECT")
	fs.StringVar(&cfg.Engine, "engine", "aio", "aio (one goroutine driving an IoContext), queue (iodepth goroutines sharing an aio.Queue), file (iodepth goroutines calling ReadAt and WriteAt on an aio.File), or pread (iodepth goroutines doing pread)")
	fs.IntVar(&cfg.Batch, "batch", 0, "most requests per io_submit (0: all that are ready)")
	fs.IntVar(&cfg.CompleteMax, "iodepth_batch_complete_max", 1, "most completions reaped at a time (fio's option of that name)")
	fs.BoolVar(&cfg.Verify, "verify", false, "write a pattern derived from the offset (over the whole file first, when --rw writes), and read every block back after the run")
	fs.IntVar(&cfg.Fsync, "fsync", 0, "Sync after every N writes of each goroutine (file engine: File.Sync, an FDSYNC; pread engine: (*os.File).Sync, an fsync)")
	fs.IntVar(&cfg.Fdatasync, "fdatasync", 0, "as --fsync, but the pread engine calls fdatasync(2), as File.Sync does")
	fs.StringVar(&cfg.OutputFormat, "output-format", "normal", "normal or json")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the I/O phase to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: aiobench [--filename F] [--size 256M] [--bs 4k] [--iodepth 32] [--rw randread] [--runtime 5s] [--direct=true] [--engine aio|queue|file|pread] [--batch N] [--fsync N] [--fdatasync N] [--verify] [--output-format normal|json]")
			fs.PrintDefaults()
			return nil, flag.ErrHelp
		}
		return nil, usageError(err.Error())
	}
	if fs.NArg() > 0 {
		return nil, usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	cfg.BS = int(bs)
	cfg.RuntimeS = cfg.Runtime.Seconds()
	bad := func(format string, a ...any) (*config, error) {
		return nil, usageError(fmt.Sprintf(format, a...))
	}
	switch {
	case bs <= 0 || bs > 64<<20:
		return bad("--bs must be between 1 and 64M")
	case cfg.Direct && bs%512 != 0:
		return bad("--bs %d is not a multiple of 512, which --direct needs", bs)
	case cfg.IODepth < 1 || cfg.IODepth > 65536:
		return bad("--iodepth must be between 1 and 65536")
	case cfg.Batch < 0:
		return bad("--batch must not be negative")
	case cfg.CompleteMax < 1:
		return bad("--iodepth_batch_complete_max must be at least 1")
	case cfg.Runtime <= 0:
		return bad("--runtime must be positive")
	case !slices.Contains(engines, cfg.Engine):
		return bad("--engine must be one of %s, not %q", strings.Join(engines, ", "), cfg.Engine)
	case cfg.OutputFormat != "normal" && cfg.OutputFormat != "json":
		return bad("--output-format must be normal or json, not %q", cfg.OutputFormat)
	case cfg.Size != 0 && cfg.Size < bs:
		return bad("--size %d is smaller than --bs %d", cfg.Size, bs)
	case cfg.Engine != "aio" && cfg.Batch != 0:
		return bad("--batch is for the aio engine")
	case cfg.Fsync < 0 || cfg.Fdatasync < 0:
		return bad("--fsync and --fdatasync must not be negative")
	case cfg.Fsync > 0 && cfg.Fdatasync > 0:
		return bad("--fsync and --fdatasync: give one")
	case cfg.syncEvery() > 0 && cfg.Engine != "file" && cfg.Engine != "pread":
		return bad("--fsync and --fdatasync are for the file and pread engines")
	}
	if !slices.Contains(rwModes, cfg.RW) {
		return bad("--rw must be one of %s, not %q", strings.Join(rwModes, ", "), cfg.RW)
	}
	if cfg.Filename == "" {
		cfg.tempFile = true
		if cfg.Size == 0 {
			cfg.Size = defaultSize
		}
	}
	if cfg.Engine == "aio" && (cfg.Batch == 0 || cfg.Batch > cfg.IODepth) {
		cfg.Batch = cfg.IODepth
	}
	cfg.CompleteMax = min(cfg.CompleteMax, cfg.IODepth)
	return cfg, nil
}

// syncEvery is the N of --fsync or --fdatasync, or 0.
func (c *config) syncEvery() int { return max(c.Fsync, c.Fdatasync) }

func (c *config) writes() bool { return c.RW != "read" && c.RW != "randread" }
func (c *config) random() bool { return strings.HasPrefix(c.RW, "rand") }
