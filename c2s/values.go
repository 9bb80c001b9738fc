package c2s

import "sync"

// sessionValues stores the values modules keep on a session (router.Session
// Value and SetValue). A session holds a handful of them, so a linear scan
// of a short slice costs less than hashing the key, and an idle session
// without values holds no map.
type sessionValues struct {
	mu      sync.RWMutex
	entries []valueEntry
}

type valueEntry struct {
	key, value any
}

// load returns the value stored under key, or nil.
func (v *sessionValues) load(key any) any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for i := range v.entries {
		if v.entries[i].key == key {
			return v.entries[i].value
		}
	}
	return nil
}

// store sets the value under key. Keys must be comparable, as map keys
// must.
func (v *sessionValues) store(key, value any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range v.entries {
		if v.entries[i].key == key {
			v.entries[i].value = value
			return
		}
	}
	v.entries = append(v.entries, valueEntry{key, value})
}
