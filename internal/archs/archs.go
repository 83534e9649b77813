// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

// Package archs is the one table of the Linux architectures that the
// package supports: the generator (../../gen, which reaches it through a
// replace directive) takes from it how to compile C for each, and
// internal/vmtest how to boot it. Like internal/debian, which it uses, it
// depends on the standard library only.
package archs

import "github.com/kernelio/aio/internal/debian"

// Arch is one Linux GOARCH.
type Arch struct {
	GOARCH string
	// Env is what go build needs besides GOOS and GOARCH to run on the CPU
	// the VM emulates (GOARM, GOMIPS).
	Env []string
	// DebArch is the Debian architecture.
	DebArch string
	// Triplet is the multiarch triplet: the directory under /usr/include
	// where Debian's linux-libc-dev keeps this architecture's asm headers.
	Triplet string
	// CC is the C compiler for the target, as cgo takes it in $CC, and
	// CCPackage the Debian 12 package that brings it.
	CC, CCPackage string
	// VM boots the architecture's own kernel under qemu-system; nil where the
	// tests run natively on the build machine (amd64, 386).
	VM *VM
}

// VM is how internal/vmtest boots an architecture.
type VM struct {
	// Suite is the Debian suite of the kernel: "" for the build machine's
	// own, else one read through a private apt list (internal/debian).
	Suite   string
	Kernel  string   // the Debian metapackage of the kernel
	Image   string   // the kernel file in /boot, %s being the version
	Qemu    string   // qemu-system binary
	QemuPkg string   // its Debian package
	Machine []string // qemu machine, CPU and firmware arguments
	Disk    []string // qemu arguments attaching the disk image (%s)
	CPUs    int      // for -smp
	Console string   // the console device, for console=
	Append  []string // more kernel arguments
	Modules []string // to load, in order (their dependencies are found)
}

var virtioPCIDisk = []string{"-drive", "file=%s,if=none,id=d0,format=raw", "-device", "virtio-blk-pci,drive=d0"}

// All lists every Linux GOARCH that Go supports.
var All = []Arch{
	{GOARCH: "386", DebArch: "i386", Triplet: "i386-linux-gnu",
		CC: "i686-linux-gnu-gcc", CCPackage: "gcc-i686-linux-gnu"},
	{GOARCH: "amd64", DebArch: "amd64", Triplet: "x86_64-linux-gnu",
		CC: "x86_64-linux-gnu-gcc", CCPackage: "gcc-x86-64-linux-gnu"},
	{GOARCH: "arm", Env: []string{"GOARM=7"}, DebArch: "armhf", Triplet: "arm-linux-gnueabihf",
		CC: "arm-linux-gnueabihf-gcc", CCPackage: "gcc-arm-linux-gnueabihf",
		VM: &VM{
			Kernel: "linux-image-armmp-lpae", Image: "vmlinuz-%s",
			Qemu: "qemu-system-arm", QemuPkg: "qemu-system-arm", CPUs: 2,
			Machine: []string{"-M", "virt", "-cpu", "cortex-a15"},
			Disk:    []string{"-drive", "file=%s,if=none,id=d0,format=raw", "-device", "virtio-blk-device,drive=d0"},
			Console: "ttyAMA0", Modules: []string{"virtio_mmio", "virtio_blk", "crc32c_generic", "ext4"},
		}},
	{GOARCH: "arm64", DebArch: "arm64", Triplet: "aarch64-linux-gnu",
		CC: "aarch64-linux-gnu-gcc", CCPackage: "gcc-aarch64-linux-gnu",
		VM: &VM{
			Kernel: "linux-image-arm64", Image: "vmlinuz-%s",
			Qemu: "qemu-system-aarch64", QemuPkg: "qemu-system-arm", CPUs: 2,
			Machine: []string{"-M", "virt", "-cpu", "cortex-a57"},
			Disk:    virtioPCIDisk,
			Console: "ttyAMA0", Modules: []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"},
		}},
	{GOARCH: "loong64", DebArch: "loong64", Triplet: "loongarch64-linux-gnu",
		// Debian 12 has no loongarch64 gcc; its clang 16 targets it.
		CC: "clang-16 --target=loongarch64-linux-gnu", CCPackage: "clang-16"},
	{GOARCH: "mips", DebArch: "mips", Triplet: "mips-linux-gnu",
		CC: "mips-linux-gnu-gcc", CCPackage: "gcc-mips-linux-gnu"},
	{GOARCH: "mipsle", Env: []string{"GOMIPS=hardfloat"}, DebArch: "mipsel", Triplet: "mipsel-linux-gnu",
		CC: "mipsel-linux-gnu-gcc", CCPackage: "gcc-mipsel-linux-gnu",
		VM: &VM{
			// Malta's 24Kf (and 5KEf, below) has the FPU that GOMIPS=hardfloat
			// wants; Malta runs one CPU here.
			Kernel: "linux-image-4kc-malta", Image: "vmlinuz-%s",
			Qemu: "qemu-system-mipsel", QemuPkg: "qemu-system-mips", CPUs: 1,
			Machine: []string{"-M", "malta", "-cpu", "24Kf", "-vga", "none"},
			Disk:    virtioPCIDisk,
			Console: "ttyS0", Append: maltaAppend,
			Modules: []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"},
		}},
	{GOARCH: "mips64", DebArch: "mips64", Triplet: "mips64-linux-gnuabi64",
		CC: "mips64-linux-gnuabi64-gcc", CCPackage: "gcc-mips64-linux-gnuabi64"},
	{GOARCH: "mips64le", Env: []string{"GOMIPS64=hardfloat"}, DebArch: "mips64el", Triplet: "mips64el-linux-gnuabi64",
		CC: "mips64el-linux-gnuabi64-gcc", CCPackage: "gcc-mips64el-linux-gnuabi64",
		VM: &VM{
			Kernel: "linux-image-5kc-malta", Image: "vmlinuz-%s",
			Qemu: "qemu-system-mips64el", QemuPkg: "qemu-system-mips", CPUs: 1,
			Machine: []string{"-M", "malta", "-cpu", "5KEf", "-vga", "none"},
			Disk:    virtioPCIDisk,
			Console: "ttyS0", Append: maltaAppend,
			Modules: []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"},
		}},
	{GOARCH: "ppc64", DebArch: "ppc64", Triplet: "powerpc64-linux-gnu",
		CC: "powerpc64-linux-gnu-gcc", CCPackage: "gcc-powerpc64-linux-gnu"},
	{GOARCH: "ppc64le", DebArch: "ppc64el", Triplet: "powerpc64le-linux-gnu",
		CC: "powerpc64le-linux-gnu-gcc", CCPackage: "gcc-powerpc64le-linux-gnu",
		VM: &VM{
			Kernel: "linux-image-powerpc64le", Image: "vmlinux-%s",
			Qemu: "qemu-system-ppc64", QemuPkg: "qemu-system-ppc", CPUs: 2,
			Machine: []string{"-M", "pseries", "-cpu", "power9", "-vga", "none"},
			Disk:    virtioPCIDisk,
			Console: "hvc0", Modules: []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"},
		}},
	{GOARCH: "riscv64", DebArch: "riscv64", Triplet: "riscv64-linux-gnu",
		CC: "riscv64-linux-gnu-gcc", CCPackage: "gcc-riscv64-linux-gnu",
		VM: &VM{
			// Debian 12 has no riscv64 kernel; trixie has. qemu's own
			// OpenSBI (-bios default, from qemu-system-data) starts it.
			Suite: "trixie", Kernel: "linux-image-riscv64", Image: "vmlinux-%s",
			Qemu: "qemu-system-riscv64", QemuPkg: "qemu-system-misc", CPUs: 2,
			Machine: []string{"-M", "virt", "-bios", "default"},
			Disk:    virtioPCIDisk,
			Console: "ttyS0", Modules: []string{"virtio_pci", "virtio_blk", "crc32c_generic", "ext4"},
		}},
	{GOARCH: "s390x", DebArch: "s390x", Triplet: "s390x-linux-gnu",
		CC: "s390x-linux-gnu-gcc", CCPackage: "gcc-s390x-linux-gnu",
		VM: &VM{
			Kernel: "linux-image-s390x", Image: "vmlinuz-%s",
			Qemu: "qemu-system-s390x", QemuPkg: "qemu-system-misc", CPUs: 2,
			Machine: []string{"-M", "s390-ccw-virtio"},
			Disk:    []string{"-drive", "file=%s,if=none,id=d0,format=raw", "-device", "virtio-blk-ccw,drive=d0"},
			Console: "ttysclp0", Modules: []string{"virtio_blk", "crc32c_generic", "ext4"},
		}},
}

// maltaAppend: under qemu 7.2 a Malta guest with high-resolution timers now
// and then misses a timer event and sits idle for about 27 s.
var maltaAppend = []string{"highres=off", "nohz=off"}

// Find returns the architecture of a GOARCH.
func Find(goarch string) (Arch, bool) {
	for _, a := range All {
		if a.GOARCH == goarch {
			return a, true
		}
	}
	return Arch{}, false
}

// UAPI is where every architecture's kernel headers come from: one version
// of Debian trixie's linux-libc-dev, which is "Architecture: all" and holds
// the UAPI headers of every architecture (asm under /usr/include/TRIPLET).
// The generator compiles with -nostdinc, the C compiler's own include
// directory and these headers only, so the host's kernel and libc headers
// play no part, and names the version in the generated files' first line. When Debian drops this version from the
// archive, the generator says so and lists what is there: pin one of those
// (its SHA256 is what `sha256sum` says of the .deb) and run ./mkall.sh.
var UAPI = debian.Pinned{
	Suite:   "trixie",
	Package: "linux-libc-dev",
	Version: "6.12.117-1",
	SHA256:  "8b4848725a2705e5b1612f2135c44300716690ba762368ab87df127e9a5ed416",
}
