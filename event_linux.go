// Copyright 2026 The kernelio/aio Authors. All rights reserved.
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

package aio

import "syscall"

// Err returns the error of the request, as the kernel reported it in Res (a
// negated errno): for example EIO, EINVAL for misaligned O_DIRECT memory,
// EAGAIN for RWF_NOWAIT that would have blocked, EFBIG past RLIMIT_FSIZE.
// It returns nil when the request succeeded; a read or write may still
// have transferred fewer bytes than asked (Res).
func (ev *IoEvent) Err() error {
	if ev.Res < 0 && ev.Res >= -4095 {
		return syscall.Errno(-ev.Res)
	}
	return nil
}
