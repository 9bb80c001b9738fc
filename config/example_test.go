package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const (
	exampleFile = "../config.toml.example"
	docsFile    = "../docs/configuration.md"
)

func equalConfig(a, b *Config) bool { return reflect.DeepEqual(a, b) }

// The example file sets every key to its default, so it must load and
// equal Default().
func TestExampleEqualsDefault(t *testing.T) {
	cfg, err := Load(exampleFile)
	if err != nil {
		t.Fatalf("Load(%s): %v", exampleFile, err)
	}
	if !equalConfig(cfg, Default()) {
		t.Errorf("%s differs from Default():\n got %+v\nwant %+v", exampleFile, cfg, Default())
	}
}

// Every key must appear in the example (set, or commented out for arrays of
// tables) and in the reference documentation.
func TestExampleAndDocsNameEveryKey(t *testing.T) {
	for _, file := range []string{exampleFile, docsFile} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		for _, key := range schemaLeafKeys(reflect.TypeOf(Config{}), "", true) {
			if !mentionsKey(text, key) {
				t.Errorf("%s does not mention %s", file, key)
			}
		}
	}
}

// mentionsKey reports whether text names key either in full ("c2s.listen")
// or on a line that sets its last part ("listen = ...") below its table
// header. Commented-out lines count, so that examples of arrays of tables
// can stay commented.
func mentionsKey(text, key string) bool {
	if strings.Contains(text, key) {
		return true
	}
	i := strings.LastIndexByte(key, '.')
	table, name := key[:i], key[i+1:]
	current := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(line, "# "))
		if header := tableHeader.FindStringSubmatch(line); header != nil {
			current = header[1]
			continue
		}
		if current == table && strings.HasPrefix(line, name+" =") {
			return true
		}
	}
	return false
}

var tableHeader = regexp.MustCompile(`^\[\[?([a-z0-9_.]+)\]\]?$`)
