// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build !linux

package main

import (
	"fmt"
	"os"
)

// main says that the command needs Linux: it runs aiobench, which does.
func main() {
	fmt.Fprintln(os.Stderr, "compareengines: aiobench needs Linux")
	os.Exit(1)
}
