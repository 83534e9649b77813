#!/usr/bin/env bash
# Copyright 2026 The kernelio/aio Authors. All rights reserved.
# Use of this source code is governed by a BSD-style license that can be
# found in the LICENSE file.
#
# compare-engines.sh: aiobench's engines (queue, pread, aio, file) side by
# side, 4 KiB O_DIRECT random reads at iodepth 64 by default, in interleaved
# rounds (every engine once per round, in order), medians and spread printed
# as a Markdown table. -ram reads a loop device over a file in /dev/shm
# instead of a file in -dir (root, losetup).
#
#   bench/compare-engines.sh [-engines queue,pread,aio] [-runs 5] [-runtime 5s] [-size 1G] [-dir .] [-ram]
#   bench/compare-engines.sh -engines file,pread -rw randwrite -fsync 16 -dir /var/tmp
#
# Run it on a disk file system (not tmpfs): the file goes in -dir (default:
# the current directory) and is removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="${TMPDIR:-/tmp}/aiobench.$$"
cd "$here" && go build -o "$bin" ./cmd/aiobench
trap 'rm -f "$bin"' EXIT
go run ./bench/compareengines -aiobench "$bin" "$@"
