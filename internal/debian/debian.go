// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

// Package debian downloads Debian packages of another suite than the build
// machine's own (trixie's kernel headers and kernels on a Debian 12 host)
// through apt-get with a private source list, package lists and cache, passed
// with -o options: the host's apt sources and state stay untouched. It is
// shared by the generator (../../gen) and internal/vmtest, and depends on the
// standard library only.
package debian

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Mirror is the Debian archive the private source lists read.
const Mirror = "http://deb.debian.org/debian"

// Suite is one suite of the Debian archive, for some architectures, with
// its apt state in a directory of its own under the user cache directory.
type Suite struct {
	Name   string   // "trixie"
	Arches []string // Debian architectures besides amd64 whose lists to read
	dir    string
	update sync.Once
	err    error
}

// NewSuite returns the suite name, read for amd64 and arches. Each choice of
// architectures keeps its lists apart, so that the generator and vmtest do
// not undo each other's apt-get update.
func NewSuite(name string, arches ...string) *Suite {
	dir := strings.Join(append([]string{"apt", name}, arches...), "-")
	return &Suite{Name: name, Arches: arches, dir: filepath.Join(CacheDir(), dir)}
}

// CacheDir is where this module keeps what it downloads.
func CacheDir() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "kernelio-aio")
}

func (s *Suite) aptOptions() []string {
	opts := []string{
		"-o", "Dir::Etc::sourcelist=" + filepath.Join(s.dir, "sources.list"),
		"-o", "Dir::Etc::sourceparts=-",
		"-o", "Dir::State::Lists=" + filepath.Join(s.dir, "lists"),
		"-o", "Dir::Cache=" + filepath.Join(s.dir, "cache"),
		"-o", "APT::Architecture=amd64",
		"-o", "APT::Architectures::=amd64",
		// Only the package lists: no translations, no DEP-11 metadata.
		"-o", "Acquire::Languages=none",
		"-o", "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
		"-o", "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
		"-o", "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
		"-o", "Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled=false",
	}
	for _, a := range s.Arches {
		opts = append(opts, "-o", "APT::Architectures::="+a)
	}
	return opts
}

// Update reads the suite's package lists, once per process. apt checks
// them against the Release file signed with Debian's archive keys (from the
// host's debian-archive-keyring), and every download against them.
func (s *Suite) Update() error {
	s.update.Do(func() {
		for _, d := range []string{"lists/partial", "cache/archives/partial"} {
			if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
				s.err = err
				return
			}
		}
		src := fmt.Sprintf("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n", Mirror, s.Name)
		if err := os.WriteFile(filepath.Join(s.dir, "sources.list"), []byte(src), 0o644); err != nil {
			s.err = err
			return
		}
		args := append(s.aptOptions(), "update", "-qq")
		cmd := exec.Command("apt-get", args...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			s.err = fmt.Errorf("apt-get update for Debian %s: %v\n%s", s.Name, err, stderr.Bytes())
		}
	})
	return s.err
}

// Versions lists the versions of pkg ("name" or "name:arch") the suite has.
func (s *Suite) Versions(pkg string) ([]string, error) {
	if err := s.Update(); err != nil {
		return nil, err
	}
	out, err := exec.Command("apt-cache", append(s.aptOptions(), "madison", pkg)...).Output()
	if err != nil {
		return nil, fmt.Errorf("apt-cache madison %s (Debian %s): %v", pkg, s.Name, err)
	}
	var vs []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, "|"); len(f) >= 3 && strings.Contains(f[2], s.Name) {
			vs = append(vs, strings.TrimSpace(f[1]))
		}
	}
	return vs, nil
}

// KernelPackage returns the linux-image package that the kernel
// metapackage meta (for Debian architecture arch) depends on, and its
// kernel version: ("linux-image-6.12.117+deb13-riscv64", "6.12.117+deb13-riscv64").
func (s *Suite) KernelPackage(meta, arch string) (pkg, version string, err error) {
	if s != nil {
		if err := s.Update(); err != nil {
			return "", "", err
		}
	}
	out, err := exec.Command("apt-cache", append(s.options(), "depends", meta+":"+arch)...).Output()
	if err != nil {
		return "", "", fmt.Errorf("apt-cache depends %s:%s: %v", meta, arch, err)
	}
	m := regexp.MustCompile(`Depends: (linux-image-([0-9][^:\s]*))`).FindStringSubmatch(string(out))
	if m == nil {
		return "", "", fmt.Errorf("%s:%s depends on no linux-image package", meta, arch)
	}
	return m[1], m[2], nil
}

// options is aptOptions, or none for the host's own sources (a nil Suite).
func (s *Suite) options() []string {
	if s == nil {
		return nil
	}
	return s.aptOptions()
}

// Download fetches pkg ("name:arch" or "name=version") into dir and returns
// the .deb's path. A nil Suite downloads from the host's own sources.
func (s *Suite) Download(pkg, dir string) (string, error) {
	if s != nil {
		if err := s.Update(); err != nil {
			return "", err
		}
	}
	before, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	cmd := exec.Command("apt-get", append(s.options(), "download", "-qq", pkg)...)
	var stderr bytes.Buffer
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %v\n%s", pkg, err, stderr.Bytes())
	}
	after, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	for _, p := range after {
		if !contains(before, p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("apt-get download %s: no new .deb in %s", pkg, dir)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Pinned is one exact version of one package of a suite, with the SHA-256
// of its .deb.
type Pinned struct {
	Suite, Package, Version, SHA256 string
}

func (p Pinned) String() string {
	return fmt.Sprintf("Debian %s %s %s", p.Suite, p.Package, p.Version)
}

// Unpacked returns a directory holding the unpacked contents of the pinned
// package, downloading, checking and unpacking it the first time.
func (p Pinned) Unpacked() (string, error) {
	dir := filepath.Join(CacheDir(), p.Package+"_"+p.Version)
	stamp := filepath.Join(dir, ".sha256")
	if b, err := os.ReadFile(stamp); err == nil && string(b) == p.SHA256 {
		return dir, nil
	}
	s := NewSuite(p.Suite)
	dl, err := os.MkdirTemp("", "aio-deb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dl)
	deb, err := s.Download(p.Package+"="+p.Version, dl)
	if err != nil {
		have, _ := s.Versions(p.Package)
		return "", fmt.Errorf("%v: the pinned version is not on %s any more (it has %s); "+
			"pin one it has in internal/archs and run ./mkall.sh: %w",
			p, Mirror, strings.Join(have, ", "), err)
	}
	b, err := os.ReadFile(deb)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != p.SHA256 {
		return "", fmt.Errorf("%v: SHA-256 %s, pinned %s", p, got, p.SHA256)
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("dpkg-deb", "-x", deb, tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x %s: %v\n%s", deb, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".sha256"), []byte(p.SHA256), 0o644); err != nil {
		return "", err
	}
	os.RemoveAll(dir)
	return dir, os.Rename(tmp, dir)
}
