package config

import "sort"

// KnownModules is the set of module names that modules.disabled accepts.
// Module packages add their own names with RegisterModuleName.
var KnownModules = map[string]bool{
	"roster":   true,
	"offline":  true,
	"disco":    true,
	"vcard":    true,
	"private":  true,
	"version":  true,
	"time":     true,
	"ping":     true,
	"last":     true,
	"register": true,
}

// RegisterModuleName adds name to KnownModules. Call it from an init
// function: KnownModules is not guarded by a lock, and Load reads it.
// It panics on an empty name.
func RegisterModuleName(name string) {
	if name == "" {
		panic("config: RegisterModuleName with an empty name")
	}
	KnownModules[name] = true
}

// knownModuleNames returns the names in KnownModules, sorted.
func knownModuleNames() []string {
	names := make([]string, 0, len(KnownModules))
	for name := range KnownModules {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
