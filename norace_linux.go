// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//go:build !race

package aio

// See race_linux.go.

func raceReleaseSubmit(*IoContext) {}

func raceAcquireReaped(*IoContext) {}

// raceEnabled says whether the race detector is on, which allocates
// where the package itself does not.
const raceEnabled = false
