//go:build !race

package aio

// See race_linux.go.

func raceReleaseSubmit(*IoContext) {}

func raceAcquireReaped(*IoContext) {}
