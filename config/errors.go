package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a configuration.
type Error struct {
	// File is the path given to Load; empty for Validate.
	File string
	// Line is the 1-based line of the key in File, or 0 when the TOML
	// decoder does not report one (keys inside [[arrays of tables]], keys
	// missing from the file, checks on a Config built in code).
	Line int
	// Key is the dotted key path, with an index for list elements, such as
	// "tls.certificate[0].domain". It is empty for TOML syntax errors.
	Key string
	// Message describes the problem and the allowed values.
	Message string
}

// Error formats e as "file:line: key: message", leaving out the parts that
// are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is every problem found in one configuration. Load and Validate
// return it as their error; use errors.As to reach the list.
type Errors []*Error

// Error joins the errors, one a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// hasKey reports whether an error for key, or for a key containing it,
// is already in the list.
func (es Errors) hasKey(key string) bool {
	for _, e := range es {
		if e.Key == key || strings.HasPrefix(key, e.Key+".") || strings.HasPrefix(key, e.Key+"[") {
			return true
		}
	}
	return false
}
