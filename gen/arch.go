package main

import "runtime"

// arch is one Linux GOARCH and the Debian packages that compile C for it.
type arch struct {
	goarch  string
	triplet string // GNU triplet of Debian's cross compiler: the CC is triplet-gcc
	debArch string // Debian architecture whose kernel headers match
}

// arches lists every Linux GOARCH for which Debian ships a C cross compiler.
// loong64 is missing: Debian 12 has neither a loongarch64 cross compiler nor
// its kernel headers.
var arches = []arch{
	{"386", "i686-linux-gnu", "i386"},
	{"amd64", "x86_64-linux-gnu", "amd64"},
	{"arm", "arm-linux-gnueabihf", "armhf"},
	{"arm64", "aarch64-linux-gnu", "arm64"},
	{"mips", "mips-linux-gnu", "mips"},
	{"mipsle", "mipsel-linux-gnu", "mipsel"},
	{"mips64", "mips64-linux-gnuabi64", "mips64"},
	{"mips64le", "mips64el-linux-gnuabi64", "mips64el"},
	{"ppc64", "powerpc64-linux-gnu", "ppc64"},
	{"ppc64le", "powerpc64le-linux-gnu", "ppc64el"},
	{"riscv64", "riscv64-linux-gnu", "riscv64"},
	{"s390x", "s390x-linux-gnu", "s390x"},
}

func (a arch) cc() string { return a.triplet + "-gcc" }

// native reports whether this is the build machine's own architecture, whose
// compiler and headers come from the ordinary packages, not the -cross ones.
func (a arch) native() bool { return a.goarch == runtime.GOARCH }

// packages names the Debian packages that give this architecture's C
// compiler and <linux/aio_abi.h>.
func (a arch) packages() []string {
	if a.native() {
		return []string{"gcc", "linux-libc-dev"}
	}
	return []string{"gcc-" + a.triplet, "linux-libc-dev-" + a.debArch + "-cross"}
}
