// Command vmtest runs the package's tests on other architectures, each on
// its own Debian kernel under qemu-system: qemu-user has no io_* system
// calls, and a layout is only proven against the kernel of its architecture.
//
//	go run ./internal/vmtest                    # arm64 and s390x
//	go run ./internal/vmtest -arch arm64,s390x,ppc64le,arm
//
// For each architecture it cross-compiles the tests (go test -c) and a small
// init (./init), downloads Debian's kernel package for the architecture
// (cached in the user cache directory), builds an initramfs with the two
// binaries and the kernel modules for a virtio disk and ext4, and boots it
// with an ext4 disk so that O_DIRECT is tested too. It prints the console,
// and exits with the tests' status. Run as root on Debian, it installs
// qemu-system, cpio and e2fsprogs when they are missing.
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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// vmArch is how to boot one architecture.
type vmArch struct {
	goarch  string
	env     []string // extra Go build environment
	debArch string   // Debian architecture
	kernel  string   // Debian metapackage of the kernel
	image   string   // the kernel file in /boot, %s being the version
	qemu    string   // qemu binary
	qemuPkg string   // its Debian package
	machine []string // qemu machine arguments
	disk    []string // qemu arguments attaching disk.img (%s)
	console string
	modules []string // to load, in order (their dependencies come first)
}

var vmArches = []vmArch{
	{
		goarch: "arm64", debArch: "arm64", kernel: "linux-image-arm64", image: "vmlinuz-%s",
		qemu: "qemu-system-aarch64", qemuPkg: "qemu-system-arm",
		machine: []string{"-M", "virt", "-cpu", "cortex-a57"},
		disk:    []string{"-drive", "file=%s,if=none,id=d0,format=raw", "-device", "virtio-blk-pci,drive=d0"},
		console: "ttyAMA0", modules: []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"},
	},
	{
		goarch: "s390x", debArch: "s390x", kernel: "linux-image-s390x", image: "vmlinuz-%s",
		qemu: "qemu-system-s390x", qemuPkg: "qemu-system-misc",
		machine: []string{"-M", "s390-ccw-virtio"},
		disk:    []string{"-drive", "file=%s,if=none,id=d0,format=raw", "-device", "virtio-blk-ccw,drive=d0"},
		console: "ttysclp0", modules: []string{"virtio_blk", "crc32c_generic", "ext4"},
	},
	{
		goarch: "ppc64le", debArch: "ppc64el", kernel: "linux-image-powerpc64le", image: "vmlinux-%s",
		qemu: "qemu-system-ppc64", qemuPkg: "qemu-system-ppc",
		machine: []string{"-M", "pseries", "-cpu", "power9", "-vga", "none"},
		disk:    []string{"-drive", "file=%s,if=none,id=d0,format=raw", "-device", "virtio-blk-pci,drive=d0"},
		console: "hvc0", modules: []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"},
	},
	{
		goarch: "arm", env: []string{"GOARM=7"}, debArch: "armhf", kernel: "linux-image-armmp-lpae", image: "vmlinuz-%s",
		qemu: "qemu-system-arm", qemuPkg: "qemu-system-arm",
		machine: []string{"-M", "virt", "-cpu", "cortex-a15"},
		disk:    []string{"-drive", "file=%s,if=none,id=d0,format=raw", "-device", "virtio-blk-device,drive=d0"},
		console: "ttyAMA0", modules: []string{"virtio_mmio", "virtio_blk", "crc32c_generic", "ext4"},
	},
}

func main() {
	archList := flag.String("arch", "arm64,s390x", "comma-separated GOARCHes: "+names())
	pkgDir := flag.String("pkg", ".", "the package whose tests to run")
	testArgs := flag.String("args", "-test.v -test.timeout=150s", "arguments for the test binary")
	timeout := flag.Duration("timeout", 4*time.Minute, "longest a VM may run")
	noDisk := flag.Bool("nodisk", false, "boot without the ext4 disk (O_DIRECT tests skip)")
	flag.Parse()

	var chosen []vmArch
	for _, name := range strings.Split(*archList, ",") {
		a, ok := find(name)
		if !ok {
			fail(fmt.Errorf("no VM for GOARCH %q; have %s", name, names()))
		}
		chosen = append(chosen, a)
	}
	if err := installTools(chosen); err != nil {
		fail(err)
	}
	status := 0
	for _, a := range chosen {
		start := time.Now()
		code, err := runArch(a, *pkgDir, *testArgs, *timeout, !*noDisk)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vmtest %s: %v\n", a.goarch, err)
			code = 1
		}
		fmt.Fprintf(os.Stderr, "vmtest %s: exit %d in %.1fs\n", a.goarch, code, time.Since(start).Seconds())
		if code != 0 {
			status = 1
		}
	}
	os.Exit(status)
}

func names() string {
	var n []string
	for _, a := range vmArches {
		n = append(n, a.goarch)
	}
	return strings.Join(n, ", ")
}

func find(goarch string) (vmArch, bool) {
	for _, a := range vmArches {
		if a.goarch == goarch {
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
	for _, a := range chosen {
		need(a.qemu, a.qemuPkg)
	}
	out, _ := exec.Command("dpkg", "--print-foreign-architectures").Output()
	foreign := strings.Fields(string(out))
	var add []string
	for _, a := range chosen {
		if !slices.Contains(foreign, a.debArch) && !slices.Contains(add, a.debArch) {
			add = append(add, a.debArch)
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
	out, err := exec.Command("apt-cache", "depends", a.kernel+":"+a.debArch).Output()
	if err != nil {
		return "", "", fmt.Errorf("apt-cache depends %s:%s: %v", a.kernel, a.debArch, err)
	}
	m := regexp.MustCompile(`Depends: (linux-image-([0-9][^:\s]*))`).FindStringSubmatch(string(out))
	if m == nil {
		return "", "", fmt.Errorf("%s:%s depends on no linux-image package", a.kernel, a.debArch)
	}
	pkg, version := m[1], m[2]
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir = filepath.Join(cache, "kernelio-aio-vmtest", pkg+"_"+a.debArch)
	if _, err := os.Stat(filepath.Join(dir, "boot", fmt.Sprintf(a.image, version))); err == nil {
		return dir, version, nil
	}
	dl, err := os.MkdirTemp("", "vmtest-deb-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(dl)
	cmd := exec.Command("apt-get", "download", "-qq", pkg+":"+a.debArch)
	cmd.Dir, cmd.Stderr = dl, io.Discard // it complains that _apt cannot write there
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("apt-get download %s:%s: %v", pkg, a.debArch, err)
	}
	debs, _ := filepath.Glob(filepath.Join(dl, "*.deb"))
	if len(debs) != 1 {
		return "", "", fmt.Errorf("apt-get download %s: got %v", pkg, debs)
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", "", err
	}
	if err := runCmd("dpkg-deb", "-x", debs[0], tmp); err != nil {
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
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".ko") {
			paths[normalize(strings.TrimSuffix(d.Name(), ".ko"))] = p
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

func moduleDepends(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
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
func runArch(a vmArch, pkgDir, testArgs string, timeout time.Duration, disk bool) (int, error) {
	tree, version, err := kernelTree(a)
	if err != nil {
		return 0, err
	}
	work, err := os.MkdirTemp("", "vmtest-"+a.goarch+"-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	stage := filepath.Join(work, "root")
	if err := os.MkdirAll(filepath.Join(stage, "lib"), 0o755); err != nil {
		return 0, err
	}
	env := append(os.Environ(), "GOOS=linux", "GOARCH="+a.goarch, "CGO_ENABLED=0")
	env = append(env, a.env...)
	initPkg, err := filepath.Abs(filepath.Join(sourceDir(), "init"))
	if err != nil {
		return 0, err
	}
	for _, c := range [][]string{
		{"go", "build", "-o", filepath.Join(stage, "init"), initPkg},
		{"go", "test", "-c", "-o", filepath.Join(stage, "aio.test"), pkgDir},
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
		mods, err := moduleOrder(tree, version, a.modules)
		if err != nil {
			return 0, err
		}
		var list []string
		for _, m := range mods {
			dst := filepath.Join("/lib", filepath.Base(m))
			if err := copyFile(m, filepath.Join(stage, dst)); err != nil {
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
		for _, d := range a.disk {
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

	args := append([]string{}, a.machine...)
	args = append(args, "-smp", "2", "-m", "1024", "-nographic", "-no-reboot", "-nic", "none",
		"-kernel", filepath.Join(tree, "boot", fmt.Sprintf(a.image, version)), "-initrd", initrd,
		"-append", "console="+a.console+" panic=-1 quiet loglevel=3")
	args = append(args, qemuDisk...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.qemu, args...)
	cmd.Stdin = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stderr = cmd.Stdout
	fmt.Fprintf(os.Stderr, "vmtest %s: Linux %s, %s\n", a.goarch, version, strings.Join(append([]string{a.qemu}, a.machine...), " "))
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

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
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
