package c2s

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// readNow and writeNow make read(2) and write(2) on a non-blocking socket
// without the Go scheduler's system call path. That path wakes the
// runtime's monitor thread if the process was idle, which cost a futex
// call and a nanosleep on most reads and writes of a server that is idle
// between them.
//
// Like syscall.Read and syscall.Write, they return -1 and the error on
// failure. They repeat a call that a signal interrupted.
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
	for {
		n, _, errno := syscall.RawSyscall(number, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch errno {
		case 0:
			return int(n), nil
		case syscall.EINTR:
		default:
			return -1, errno
		}
	}
}

// rawSocket reads and writes a TCP socket with readNow and writeNow,
// waiting through the runtime's poller as net.TCPConn does, so deadlines
// and Close work the same. Its callbacks keep their data in the fields.
type rawSocket struct {
	rc   syscall.RawConn
	conn net.Conn // for the addresses in errors

	readMu  sync.Mutex
	readBuf []byte
	readN   int
	readErr error
	readFn  func(fd uintptr) bool // readOnce, bound once

	writeMu  sync.Mutex
	writeBuf []byte
	written  int
	writeErr error
	writeFn  func(fd uintptr) bool // writeAll, bound once
	tryFn    func(fd uintptr) bool // writeOnce, bound once
}

func newRawSocket(rc syscall.RawConn, conn net.Conn) *rawSocket {
	s := &rawSocket{rc: rc, conn: conn}
	s.readFn = s.readOnce
	s.writeFn = s.writeAll
	s.tryFn = s.writeOnce
	return s
}

// read is net.Conn.Read.
func (s *rawSocket) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.readBuf = p
	err := s.rc.Read(s.readFn)
	n, readErr := s.readN, s.readErr
	s.readBuf, s.readN, s.readErr = nil, 0, nil
	switch {
	case err != nil:
		return 0, s.opError("read", err)
	case readErr != nil:
		return 0, s.opError("read", os.NewSyscallError("read", readErr))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (s *rawSocket) readOnce(fd uintptr) bool {
	s.readN, s.readErr = readNow(int(fd), s.readBuf)
	if s.readN < 0 {
		s.readN = 0
	}
	if s.readErr == syscall.EAGAIN {
		s.readErr = nil
		return false
	}
	return true
}

// write is net.Conn.Write: it returns once all of p is written, or with
// the error that stopped it.
func (s *rawSocket) write(p []byte) (int, error) {
	n, err, writeErr := s.callWrite(p, s.writeFn)
	switch {
	case err != nil:
		return n, s.opError("write", err)
	case writeErr != nil:
		return n, s.opError("write", os.NewSyscallError("write", writeErr))
	}
	return n, nil
}

// tryWrite writes what the socket takes of p at once and returns how
// much that was. It returns an error only for a closed or broken
// connection.
func (s *rawSocket) tryWrite(p []byte) (int, error) {
	n, err, writeErr := s.callWrite(p, s.tryFn)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		// A deadline left in the past by another write: the session
		// writer's goroutine writes with a fresh one.
		return 0, nil
	case err != nil:
		return 0, err
	case writeErr != nil:
		return 0, s.opError("write", os.NewSyscallError("write", writeErr))
	}
	return n, nil
}

// callWrite runs the write callback fn on p through the poller and
// returns the bytes written, the poller's error and the write's error.
func (s *rawSocket) callWrite(p []byte, fn func(fd uintptr) bool) (n int, err, writeErr error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.writeBuf = p
	err = s.rc.Write(fn)
	n, writeErr = s.written, s.writeErr
	s.writeBuf, s.written, s.writeErr = nil, 0, nil
	return n, err, writeErr
}

// writeAll writes writeBuf, waiting for room while the socket is full.
func (s *rawSocket) writeAll(fd uintptr) bool {
	for s.written < len(s.writeBuf) {
		n, err := writeNow(int(fd), s.writeBuf[s.written:])
		switch err {
		case nil:
			s.written += n
		case syscall.EAGAIN:
			return false
		default:
			s.writeErr = err
			return true
		}
	}
	return true
}

// writeOnce writes what the socket takes of writeBuf without waiting.
func (s *rawSocket) writeOnce(fd uintptr) bool {
	n, err := writeNow(int(fd), s.writeBuf)
	switch err {
	case nil:
		s.written = n
	case syscall.EAGAIN:
	default:
		s.writeErr = err
	}
	return true
}

func (s *rawSocket) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: err}
}
