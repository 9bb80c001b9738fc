package c2s

import (
	"syscall"
	"unsafe"
)

// readNow and writeNow are read(2) and write(2) on a non-blocking socket,
// made without telling the Go scheduler that a system call is under way.
// The calls return at once, so the scheduler has nothing to do for them,
// but its notice is not free: when the process was idle, it wakes the
// runtime's monitor thread. A server that sleeps between messages paid
// for that wake-up, two context switches, on most messages it read or
// wrote.
//
// Like syscall.Read and syscall.Write they return -1 and the error when
// the call fails.
func readNow(fd int, p []byte) (int, error) {
	return rawIO(syscall.SYS_READ, fd, p)
}

func writeNow(fd int, p []byte) (int, error) {
	return rawIO(syscall.SYS_WRITE, fd, p)
}

func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
