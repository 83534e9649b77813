// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package main

import (
	"os/exec"
	"runtime"
	"strings"

	"github.com/kernelio/aio/internal/archs"
)

// arch is one Linux GOARCH of the table in internal/archs, which
// internal/vmtest shares.
type arch struct{ archs.Arch }

func allArches() []arch {
	var as []arch
	for _, a := range archs.All {
		as = append(as, arch{a})
	}
	return as
}

func (a arch) cc() string { return a.CC }

// ccPath is the compiler's executable, for exec.LookPath.
func (a arch) ccPath() string { return strings.Fields(a.CC)[0] }

// native reports whether this is the build machine's own architecture, whose
// compiler comes from the ordinary gcc package.
func (a arch) native() bool { return a.GOARCH == runtime.GOARCH }

// packages names the Debian 12 package that gives this architecture's C
// compiler. Its kernel headers come from archs.UAPI, not from a package of
// the host.
func (a arch) packages() []string {
	if a.native() && strings.HasPrefix(a.CCPackage, "gcc-") {
		return []string{"gcc"}
	}
	return []string{a.CCPackage}
}

// includeFlags make the compiler see its own headers (stddef.h) and the
// pinned UAPI headers in uapi, and nothing else: no libc, and none of the
// host's kernel headers.
func (a arch) includeFlags(uapi string) ([]string, error) {
	args := append(strings.Fields(a.CC)[1:], "-print-file-name=include")
	out, err := exec.Command(a.ccPath(), args...).Output()
	if err != nil {
		return nil, err
	}
	own := strings.TrimSpace(string(out))
	return []string{"-nostdinc", "-isystem", own,
		"-I", uapi + "/usr/include/" + a.Triplet, "-I", uapi + "/usr/include"}, nil
}
