package disco

import (
	"tern/router"
	"tern/stanza"
)

// infoQuery builds the disco#info <query/> for a scope from the identities
// and features the modules registered. Duplicates, which two modules may
// both register, are listed once, because XEP-0115 §5.4 (steps 3.3 and
// 3.4) treats a response with a repeated identity or feature as ill-formed.
func infoQuery(h router.Host, scope router.Scope) *stanza.Element {
	q := stanza.NewElement(NSInfo, "query")
	seen := make(map[router.Identity]bool)
	for _, id := range h.Identities(scope) {
		if seen[id] {
			continue
		}
		seen[id] = true
		el := stanza.NewElement(NSInfo, "identity", "category", id.Category, "type", id.Type)
		if id.Name != "" {
			el.SetAttr("name", id.Name)
		}
		q.Add(el)
	}
	// Features returns a sorted list, so duplicates are adjacent.
	last := ""
	for _, f := range h.Features(scope) {
		if f == last {
			continue
		}
		last = f
		q.Add(stanza.NewElement(NSInfo, "feature", "var", f))
	}
	return q
}
