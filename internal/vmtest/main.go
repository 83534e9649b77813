// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

// Command vmtest runs the package's tests on other architectures, each on
// its own Debian kernel under qemu-system: qemu-user has no io_* system
// calls, and a layout is only proven against the kernel of its architecture.
//
//	go run ./internal/vmtest                    # every architecture with a VM
//	go run ./internal/vmtest -arch mipsle,riscv64
//
// The architectures, and how to boot each, are in the table of
// internal/archs, which the generator shares. For each it cross-compiles the
// root package's tests (go test -c) and a small init (./init), downloads
// Debian's kernel package for the architecture (from the build machine's
// suite, or from another one through a private apt source list; cached in
// the user cache directory), builds an initramfs with the two binaries and
// the kernel modules for a virtio disk and ext4, and boots it with an ext4
// disk so that O_DIRECT is tested too. It prints the console, and exits with
// the tests' status. Run as root on Debian, it installs qemu-system, cpio,
// e2fsprogs and xz-utils when they are missing.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kernelio/aio/internal/archs"
	"github.com/kernelio/aio/internal/debian"
)

// vmArch is an architecture of the table in internal/archs that has a VM.
type vmArch struct {
	archs.Arch
	*archs.VM
}

// vmArches are the architectures that boot under qemu-system.
func vmArches() []vmArch {
	var vs []vmArch
	for _, a := range archs.All {
		if a.VM != nil {
			vs = append(vs, vmArch{a, a.VM})
		}
	}
	return vs
}

func main() {
	archList := flag.String("arch", "all", "comma-separated GOARCHes, or all: "+names())
	pkg := flag.String("pkg", "github.com/kernelio/aio", "the package whose tests to run")
	// The suite takes 15 to 40 s in each VM; the bounds leave room for
	// slower machines and for tests still to come, and stop a hung kernel.
	testArgs := flag.String("args", "-test.v -test.timeout=4m", "arguments for the test binary")
	timeout := flag.Duration("timeout", 6*time.Minute, "longest a VM may run")
	noDisk := flag.Bool("nodisk", false, "boot without the ext4 disk (O_DIRECT tests skip)")
	flag.Parse()

	var chosen []vmArch
	if *archList == "all" {
		chosen = vmArches()
	} else {
		for _, name := range strings.Split(*archList, ",") {
			a, ok := find(name)
			if !ok {
				fail(fmt.Errorf("no VM for GOARCH %q; have %s", name, names()))
			}
			chosen = append(chosen, a)
		}
	}
	if err := installTools(chosen); err != nil {
		fail(err)
	}
	status := 0
	var summary []string
	for _, a := range chosen {
		start := time.Now()
		code, err := runArch(a, *pkg, *testArgs, *timeout, !*noDisk)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vmtest %s: %v\n", a.GOARCH, err)
			code = 1
		}
		line := fmt.Sprintf("vmtest %s: exit %d in %.1fs", a.GOARCH, code, time.Since(start).Seconds())
		fmt.Fprintln(os.Stderr, line)
		summary = append(summary, line)
		if code != 0 {
			status = 1
		}
	}
	if len(chosen) > 1 {
		fmt.Fprintln(os.Stderr, strings.Join(summary, "\n"))
	}
	os.Exit(status)
}

func names() string {
	var n []string
	for _, a := range vmArches() {
		n = append(n, a.GOARCH)
	}
	return strings.Join(n, ", ")
}

func find(goarch string) (vmArch, bool) {
	for _, a := range vmArches() {
		if a.GOARCH == goarch {
			return a, true
		}
	}
	return vmArch{}, false
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "vmtest:", err)
	os.Exit(2)
}

// installTools installs qemu, cpio and mkfs.ext4, and adds the Debian
// architectures whose kernels are needed.
func installTools(chosen []vmArch) error {
	var pkgs []string
	need := func(bin, pkg string) {
		if _, err := exec.LookPath(bin); err != nil {
			pkgs = append(pkgs, pkg)
		}
	}
	need("cpio", "cpio")
	need("mkfs.ext4", "e2fsprogs")
	need("xz", "xz-utils") // trixie's kernel modules are .ko.xz
	for _, a := range chosen {
		need(a.Qemu, a.QemuPkg)
	}
	out, _ := exec.Command("dpkg", "--print-foreign-architectures").Output()
	foreign := strings.Fields(string(out))
	var add []string
	for _, a := range chosen {
		if a.Suite != "" {
			continue // read through a private source list
		}
		if !slices.Contains(foreign, a.DebArch) && !slices.Contains(add, a.DebArch) {
			add = append(add, a.DebArch)
		}
	}
	if len(pkgs) == 0 && len(add) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing: packages %v, Debian architectures %v; run as root, or: "+
			"sudo dpkg --add-architecture ARCH; sudo apt-get update; sudo apt-get install %s",
			pkgs, add, strings.Join(pkgs, " "))
	}
	for _, d := range add {
		if err := runCmd("dpkg", "--add-architecture", d); err != nil {
			return err
		}
	}
	// A mirror caught mid-sync fails some index (seen for one architecture's
	// security updates); what is needed may still be there, and the install
	// or download says so if not.
	if err := runCmd("apt-get", "update", "-qq"); err != nil {
		fmt.Fprintf(os.Stderr, "vmtest: %v; going on\n", err)
	}
	if len(pkgs) > 0 {
		args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		return cmd.Run()
	}
	return nil
}

func runCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return nil
}

// kernelTree returns the directory where the architecture's Debian kernel
// package is unpacked, downloading it the first time.
func kernelTree(a vmArch) (dir, version string, err error) {
	var suite *debian.Suite // nil: the build machine's own sources
	if a.Suite != "" {
		suite = debian.NewSuite(a.Suite, a.DebArch)
	}
	pkg, version, err := suite.KernelPackage(a.Kernel, a.DebArch)
	if err != nil {
		return "", "", err
	}
	dir = filepath.Join(debian.CacheDir(), "vmtest", pkg+"_"+a.DebArch)
	if _, err := os.Stat(filepath.Join(dir, "boot", fmt.Sprintf(a.Image, version))); err == nil {
		return dir, version, nil
	}
	dl, err := os.MkdirTemp("", "vmtest-deb-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(dl)
	os.Chmod(dl, 0o755) // so that apt's _apt user may write there
	start := time.Now()
	deb, err := suite.Download(pkg+":"+a.DebArch, dl)
	if err != nil {
		return "", "", err
	}
	if st, err := os.Stat(deb); err == nil {
		fmt.Fprintf(os.Stderr, "vmtest %s: downloaded %s (%.0f MB) in %.1fs\n",
			a.GOARCH, filepath.Base(deb), float64(st.Size())/1e6, time.Since(start).Seconds())
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", "", err
	}
	if err := runCmd("dpkg-deb", "-x", deb, tmp); err != nil {
		return "", "", err
	}
	os.RemoveAll(dir)
	return dir, version, os.Rename(tmp, dir)
}

// moduleOrder returns the files of the wanted modules and of everything
// they depend on, dependencies first, read from each module's .modinfo.
func moduleOrder(tree, version string, wanted []string) ([]string, error) {
	paths := map[string]string{}
	root := filepath.Join(tree, "lib", "modules", version, "kernel")
	if _, err := os.Stat(root); err != nil {
		root = filepath.Join(tree, "usr", "lib", "modules", version, "kernel") // trixie: merged /usr
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			for _, ext := range []string{".ko", ".ko.xz"} {
				if name, ok := strings.CutSuffix(d.Name(), ext); ok {
					paths[normalize(name)] = p
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var order []string
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		name = normalize(name)
		if seen[name] {
			return nil
		}
		seen[name] = true
		p, ok := paths[name]
		if !ok {
			return nil // built into this kernel
		}
		deps, err := moduleDepends(p)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		order = append(order, p)
		return nil
	}
	for _, w := range wanted {
		if err := visit(w); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func normalize(name string) string { return strings.ReplaceAll(name, "-", "_") }

// moduleFile returns the module at path as an ELF file, uncompressed.
func moduleFile(path string) ([]byte, error) {
	if !strings.HasSuffix(path, ".xz") {
		return os.ReadFile(path)
	}
	out, err := exec.Command("xz", "-dc", path).Output()
	if err != nil {
		return nil, fmt.Errorf("xz -dc %s: %v", path, err)
	}
	return out, nil
}

func moduleDepends(path string) ([]string, error) {
	b, err := moduleFile(path)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	defer f.Close()
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok && len(v) > 0 {
			return strings.Split(string(v), ","), nil
		}
	}
	return nil, nil
}

// runArch builds, boots and reads one VM; it returns the tests' exit status.
func runArch(a vmArch, pkg, testArgs string, timeout time.Duration, disk bool) (int, error) {
	tree, version, err := kernelTree(a)
	if err != nil {
		return 0, err
	}
	work, err := os.MkdirTemp("", "vmtest-"+a.GOARCH+"-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	stage := filepath.Join(work, "root")
	if err := os.MkdirAll(filepath.Join(stage, "lib"), 0o755); err != nil {
		return 0, err
	}
	env := append(os.Environ(), "GOOS=linux", "GOARCH="+a.GOARCH, "CGO_ENABLED=0")
	env = append(env, a.Env...)
	initPkg, err := filepath.Abs(filepath.Join(sourceDir(), "init"))
	if err != nil {
		return 0, err
	}
	for _, c := range [][]string{
		{"go", "build", "-o", filepath.Join(stage, "init"), initPkg},
		{"go", "test", "-c", "-o", filepath.Join(stage, "aio.test"), pkg},
	} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("%s: %v", strings.Join(c, " "), err)
		}
	}
	if err := os.WriteFile(filepath.Join(stage, "args"), []byte(testArgs), 0o644); err != nil {
		return 0, err
	}
	var qemuDisk []string
	if disk {
		mods, err := moduleOrder(tree, version, a.Modules)
		if err != nil {
			return 0, err
		}
		var list []string
		for _, m := range mods {
			dst := filepath.Join("/lib", strings.TrimSuffix(filepath.Base(m), ".xz"))
			b, err := moduleFile(m)
			if err != nil {
				return 0, err
			}
			if err := os.WriteFile(filepath.Join(stage, dst), b, 0o644); err != nil {
				return 0, err
			}
			list = append(list, dst)
		}
		if err := os.WriteFile(filepath.Join(stage, "modules"), []byte(strings.Join(list, "\n")), 0o644); err != nil {
			return 0, err
		}
		img := filepath.Join(work, "disk.img")
		if err := os.WriteFile(img, nil, 0o644); err != nil {
			return 0, err
		}
		if err := os.Truncate(img, 256<<20); err != nil {
			return 0, err
		}
		if err := runCmd("mkfs.ext4", "-q", "-F", img); err != nil {
			return 0, err
		}
		for _, d := range a.Disk {
			if strings.Contains(d, "%s") {
				d = fmt.Sprintf(d, img)
			}
			qemuDisk = append(qemuDisk, d)
		}
	}
	initrd := filepath.Join(work, "initrd.gz")
	if err := makeInitrd(stage, initrd); err != nil {
		return 0, err
	}

	args := append([]string{}, a.Machine...)
	cmdline := append([]string{"console=" + a.Console, "panic=-1", "quiet", "loglevel=3"}, a.Append...)
	args = append(args, "-smp", strconv.Itoa(max(a.CPUs, 1)), "-m", "1024", "-nographic", "-no-reboot", "-nic", "none",
		"-kernel", filepath.Join(tree, "boot", fmt.Sprintf(a.Image, version)), "-initrd", initrd,
		"-append", strings.Join(cmdline, " "))
	args = append(args, qemuDisk...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.Qemu, args...)
	cmd.Stdin = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stderr = cmd.Stdout
	fmt.Fprintf(os.Stderr, "vmtest %s: Linux %s, %s\n", a.GOARCH, version, strings.Join(append([]string{a.Qemu}, a.Machine...), " "))
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exit := -1
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		fmt.Println(line)
		if v, ok := strings.CutPrefix(line, "VMTEST-EXIT: "); ok {
			exit, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return 0, fmt.Errorf("the VM ran for more than %v", timeout)
	}
	if exit < 0 {
		return 0, fmt.Errorf("the VM stopped without reporting the tests' status (%v)", werr)
	}
	return exit, nil
}

// sourceDir is this command's directory, for building ./init from anywhere
// in the module.
func sourceDir() string {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/kernelio/aio/internal/vmtest").Output()
	if err != nil {
		return "internal/vmtest"
	}
	return strings.TrimSpace(string(out))
}

// makeInitrd packs dir as a gzipped newc cpio archive, with cpio(1).
func makeInitrd(dir, out string) error {
	var files bytes.Buffer
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files.WriteString(rel + "\n")
		return nil
	})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	cmd := exec.Command("cpio", "--quiet", "-o", "-H", "newc")
	cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = dir, &files, zw, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cpio: %v", err)
	}
	return errors.Join(zw.Close(), f.Close())
}
