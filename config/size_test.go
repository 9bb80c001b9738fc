package config

import "testing"

func TestParseByteSize(t *testing.T) {
	cases := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"0", 0, true},
		{"16384", 16384, true},
		{"512B", 512, true},
		{"256KiB", 256 * KiB, true},
		{"1 MiB", MiB, true},
		{" 2GiB ", 2 * GiB, true},
		{"", 0, false},
		{"12x", 0, false},
		{"1KB", 0, false},
		{"1kib", 0, false},
		{"1.5MiB", 0, false},
		{"-1", 0, false},
		{"KiB", 0, false},
		{"9223372036854775807GiB", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseByteSize(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if !tc.ok && err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", tc.in, got)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	cases := []struct {
		in   ByteSize
		want string
	}{
		{0, "0B"},
		{1000, "1000B"},
		{16 * KiB, "16KiB"},
		{256 * KiB, "256KiB"},
		{MiB, "1MiB"},
		{MiB + KiB, "1025KiB"},
		{3 * GiB, "3GiB"},
	}
	for _, tc := range cases {
		s := tc.in.String()
		if s != tc.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tc.in), s, tc.want)
		}
		back, err := ParseByteSize(s)
		if err != nil || back != tc.in {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", s, back, err, int64(tc.in))
		}
	}
}
