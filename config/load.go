package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Load reads the TOML file at path over the values of Default, then
// validates the result as Validate does. On any problem it returns a nil
// Config and an Errors value with every problem found, sorted by line.
// A file that cannot be read gives a wrapped *fs.PathError instead.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return load(path, string(data))
}

// load decodes data, which came from the file named path, and validates it.
func load(path, data string) (*Config, error) {
	var root toml.Primitive
	md, err := toml.Decode(data, &root)
	if err != nil {
		return nil, syntaxError(path, err)
	}
	cfg := Default()
	d := &decoder{md: &md}
	d.table(root, reflect.ValueOf(cfg).Elem(), "")
	d.unknownKeys(reflect.TypeOf(*cfg))

	errs := d.errs
	var verrs Errors
	if err := cfg.Validate(); err != nil && !errors.As(err, &verrs) {
		return nil, err
	}
	for _, e := range verrs {
		if !errs.hasKey(e.Key) {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		return cfg, nil
	}
	for _, e := range errs {
		e.File = path
		if e.Line == 0 {
			e.Line = d.line(root, e.Key)
		}
	}
	sortByLine(errs)
	return nil, errs
}

// syntaxError converts an error from the TOML parser, keeping its line.
func syntaxError(path string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return Errors{{File: path, Line: pe.Position.Line, Message: pe.Message}}
	}
	return Errors{{File: path, Message: err.Error()}}
}

// sortByLine orders errs by line, keeping errors without a line last and
// the order of errors on the same line.
func sortByLine(errs Errors) {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
}

// decoder copies TOML values into a Config field by field, so that one bad
// value does not hide the others.
type decoder struct {
	md   *toml.MetaData
	errs Errors
}

func (d *decoder) fail(key, format string, args ...any) {
	d.errs = append(d.errs, &Error{Key: key, Message: fmt.Sprintf(format, args...)})
}

// table decodes the TOML table in prim into the struct dst. The key of the
// table is path ("" for the document root).
func (d *decoder) table(prim toml.Primitive, dst reflect.Value, path string) {
	var raw any
	if err := d.md.PrimitiveDecode(prim, &raw); err != nil {
		d.fail(path, "%v", err)
		return
	}
	if _, ok := raw.(map[string]any); !ok {
		d.fail(path, "%s is not a table", formatValue(raw))
		return
	}
	// Decoding into a struct of Primitives marks the known keys as decoded,
	// so MetaData.Undecoded lists exactly the unknown ones.
	fields := reflect.New(primitiveStruct(dst.Type())).Elem()
	if err := d.md.PrimitiveDecode(prim, fields.Addr().Interface()); err != nil {
		d.fail(path, "%v", err)
		return
	}
	for i := range dst.NumField() {
		p := fields.Field(i).Interface().(toml.Primitive)
		if reflect.ValueOf(p).IsZero() {
			continue // key absent: the default stays
		}
		f := dst.Type().Field(i)
		d.value(p, dst.Field(i), f, joinKey(path, f.Tag.Get("toml")))
	}
}

// value decodes one key: a nested table, an array of tables or a leaf.
func (d *decoder) value(p toml.Primitive, dst reflect.Value, f reflect.StructField, key string) {
	switch {
	case dst.Kind() == reflect.Struct:
		d.table(p, dst, key)
	case dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.Struct:
		d.tableArray(p, dst, key)
	default:
		var raw any
		if err := d.md.PrimitiveDecode(p, &raw); err != nil {
			d.fail(key, "%v", err)
			return
		}
		if err := setLeaf(dst, raw); err != nil {
			display := formatValue(raw)
			if f.Tag.Get("tern") == "secret" {
				display = "the value"
			}
			d.fail(key, "%s %v", display, err)
		}
	}
}

// tableArray decodes an array of tables, such as [[tls.certificate]],
// replacing the default slice.
func (d *decoder) tableArray(p toml.Primitive, dst reflect.Value, key string) {
	var items []toml.Primitive
	if err := d.md.PrimitiveDecode(p, &items); err != nil {
		var raw any
		_ = d.md.PrimitiveDecode(p, &raw)
		d.fail(key, "%s is not a list of tables (use [[%s]])", formatValue(raw), key)
		return
	}
	if len(items) == 0 {
		dst.SetZero() // an empty list is nil, as in Default
		return
	}
	out := reflect.MakeSlice(dst.Type(), len(items), len(items))
	for i, item := range items {
		d.table(item, out.Index(i), fmt.Sprintf("%s[%d]", key, i))
	}
	dst.Set(out)
}

// primitiveStruct returns a struct type with the same TOML keys as t and
// toml.Primitive for every field type.
func primitiveStruct(t reflect.Type) reflect.Type {
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		f := t.Field(i)
		fields[i] = reflect.StructField{Name: f.Name, Tag: f.Tag, Type: reflect.TypeOf(toml.Primitive{})}
	}
	return reflect.StructOf(fields)
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// unknownKeys reports every key of the file that is not in the schema t:
// the keys MetaData.Undecoded lists, and keys that the TOML decoder matched
// to a field only by ignoring case.
func (d *decoder) unknownKeys(t reflect.Type) {
	seen := map[string]bool{}
	report := func(k toml.Key) {
		key := k.String()
		if seen[key] || d.errs.hasKey(key) {
			return
		}
		seen[key] = true
		msg := "unknown key"
		if s := suggestKey(t, k); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		d.fail(key, "%s", msg)
	}
	for _, k := range d.md.Undecoded() {
		report(k)
	}
	for _, k := range d.md.Keys() {
		if !schemaHas(t, k) {
			report(k)
		}
	}
}

// schemaHas reports whether key names a field of t exactly, descending into
// tables and arrays of tables. Keys below a leaf count as present because
// the leaf's type error already covers them.
func schemaHas(t reflect.Type, key toml.Key) bool {
	for _, piece := range key {
		if t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return true
		}
		f, ok := fieldByKey(t, piece)
		if !ok {
			return false
		}
		t = f.Type
	}
	return true
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("toml") == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// suggestKey returns the full key of a field next to key whose name differs
// from key's last piece only in case or by at most two edits, or "".
func suggestKey(t reflect.Type, key toml.Key) string {
	for _, piece := range key[:len(key)-1] {
		if t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		f, ok := fieldByKey(t, piece)
		if !ok {
			return ""
		}
		t = f.Type
	}
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	last := key[len(key)-1]
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("toml")
		if strings.EqualFold(name, last) || editDistance(name, last) <= 2 {
			return append(append(toml.Key{}, key[:len(key)-1]...), name).String()
		}
	}
	return ""
}

// editDistance returns the Levenshtein distance between a and b in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
