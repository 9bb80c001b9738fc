package c2s

import (
	"syscall"
	"unsafe"
)

// readNow and writeNow make read(2) and write(2) on a non-blocking socket
// without the Go scheduler's system call path. That path wakes the
// runtime's monitor thread if the process was idle, which cost a futex
// call and a nanosleep on most messages of a server idle between them.
//
// Like syscall.Read and syscall.Write, they return -1 and the error on failure.
func readNow(fd int, p []byte) (int, error) {
	return rawIO(syscall.SYS_READ, fd, p)
}

func writeNow(fd int, p []byte) (int, error) {
	return rawIO(syscall.SYS_WRITE, fd, p)
}

func rawIO(number uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(number, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
