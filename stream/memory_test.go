package stream

import (
	"bufio"
	"runtime"
	"testing"
)

// endlessBody yields a message start tag and then 'A' forever, like a
// client that never closes an oversized stanza.
type endlessBody struct{ head string }

func (e *endlessBody) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	for i := n; i < len(p); i++ {
		p[i] = 'A'
	}
	return len(p), nil
}

// TestReaderMemoryBounded checks that reading an element that never ends
// holds a bounded multiple of the size limit when the reader gives up with
// policy-violation, whatever the element's eventual size.
func TestReaderMemoryBounded(t *testing.T) {
	const limit = 256 << 10
	src := &endlessBody{head: header + "<message to='a@b'><body>"}
	r := NewReader(bufio.NewReaderSize(src, 4096), Limits{MaxSize: limit, MaxDepth: 16})
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := r.Next()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(r) // what the connection still holds at the error
	if se := AsError(err); se == nil || se.Condition != "policy-violation" {
		t.Fatalf("error %v, want policy-violation", err)
	}
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("held %d KiB, allocated %d KiB in all, reading an endless element with a %d KiB limit",
		held>>10, allocated>>10, limit>>10)
	if held > 4*limit {
		t.Errorf("reader holds %d bytes, want at most 4 × the %d byte limit", held, limit)
	}
	// Garbage from growing buffers comes on top, once: doubling growth
	// allocates about twice the final size.
	if allocated > 8*limit {
		t.Errorf("allocated %d bytes in all, want at most 8 × the %d byte limit", allocated, limit)
	}
}
