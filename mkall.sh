#!/usr/bin/env bash
# Copyright 2026 The kernelio/aio Authors. All rights reserved.
# Use of this source code is governed by a BSD-style license that can be
# found in the LICENSE file.

# mkall.sh regenerates zaio_linux.go, zaio_linux_GOARCH.go and
# zaio_linux_GOARCH_test.go for every Linux GOARCH from <linux/aio_abi.h>,
# through cgo -godefs and each architecture's C compiler (see gen/). The
# kernel headers of every architecture come from the one Debian package
# pinned in internal/archs (UAPI), downloaded through a private apt source
# list into the user cache directory; the C compilers come from Debian 12's
# packages, which it installs when they are missing and it runs as root, or
# prints the apt-get command to run. `go generate ./...` runs it.
set -euo pipefail
cd "$(dirname "$0")"

mapfile -t pkgs < <(cd gen && go run . -packages)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "mkall.sh: installing ${missing[*]}" >&2
		# A mirror caught mid-sync fails some index; the install says if it matters.
		apt-get update -qq || echo "mkall.sh: apt-get update failed; trying the install anyway" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "mkall.sh: missing packages; run: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
fi

# The generator writes nothing unless every architecture succeeds, and drops
# the zaio files it no longer writes.
(cd gen && go run . -out ..)
