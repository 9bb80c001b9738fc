package adhoc

import (
	"strings"

	"tern/stanza"
)

// Field types of data forms (XEP-0004 §3.3) that commands use.
const (
	FieldHidden     = "hidden"
	FieldTextSingle = "text-single"
	FieldTextMulti  = "text-multi"
	FieldBoolean    = "boolean"
	FieldFixed      = "fixed"
)

// Field is a field of a data form (XEP-0004 §3.2).
type Field struct {
	// Var names the field; fixed fields may leave it empty.
	Var   string
	Type  string
	Label string
	// Required marks a field the requester must fill in.
	Required bool
	// Values are the default values, one per line of a text-multi field.
	Values []string
}

// NewForm returns a data form of type "form" (XEP-0004 §3.1) for a
// command's response payload.
func NewForm(title, instructions string, fields ...Field) *stanza.Element {
	x := stanza.NewElement(NSData, "x", "type", "form")
	if title != "" {
		x.Add(stanza.NewElement(NSData, "title").AddText(title))
	}
	if instructions != "" {
		x.Add(stanza.NewElement(NSData, "instructions").AddText(instructions))
	}
	for _, f := range fields {
		x.Add(f.element())
	}
	return x
}

func (f Field) element() *stanza.Element {
	el := stanza.NewElement(NSData, "field")
	if f.Var != "" {
		el.SetAttr("var", f.Var)
	}
	if f.Type != "" {
		el.SetAttr("type", f.Type)
	}
	if f.Label != "" {
		el.SetAttr("label", f.Label)
	}
	if f.Required {
		el.Add(stanza.NewElement(NSData, "required"))
	}
	for _, v := range f.Values {
		el.Add(stanza.NewElement(NSData, "value").AddText(v))
	}
	return el
}

// Values are the fields of a submitted data form: each field's var and
// its values in order.
type Values map[string][]string

// Get returns the first value of the field name, or "".
func (v Values) Get(name string) string {
	if vals := v[name]; len(vals) > 0 {
		return vals[0]
	}
	return ""
}

// Text returns the values of the field name joined by newlines, as a
// text-multi field carries one line per value.
func (v Values) Text(name string) string { return strings.Join(v[name], "\n") }

// Has reports whether the form has the field name.
func (v Values) Has(name string) bool {
	_, ok := v[name]
	return ok
}

// submittedForm returns the values of the first data form in cmd, or nil
// when there is none. XEP-0050 §3.4 recommends that responders treat a
// form of type "cancel" as "submit", so the type is not checked.
func submittedForm(cmd *stanza.Element) Values {
	x := cmd.Child(NSData, "x")
	if x == nil {
		return nil
	}
	vals := Values{}
	for _, f := range x.ChildrenNamed(NSData, "field") {
		name := f.AttrValue("var")
		if name == "" {
			continue
		}
		list := []string{}
		for _, v := range f.ChildrenNamed(NSData, "value") {
			list = append(list, v.Text())
		}
		vals[name] = list
	}
	return vals
}
