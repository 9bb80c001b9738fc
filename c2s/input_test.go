package c2s

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// record returns a TLS record with a fragment of n bytes.
func record(typ byte, n int) []byte {
	return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{typ}, n)...)
}

func TestRecordReaderStopsAtRecordEnds(t *testing.T) {
	stream := bytes.Join([][]byte{record(22, 40), record(23, 0), record(23, 300), record(21, 2)}, nil)
	ends := []int{45, 50, 355, 362}
	cases := []struct {
		name  string
		chunk int // bytes offered at a time
	}{
		{"whole stream", len(stream)},
		{"one byte", 1},
		{"header split", 3},
		{"odd chunks", 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r recordReader
			var got []int
			for pos := 0; pos < len(stream); {
				n := r.take(stream[pos:min(len(stream), pos+tc.chunk)])
				if n == 0 {
					t.Fatalf("no progress at %d", pos)
				}
				pos += n
				if r.got == 0 {
					got = append(got, pos)
				}
			}
			if len(got) != len(ends) {
				t.Fatalf("record ends %v, want %v", got, ends)
			}
			for i := range ends {
				if got[i] != ends[i] {
					t.Errorf("record %d ends at %d, want %d", i, got[i], ends[i])
				}
			}
		})
	}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

func TestTryWriterWrites(t *testing.T) {
	server, client := tcpPair(t)
	c := &conn{raw: server}
	c.act = newActivityConn(c, server)
	try := tryWriter(c)
	if try == nil {
		t.Fatal("no TryWrite for a plain TCP connection")
	}
	n, err := try([]byte("<a/>"))
	if err != nil || n != 4 {
		t.Fatalf("TryWrite = %d, %v; want 4, nil", n, err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "<a/>" {
		t.Errorf("client read %q, %v", buf, err)
	}
}

// TestTryWriterStaleDeadline checks that a write deadline left in the
// past makes TryWrite hand the data to the writer's goroutine instead of
// failing the connection.
func TestTryWriterStaleDeadline(t *testing.T) {
	server, _ := tcpPair(t)
	c := &conn{raw: server}
	c.act = newActivityConn(c, server)
	server.SetWriteDeadline(time.Now().Add(-time.Second))
	n, err := tryWriter(c)([]byte("<a/>"))
	if err != nil || n != 0 {
		t.Errorf("TryWrite after an expired deadline = %d, %v; want 0, nil", n, err)
	}
}
