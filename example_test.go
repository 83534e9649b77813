package aio_test

import (
	"fmt"
	"log"
	"os"
	"runtime"
	"unsafe"

	"github.com/kernelio/aio"
	"golang.org/x/sys/unix"
)

// Read a file with one asynchronous request and wait for its completion.
func Example() {
	f, err := os.CreateTemp("", "aio-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.WriteString("hello, kernel AIO"); err != nil {
		log.Fatal(err)
	}

	ctx, err := aio.NewIoContext(8)
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()

	// The kernel writes buf after Submit returns: it must stay reachable
	// until the completion is reaped (see the package documentation).
	buf := make([]byte, 4096)
	cb := &aio.IoControlBlock{
		LioOpcode: aio.IOCB_CMD_PREAD,
		Fildes:    uint32(f.Fd()),
		Buf:       uint64(uintptr(unsafe.Pointer(&buf[0]))),
		Nbytes:    uint64(len(buf)),
		Offset:    0,
		Data:      1,
	}
	if _, err := ctx.Submit([]*aio.IoControlBlock{cb}); err != nil {
		log.Fatal(err)
	}
	events := make([]aio.IoEvent, 1)
	if _, err := ctx.GetEvents(1, events, nil); err != nil {
		log.Fatal(err)
	}
	ev := events[0]
	if ev.Res < 0 {
		log.Fatal(unix.Errno(-ev.Res))
	}
	fmt.Printf("request %d read %d bytes: %s\n", ev.Data, ev.Res, buf[:ev.Res])
	runtime.KeepAlive(buf)
	// Output: request 1 read 17 bytes: hello, kernel AIO
}

// Wait for completions with a timeout; a zero timeout only polls.
func ExampleIoContext_GetEvents() {
	ctx, err := aio.NewIoContext(8)
	if err != nil {
		log.Fatal(err)
	}
	defer ctx.Close()
	events := make([]aio.IoEvent, 16)
	timeout := unix.NsecToTimespec(10e6) // 10ms
	n, err := ctx.GetEvents(1, events, &timeout)
	fmt.Println(n, err)
	// Output: 0 <nil>
}
