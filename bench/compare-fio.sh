#!/usr/bin/env bash
# Copyright 2026 The kernelio/aio Authors. All rights reserved.
# Use of this source code is governed by a BSD-style license that can be
# found in the LICENSE file.
#
# compare-fio.sh: aiobench against fio's libaio engine, and against the pread
# engine, on the same file: 4 KiB O_DIRECT random reads at iodepth 32 and 1,
# runs interleaved, medians printed as a Markdown table. Each round pins
# every run to one CPU (taskset), taking the CPUs in turn; -cpus none does
# not pin. With -ram it reads a loop device over a file in /dev/shm instead:
# a device fast enough that the programs, not the disk, set the pace.
#
#   bench/compare-fio.sh [-runs 4] [-runtime 5s] [-dir .] [-size 256M] [-cpus all] [-ram]
#
# Run it on a disk file system (not tmpfs): the file goes in -dir (default:
# the current directory) and is removed at the end. It installs fio with
# apt-get when it is missing and it runs as root.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v fio >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null
	else
		echo "compare-fio.sh: fio is missing; run: sudo apt-get install fio" >&2
		exit 1
	fi
fi
cd "$here" && go build -o "${TMPDIR:-/tmp}/aiobench.$$" ./cmd/aiobench
trap 'rm -f "${TMPDIR:-/tmp}/aiobench.$$"' EXIT
go run ./bench/comparefio -aiobench "${TMPDIR:-/tmp}/aiobench.$$" "$@"
