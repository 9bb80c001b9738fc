package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

var (
	durationType = reflect.TypeOf(time.Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
)

// setLeaf stores the decoded TOML value raw in dst. Its error completes a
// sentence whose subject is the value, such as "is not a string".
func setLeaf(dst reflect.Value, raw any) error {
	switch dst.Type() {
	case durationType:
		s, ok := raw.(string)
		d, err := time.ParseDuration(s)
		if !ok || err != nil {
			return errors.New(`is not a duration (use a number with a unit: "30s", "10m", "1h")`)
		}
		dst.SetInt(int64(d))
		return nil
	case byteSizeType:
		size, err := parseSizeValue(raw)
		if err != nil {
			return err
		}
		dst.SetInt(int64(size))
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return errors.New("is not a string")
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return errors.New("is not a boolean (use true or false)")
		}
		dst.SetBool(b)
	case reflect.Int:
		n, ok := raw.(int64)
		if !ok {
			return errors.New("is not an integer")
		}
		dst.SetInt(n)
	case reflect.Slice:
		list, err := stringList(raw)
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(list))
	default:
		panic("config: no decoder for field type " + dst.Type().String())
	}
	return nil
}

func parseSizeValue(raw any) (ByteSize, error) {
	const usage = "(use bytes or a unit: 256KiB, 1MiB)"
	switch v := raw.(type) {
	case int64:
		return ByteSize(v), nil
	case string:
		size, err := ParseByteSize(v)
		if err != nil {
			return 0, fmt.Errorf("is not a size %s", usage)
		}
		return size, nil
	}
	return 0, fmt.Errorf("is not a size %s", usage)
}

// stringList converts a TOML array of strings; an empty array gives nil.
func stringList(raw any) ([]string, error) {
	if s, ok := raw.(string); ok {
		return nil, fmt.Errorf("is not a list (write [%q])", s)
	}
	items, ok := raw.([]any)
	if !ok {
		return nil, errors.New("is not a list of strings")
	}
	var out []string
	for _, item := range items {
		s, ok := item.(string)
		if !ok {
			return nil, errors.New("is not a list of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

// formatValue writes a decoded TOML value the way it would appear in the
// file, so that error messages quote what the user wrote.
func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []any:
		parts := make([]string, len(v))
		for i, item := range v {
			parts[i] = formatValue(item)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []map[string]any:
		return "a list of tables"
	case map[string]any:
		return "a table"
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case nil:
		return "nothing"
	}
	return fmt.Sprint(v)
}

// errLinePosition is returned by linePosition to make the TOML decoder
// report where a key is.
var errLinePosition = errors.New("config: position probe")

// linePosition is a toml.Unmarshaler that fails on purpose: the decoder
// wraps its error in a toml.ParseError carrying the position of the key
// being decoded, which MetaData offers no other way to read.
type linePosition struct{}

func (linePosition) UnmarshalTOML(any) error { return errLinePosition }

// line returns the line where key is set in the file whose root table is
// root, or 0. Keys inside arrays of tables get 0 because the decoder keeps
// only the last position for all elements of such an array.
func (d *decoder) line(root toml.Primitive, key string) int {
	indexed := false
	if i := strings.LastIndexByte(key, '['); i >= 0 && strings.HasSuffix(key, "]") {
		key, indexed = key[:i], true
	}
	if key == "" || strings.Contains(key, "[") {
		return 0
	}
	cur := root
	for _, piece := range strings.Split(key, ".") {
		var table map[string]toml.Primitive
		if err := d.md.PrimitiveDecode(cur, &table); err != nil {
			return 0
		}
		next, ok := table[piece]
		if !ok {
			return 0
		}
		cur = next
	}
	if indexed {
		// An element of an inline array is reported at the array's line,
		// but not an element of an array of tables.
		var raw any
		if err := d.md.PrimitiveDecode(cur, &raw); err != nil {
			return 0
		}
		if _, ok := raw.([]any); !ok {
			return 0
		}
	}
	var pe toml.ParseError
	if err := d.md.PrimitiveDecode(cur, linePosition{}); errors.As(err, &pe) {
		return pe.Position.Line
	}
	return 0
}
