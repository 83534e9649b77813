// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package archs

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestEveryLinuxGOARCH holds the table against the Linux ports of the Go
// toolchain that runs the test.
func TestEveryLinuxGOARCH(t *testing.T) {
	out, err := exec.Command("go", "tool", "dist", "list").Output()
	if err != nil {
		t.Skipf("go tool dist list: %v", err)
	}
	var want []string
	for _, p := range strings.Fields(string(out)) {
		if arch, ok := strings.CutPrefix(p, "linux/"); ok {
			want = append(want, arch)
		}
	}
	var have []string
	for _, a := range All {
		have = append(have, a.GOARCH)
	}
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(have, want) {
		t.Errorf("the table has %v, Go has %v", have, want)
	}
}

func TestTable(t *testing.T) {
	for _, a := range All {
		if a.DebArch == "" || a.Triplet == "" || a.CC == "" || a.CCPackage == "" {
			t.Errorf("%s: incomplete: %+v", a.GOARCH, a)
		}
		if got, ok := Find(a.GOARCH); !ok || got.GOARCH != a.GOARCH {
			t.Errorf("Find(%q) = %v, %v", a.GOARCH, got.GOARCH, ok)
		}
		if v := a.VM; v != nil {
			if v.Kernel == "" || v.Image == "" || v.Qemu == "" || v.QemuPkg == "" ||
				v.Console == "" || v.CPUs < 1 || len(v.Machine) == 0 || len(v.Disk) == 0 {
				t.Errorf("%s: incomplete VM: %+v", a.GOARCH, *v)
			}
		}
	}
	if UAPI.Version == "" || len(UAPI.SHA256) != 64 {
		t.Errorf("UAPI pin incomplete: %+v", UAPI)
	}
}
