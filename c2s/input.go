package c2s

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// sessionReadBuffer is the size of a bound connection's own read buffer,
// which stays allocated while the connection waits for input. The stream
// reader reads elements into buffers that it takes from a pool while it
// parses and reads past this buffer, so a small one costs no extra
// system calls.
const sessionReadBuffer = 16

// aheadSize is the most that activityConn reads from the socket at once
// into its own buffer.
const aheadSize = 4096

var aheadBuffers = sync.Pool{New: func() any { return new([aheadSize]byte) }}

// activityConn is the client's socket as the connection reads it. It
// records the time of every successful read, for keepalive. It is the
// net.Conn that crypto/tls passes to GetCertificate, so the shared TLS
// configuration can find c from it.
//
// After bind, the connection's goroutine waits for input in wait, a few
// calls from the bottom of its stack, without holding a read buffer: the
// goroutine's stack can then shrink to 4 KiB, where blocking deep inside
// the stream reader and crypto/tls keeps it at 8 KiB or more. wait reads
// what arrives into a pooled buffer, which Read returns first.
//
// Under TLS, Read never returns bytes past the end of the TLS record
// being read. crypto/tls then never holds input beyond the record it
// decrypts, so once a read of decrypted data returns less than was asked
// for, nothing is buffered above the socket and waiting is safe.
type activityConn struct {
	net.Conn
	c       *conn
	rc      syscall.RawConn  // for wait; nil when the socket has none
	records bool             // Read stops at TLS record ends
	record  recordReader     // position in the TLS record stream
	ahead   *[aheadSize]byte // read from the socket, not yet returned
	data    []byte           // the unread part of ahead

	readFn  func(fd uintptr) bool // a.readInput, bound once for wait
	waitErr error                 // the read error seen by readInput
	sock    *rawSocket            // reads and writes of a TCP socket; nil for others
}

func newActivityConn(c *conn, nc net.Conn) *activityConn {
	a := &activityConn{Conn: nc, c: c}
	if sc, ok := nc.(syscall.Conn); ok {
		a.rc, _ = sc.SyscallConn()
	}
	if a.rc != nil {
		a.readFn = a.readInput
		a.sock = newRawSocket(a.rc, nc)
	}
	return a
}

func (a *activityConn) Read(p []byte) (int, error) {
	if len(a.data) == 0 {
		if !a.records {
			n, err := a.readSocket(p)
			a.readAt(n)
			return n, err
		}
		if err := a.readAhead(); err != nil {
			return 0, err
		}
	}
	avail := a.data[:min(len(a.data), len(p))]
	if a.records {
		avail = avail[:a.record.take(avail)]
	}
	n := copy(p, avail)
	a.data = a.data[n:]
	if len(a.data) == 0 {
		aheadBuffers.Put(a.ahead)
		a.ahead, a.data = nil, nil
	}
	return n, nil
}

// readSocket reads from the socket.
func (a *activityConn) readSocket(p []byte) (int, error) {
	if a.sock == nil {
		return a.Conn.Read(p)
	}
	return a.sock.read(p)
}

// Write writes to the socket.
func (a *activityConn) Write(p []byte) (int, error) {
	if a.sock == nil {
		return a.Conn.Write(p)
	}
	return a.sock.write(p)
}

// readAt records that n bytes were read now.
func (a *activityConn) readAt(n int) {
	if n > 0 {
		a.c.lastRead.Store(time.Now().UnixNano())
	}
}

// readAhead blocks until the socket has input and reads it into ahead.
func (a *activityConn) readAhead() error {
	buf := aheadBuffers.Get().(*[aheadSize]byte)
	n, err := a.readSocket(buf[:])
	a.readAt(n)
	if n <= 0 {
		aheadBuffers.Put(buf)
		return err
	}
	a.ahead, a.data = buf, buf[:n]
	return nil
}

// buffered reports whether Read has input without reading the socket.
func (a *activityConn) buffered() bool { return len(a.data) > 0 }

// wait blocks until the client sends something and reads it into ahead.
// At the end of input it reads nothing and returns nil, so that the next
// Read reports the end as the socket does.
func (a *activityConn) wait() error {
	err := a.rc.Read(a.readFn)
	readErr := a.waitErr
	a.waitErr = nil
	switch {
	case err != nil:
		return err
	case readErr != nil:
		return &net.OpError{Op: "read", Net: "tcp", Addr: a.RemoteAddr(), Err: os.NewSyscallError("read", readErr)}
	}
	a.readAt(len(a.data))
	return nil
}

// readInput is the raw read callback of wait. It keeps its result in the
// activityConn instead of a closure, so that waiting allocates nothing.
func (a *activityConn) readInput(fd uintptr) bool {
	buf := aheadBuffers.Get().(*[aheadSize]byte)
	var n int
	n, a.waitErr = readNow(int(fd), buf[:])
	if n <= 0 {
		aheadBuffers.Put(buf)
		if errors.Is(a.waitErr, syscall.EAGAIN) {
			a.waitErr = nil
			return false
		}
		return true
	}
	a.ahead, a.data = buf, buf[:n]
	return true
}

// recordReader follows the TLS record layer (RFC 8446 §5.1): a 5-byte
// header whose last two bytes are the length of the fragment after it.
type recordReader struct {
	header [5]byte
	got    int // bytes of header read
	left   int // bytes of the fragment not yet read
}

// take returns how many bytes at the start of b belong to the record
// being read, and moves past them.
func (r *recordReader) take(b []byte) int {
	i := 0
	for i < len(b) {
		if r.got < len(r.header) {
			r.header[r.got] = b[i]
			r.got++
			i++
			if r.got == len(r.header) {
				r.left = int(binary.BigEndian.Uint16(r.header[3:]))
			}
		} else {
			k := min(r.left, len(b)-i)
			i += k
			r.left -= k
		}
		if r.got == len(r.header) && r.left == 0 {
			r.got = 0
			return i // the record ends here
		}
	}
	return i
}

// tlsReader reads decrypted data and records whether the last read
// emptied crypto/tls's buffer of decrypted data.
type tlsReader struct {
	conn    *tls.Conn
	drained bool
}

func (t *tlsReader) Read(p []byte) (int, error) {
	n, err := t.conn.Read(p)
	t.drained = n < len(p)
	return n, err
}

// enterSession switches a connection that has just bound a resource to
// its steady state: a small read buffer, waiting for input in
// activityConn.wait where the socket allows it, and no state kept only
// for negotiation. It does nothing while the read buffer holds input; it
// is called again before the next element.
func (c *conn) enterSession() {
	if c.br.Size() <= sessionReadBuffer || c.br.Buffered() > 0 {
		return
	}
	var src interface{ Read([]byte) (int, error) } = c.nc
	if tc, ok := c.nc.(*tls.Conn); ok && c.act.records {
		c.tlsIn = &tlsReader{conn: tc}
		src = c.tlsIn
	}
	c.br = bufio.NewReaderSize(src, sessionReadBuffer)
	c.rd.SetSource(c.br)
	c.tlsState, c.cert = nil, nil
	if c.authTimer != nil {
		c.authTimer.Stop()
		c.authTimer = nil
	}
}

// waitInput blocks, near the bottom of the goroutine's stack, until the
// client sends something, unless input is buffered already or the
// transport does not allow waiting this way.
func (c *conn) waitInput() error {
	if c.act.rc == nil || c.ws || c.act.buffered() || c.br.Buffered() > 0 || c.rd.Buffered() > 0 {
		return nil
	}
	if c.secure && (c.tlsIn == nil || !c.tlsIn.drained) {
		return nil
	}
	return c.act.wait()
}

// tryWriter returns a function that writes to c's socket what it takes
// without blocking, or nil when c is not a plain TCP connection. The
// session writer uses it to write from the sender's goroutine.
func tryWriter(c *conn) func([]byte) (int, error) {
	if c.act.sock == nil || c.secure || c.ws {
		return nil
	}
	return c.act.sock.tryWrite
}
