// Package modules is the registry of Tern's feature modules. Each module
// is a package under modules/ that calls Register from its init function;
// the server imports the set it ships with (modules/all) and starts every
// registered module that the configuration does not disable.
package modules

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"

	"tern/config"
	"tern/router"
	"tern/storage"
)

// Env is the argument of a module's constructor: the host, the storage,
// the configuration and the HTTP listener.
type Env struct {
	Host   router.Host
	Store  storage.Store
	Config *config.Config
	// HTTP mounts handlers on the http.listen listener; it is nil when
	// the server has no such listener.
	HTTP HTTPMux
}

// HTTPMux is the server's HTTP listener (http.listen) as modules see it.
type HTTPMux interface {
	// HandleHTTP mounts h for pattern, in the syntax of http.ServeMux,
	// when the listener starts. The handler gets requests whose path is
	// in canonical form, with no authorization applied.
	HandleHTTP(pattern string, h http.Handler)
	// HTTPAddr returns the bound address of the listener, or nil before
	// it starts.
	HTTPAddr() net.Addr
}

// Module describes a registered module.
type Module struct {
	// Name is the name used in the configuration's modules.disabled list.
	Name string
	// Order decides the start order among modules; lower starts first.
	Order int
	// New registers the module's handlers and hooks with env.Host.
	New func(env *Env) error
}

var (
	mu       sync.Mutex
	registry = map[string]Module{}
)

// Register adds a module to the registry. It panics on a duplicate name,
// which is a programming error.
func Register(m Module) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := registry[m.Name]; ok {
		panic("modules: duplicate module " + m.Name)
	}
	registry[m.Name] = m
	config.RegisterModuleName(m.Name)
}

// Start constructs every registered module not listed in disabled, in
// order.
func Start(env *Env, disabled []string) error {
	off := make(map[string]bool, len(disabled))
	for _, d := range disabled {
		off[d] = true
	}
	for _, m := range sorted() {
		if off[m.Name] {
			continue
		}
		if err := m.New(env); err != nil {
			return fmt.Errorf("module %s: %w", m.Name, err)
		}
	}
	return nil
}

// Names returns the names of the registered modules, sorted.
func Names() []string {
	var out []string
	for _, m := range sorted() {
		out = append(out, m.Name)
	}
	sort.Strings(out)
	return out
}

func sorted() []Module {
	mu.Lock()
	defer mu.Unlock()
	list := make([]Module, 0, len(registry))
	for _, m := range registry {
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Order != list[j].Order {
			return list[i].Order < list[j].Order
		}
		return list[i].Name < list[j].Name
	})
	return list
}
