package pep

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Access models of XEP-0060 §4.5 that PEP nodes support. The
// "authorize" model needs subscription requests, which PEP does not use.
const (
	AccessOpen      = "open"
	AccessPresence  = "presence"
	AccessRoster    = "roster"
	AccessWhitelist = "whitelist"
)

// Values of pubsub#send_last_published_item.
const (
	SendLastNever      = "never"
	SendLastOnSub      = "on_sub"
	SendLastOnPresence = "on_sub_and_presence"
)

// MaxItemsLimit is the largest pubsub#max_items a node may have, and the
// value "max" stands for. It bounds the storage one node can take.
const MaxItemsLimit = 1000

// Configuration field names (XEP-0060 §17.4.4).
const (
	fieldAccessModel   = "pubsub#access_model"
	fieldRosterGroups  = "pubsub#roster_groups_allowed"
	fieldMaxItems      = "pubsub#max_items"
	fieldPersistItems  = "pubsub#persist_items"
	fieldSendLast      = "pubsub#send_last_published_item"
	fieldNotifyRetract = "pubsub#notify_retract"
	fieldNotifyDelete  = "pubsub#notify_delete"
	fieldDeliver       = "pubsub#deliver_payloads"
	fieldNotifications = "pubsub#deliver_notifications"
	fieldPublishModel  = "pubsub#publish_model"
	fieldTitle         = "pubsub#title"
	fieldType          = "pubsub#type"
)

// fieldSpec describes one configuration field: its data form type, its
// label, its default, and the values allowed (any value when nil).
type fieldSpec struct {
	name    string
	typ     string
	label   string
	def     []string
	allowed []string
}

// fieldSpecs lists the supported fields in the order the configuration
// form shows them. deliver_payloads, deliver_notifications and
// publish_model are listed with their only supported value, so that
// publish-options asking for that value succeed.
var fieldSpecs = []fieldSpec{
	{fieldAccessModel, "list-single", "Who may subscribe and retrieve items", []string{AccessPresence},
		[]string{AccessOpen, AccessPresence, AccessRoster, AccessWhitelist}},
	{fieldRosterGroups, "list-multi", "Roster groups allowed to subscribe", nil, nil},
	{fieldMaxItems, "text-single", "Maximum number of items to persist (or max)", []string{"1"}, nil},
	{fieldPersistItems, "boolean", "Persist items to storage", []string{"1"}, nil},
	{fieldSendLast, "list-single", "When to send the last published item", []string{SendLastOnPresence},
		[]string{SendLastNever, SendLastOnSub, SendLastOnPresence}},
	{fieldNotifyRetract, "boolean", "Notify subscribers when items are removed", []string{"1"}, nil},
	{fieldNotifyDelete, "boolean", "Notify subscribers when the node is deleted", []string{"1"}, nil},
	{fieldDeliver, "boolean", "Deliver payloads with event notifications", []string{"1"}, []string{"1"}},
	{fieldNotifications, "boolean", "Deliver event notifications", []string{"1"}, []string{"1"}},
	{fieldPublishModel, "list-single", "Who may publish", []string{"publishers"}, []string{"publishers"}},
	{fieldTitle, "text-single", "A friendly name for the node", nil, nil},
	{fieldType, "text-single", "The type of node data, usually the payload's namespace", nil, nil},
}

func specOf(name string) (fieldSpec, bool) {
	for _, f := range fieldSpecs {
		if f.name == name {
			return f, true
		}
	}
	return fieldSpec{}, false
}

// nodeConfig is a node's configuration as the module uses it. It is
// stored as the field values of the configuration form.
type nodeConfig struct {
	fields map[string][]string // normalized values of every field
}

// defaultConfig returns the configuration of a node created without
// options.
func defaultConfig() nodeConfig {
	c := nodeConfig{fields: make(map[string][]string)}
	for _, f := range fieldSpecs {
		if f.def != nil {
			c.fields[f.name] = slices.Clone(f.def)
		}
	}
	return c
}

// configFromStored reads a stored configuration. Fields that are missing,
// such as ones added after the node was created, get their defaults, and
// unknown fields are dropped.
func configFromStored(stored map[string][]string) nodeConfig {
	c := defaultConfig()
	for name, values := range stored {
		if norm, err := normalize(name, values); err == nil {
			c.fields[name] = norm
		}
	}
	return c
}

// apply validates the submitted fields and returns the configuration
// with them set. It returns a fieldError for the first field, in name
// order, that is unknown or has an invalid value.
func (c nodeConfig) apply(submitted map[string][]string) (nodeConfig, error) {
	out := nodeConfig{fields: maps.Clone(c.fields)}
	for _, name := range slices.Sorted(maps.Keys(submitted)) {
		norm, err := normalize(name, submitted[name])
		if err != nil {
			return c, err
		}
		if norm == nil {
			delete(out.fields, name)
		} else {
			out.fields[name] = norm
		}
	}
	return out, nil
}

// matches returns the name of the first option whose value differs from
// the configuration, or "" when every option matches (XEP-0060 §7.1.5).
// Unknown fields and invalid values never match.
func (c nodeConfig) matches(options map[string][]string) string {
	for _, name := range slices.Sorted(maps.Keys(options)) {
		norm, err := normalize(name, options[name])
		if err != nil || !sameValues(name, norm, c.fields[name]) {
			return name
		}
	}
	return ""
}

func sameValues(name string, a, b []string) bool {
	if name == fieldMaxItems {
		return maxItemsOf(a) == maxItemsOf(b)
	}
	return slices.Equal(a, b)
}

func (c nodeConfig) value(name string) string {
	if v := c.fields[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c nodeConfig) accessModel() string      { return c.value(fieldAccessModel) }
func (c nodeConfig) rosterGroups() []string   { return c.fields[fieldRosterGroups] }
func (c nodeConfig) persistItems() bool       { return c.value(fieldPersistItems) == "1" }
func (c nodeConfig) notifyRetract() bool      { return c.value(fieldNotifyRetract) == "1" }
func (c nodeConfig) notifyDelete() bool       { return c.value(fieldNotifyDelete) == "1" }
func (c nodeConfig) sendLastOnPresence() bool { return c.value(fieldSendLast) == SendLastOnPresence }

// maxItems returns the number of items the node keeps.
func (c nodeConfig) maxItems() int { return maxItemsOf(c.fields[fieldMaxItems]) }

// maxItemsOf converts a normalized max_items value to a number.
func maxItemsOf(v []string) int {
	if len(v) == 0 || v[0] == "max" {
		return MaxItemsLimit
	}
	n, err := strconv.Atoi(v[0])
	if err != nil {
		return MaxItemsLimit
	}
	return n
}

// stored returns the configuration as it is stored.
func (c nodeConfig) stored() map[string][]string { return maps.Clone(c.fields) }

// normalize validates the values of one field and returns them in the
// form that is stored and compared: booleans as "1" or "0", roster groups
// sorted without duplicates.
func normalize(name string, values []string) ([]string, error) {
	spec, ok := specOf(name)
	if !ok {
		return nil, fieldError{name, "unsupported field"}
	}
	switch spec.typ {
	case "boolean":
		return normalizeBool(spec, values)
	case "list-multi":
		groups := slices.Clone(values)
		slices.Sort(groups)
		return slices.Compact(groups), nil
	}
	if len(values) > 1 {
		return nil, fieldError{name, "takes one value"}
	}
	v := ""
	if len(values) == 1 {
		v = values[0]
	}
	if name == fieldMaxItems {
		return normalizeMaxItems(v)
	}
	if spec.allowed != nil && !slices.Contains(spec.allowed, v) {
		return nil, fieldError{name, "value " + strconv.Quote(v) + " is not one of " + strings.Join(spec.allowed, ", ")}
	}
	if v == "" {
		return nil, nil
	}
	return []string{v}, nil
}

func normalizeBool(spec fieldSpec, values []string) ([]string, error) {
	if len(values) != 1 {
		return nil, fieldError{spec.name, "takes one boolean value"}
	}
	var v string
	switch values[0] {
	case "1", "true":
		v = "1"
	case "0", "false":
		v = "0"
	default:
		return nil, fieldError{spec.name, "value " + strconv.Quote(values[0]) + " is not a boolean"}
	}
	if spec.allowed != nil && !slices.Contains(spec.allowed, v) {
		return nil, fieldError{spec.name, "only " + spec.allowed[0] + " is supported"}
	}
	return []string{v}, nil
}

func normalizeMaxItems(v string) ([]string, error) {
	if v == "max" {
		return []string{"max"}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxItemsLimit {
		return nil, fieldError{fieldMaxItems, "value " + strconv.Quote(v) +
			" is not max or a number from 1 to " + strconv.Itoa(MaxItemsLimit)}
	}
	return []string{strconv.Itoa(n)}, nil
}

// fieldOf returns the field that err, returned by apply, names.
func fieldOf(err error) string {
	var fe fieldError
	if errors.As(err, &fe) {
		return fe.field
	}
	return ""
}

// fieldError reports an unsupported field or an invalid field value.
type fieldError struct{ field, problem string }

func (e fieldError) Error() string { return e.field + ": " + e.problem }
