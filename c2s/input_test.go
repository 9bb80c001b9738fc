package c2s

import (
	"bytes"
	"testing"
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
