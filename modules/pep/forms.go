package pep

import (
	"tern/stanza"
)

// The data forms namespace (XEP-0004) and the FORM_TYPE values of the
// pubsub forms (XEP-0060 §17.4).
const (
	NSData          = "jabber:x:data"
	FormNodeConfig  = NS + "#node_config"
	FormPublishOpts = NS + "#publish-options"
)

// Data form field and type names of XEP-0004.
const (
	fieldFormType  = "FORM_TYPE"
	formTypeSubmit = "submit"
	formTypeCancel = "cancel"
	formTypeForm   = "form"
	formTypeHidden = "hidden"
)

// form is a parsed data form: its type, its FORM_TYPE and the values of
// its other fields.
type form struct {
	typ      string
	formType string
	fields   map[string][]string
}

// parseForm parses the data form among the children of parent. It returns
// a nil form when parent has none, and bad-request for a field without a
// name or a field given twice.
func parseForm(parent *stanza.Element) (*form, error) {
	x := parent.Child(NSData, "x")
	if x == nil {
		return nil, nil
	}
	f := &form{typ: x.AttrValue("type"), fields: make(map[string][]string)}
	for _, field := range x.ChildrenNamed(NSData, "field") {
		name := field.AttrValue("var")
		if name == "" {
			return nil, stanza.BadRequest.WithText("a data form field has no var")
		}
		var values []string
		for _, v := range field.ChildrenNamed(NSData, "value") {
			values = append(values, v.Text())
		}
		if name == fieldFormType {
			if len(values) > 0 {
				f.formType = values[0]
			}
			continue
		}
		if _, dup := f.fields[name]; dup {
			return nil, stanza.BadRequest.WithText("data form field " + name + " is given twice")
		}
		f.fields[name] = values
	}
	return f, nil
}

// configForm builds the node configuration form (XEP-0060 §8.2) showing
// c's values.
func configForm(c nodeConfig) *stanza.Element {
	x := stanza.NewElement(NSData, "x", "type", formTypeForm)
	x.Add(formField(fieldFormType, formTypeHidden, "", []string{FormNodeConfig}))
	for _, spec := range fieldSpecs {
		field := formField(spec.name, spec.typ, spec.label, c.fields[spec.name])
		for _, opt := range spec.allowed {
			if spec.typ == "list-single" {
				field.Add(stanza.NewElement(NSData, "option").Add(stanza.NewElement(NSData, "value").AddText(opt)))
			}
		}
		x.Add(field)
	}
	return x
}

func formField(name, typ, label string, values []string) *stanza.Element {
	field := stanza.NewElement(NSData, "field", "var", name, "type", typ)
	if label != "" {
		field.SetAttr("label", label)
	}
	for _, v := range values {
		field.Add(stanza.NewElement(NSData, "value").AddText(v))
	}
	return field
}
