// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build race

package aio

import (
	"runtime"
	"unsafe"
)

// The kernel orders a request's completion after its submit, but the race
// detector cannot see that: a block submitted on one goroutine, reaped on
// another and prepared again on a third looks like a data race. Submit
// therefore releases the context's sync address after its last write to
// the blocks, and every path that reaps completions acquires it, as the
// kernel's ordering does. In builds without -race these are empty
// functions (norace_linux.go) that the compiler removes.

// raceReleaseSubmit tells the detector that what the caller and Submit
// wrote so far happens before the completions of the requests submitted.
func raceReleaseSubmit(c *IoContext) {
	runtime.RaceReleaseMerge(unsafe.Pointer(&c.id))
}

// raceAcquireReaped tells the detector that the completions just reaped
// happen after the submits of their requests.
func raceAcquireReaped(c *IoContext) {
	runtime.RaceAcquire(unsafe.Pointer(&c.id))
}

// raceEnabled says whether the race detector is on, which allocates
// where the package itself does not.
const raceEnabled = true
