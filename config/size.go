package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes. In the file it is an integer (bytes) or a
// string with one of the units B, KiB, MiB or GiB, such as "256KiB".
type ByteSize int64

// Binary size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

var sizeUnits = []struct {
	name string
	size ByteSize
}{{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"B", 1}}

// String formats s with the largest unit that divides it exactly, so that
// ParseByteSize(s.String()) == s.
func (s ByteSize) String() string {
	for _, u := range sizeUnits {
		if s != 0 && s%u.size == 0 {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// ParseByteSize parses a size such as "16384", "512B", "256KiB" or "1 MiB".
// Units are case-sensitive because decimal units (KB, MB) are not accepted.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	unit := ByteSize(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.name) {
			unit = u.size
			t = strings.TrimSpace(strings.TrimSuffix(t, u.name))
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	if n > math.MaxInt64/int64(unit) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(n) * unit, nil
}
