package c2s

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func rawPair(t *testing.T) (*rawSocket, net.Conn) {
	t.Helper()
	server, client := tcpPair(t)
	rc, err := server.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return newRawSocket(rc, server), client
}

func TestRawSocketReadsAndWrites(t *testing.T) {
	s, client := rawPair(t)
	if _, err := client.Write([]byte("<a/>")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := s.read(buf)
	if err != nil || string(buf[:n]) != "<a/>" {
		t.Fatalf("read = %q, %v; want <a/>", buf[:n], err)
	}
	if n, err := s.write([]byte("<b/>")); n != 4 || err != nil {
		t.Fatalf("write = %d, %v; want 4, nil", n, err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "<b/>" {
		t.Errorf("client read %q, %v; want <b/>", got, err)
	}
}

func TestRawSocketReadEOF(t *testing.T) {
	s, client := rawPair(t)
	client.Close()
	n, err := s.read(make([]byte, 16))
	if n != 0 || err != io.EOF {
		t.Errorf("read after the peer closed = %d, %v; want 0, EOF", n, err)
	}
}

func TestRawSocketReadDeadline(t *testing.T) {
	s, _ := rawPair(t)
	s.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := s.read(make([]byte, 16))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v; want a deadline error", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past the deadline: %v is not a net.Error timeout", err)
	}
}

func TestRawSocketCloseEndsRead(t *testing.T) {
	s, _ := rawPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := s.read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	s.conn.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("read after Close: %v; want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("read still blocked 5 s after Close")
	}
}

// TestRawSocketWriteWaits checks that a write larger than the socket
// buffers waits for the peer to read, and returns at the deadline with
// what it wrote when the peer stops reading.
func TestRawSocketWriteWaits(t *testing.T) {
	s, client := rawPair(t)
	data := bytes.Repeat([]byte("x"), 8<<20)
	received := make(chan int, 1)
	go func() {
		n, _ := io.CopyN(io.Discard, client, int64(len(data)))
		received <- int(n)
	}()
	if n, err := s.write(data); n != len(data) || err != nil {
		t.Fatalf("write = %d, %v; want %d, nil", n, err, len(data))
	}
	if n := <-received; n != len(data) {
		t.Fatalf("peer received %d bytes, want %d", n, len(data))
	}

	s.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := s.write(data) // the peer no longer reads
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write to a peer that does not read: %v; want a deadline error", err)
	}
	if n <= 0 || n >= len(data) {
		t.Errorf("write returned %d bytes written; want part of %d", n, len(data))
	}
}
