//go:build !linux

package main

import (
	"fmt"
	"os"
)

// main says that the command needs Linux: it measures Linux native AIO.
func main() {
	fmt.Fprintln(os.Stderr, "comparefio: Linux native AIO needs Linux")
	os.Exit(1)
}
