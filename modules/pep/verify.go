package pep

import (
	"cmp"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"slices"
	"strings"

	"tern/stanza"
)

// capsHashes are the hash functions accepted in a caps 'hash' attribute,
// by their names in the IANA Hash Function Textual Names registry, which
// XEP-0115 §9.1 refers to.
var capsHashes = map[string]func() hash.Hash{
	"sha-1":   sha1.New,
	"sha-224": sha256.New224,
	"sha-256": sha256.New,
	"sha-384": sha512.New384,
	"sha-512": sha512.New,
}

// capsVerString returns the verification string of XEP-0115 §5.1 for a
// disco#info <query/>, or ok=false when the query is ill-formed under
// §5.4: a repeated identity or feature, two forms with the same
// FORM_TYPE, or a FORM_TYPE with differing values.
func capsVerString(q *stanza.Element) (string, bool) {
	type identity struct{ category, typ, lang, name string }
	var ids []identity
	for _, el := range q.ChildrenNamed(NSDisco, "identity") {
		ids = append(ids, identity{el.AttrValue("category"), el.AttrValue("type"), xmlLang(el), el.AttrValue("name")})
	}

	slices.SortFunc(ids, func(a, b identity) int {
		return cmp.Or(strings.Compare(a.category, b.category), strings.Compare(a.typ, b.typ),
			strings.Compare(a.lang, b.lang), strings.Compare(a.name, b.name))
	})

	var feats []string
	for _, el := range q.ChildrenNamed(NSDisco, "feature") {
		feats = append(feats, el.AttrValue("var"))
	}
	slices.Sort(feats)
	if hasDuplicate(feats) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		return "", false
	}

	var sb strings.Builder
	for _, id := range ids {
		sb.WriteString(id.category + "/" + id.typ + "/" + id.lang + "/" + id.name + "<")
	}
	for _, f := range feats {
		sb.WriteString(f + "<")
	}
	forms, ok := capsForms(q)
	if !ok {
		return "", false
	}
	for _, f := range forms {
		sb.WriteString(f)
	}
	return sb.String(), true
}

// capsForms returns the verification string part of each extended
// information form (XEP-0128) of q, sorted by FORM_TYPE. Forms whose
// FORM_TYPE is missing or not hidden are ignored, as §5.4 requires.
func capsForms(q *stanza.Element) ([]string, bool) {
	type entry struct{ formType, text string }
	type field struct {
		name   string
		values []string
	}
	var forms []entry
	for _, x := range q.ChildrenNamed(NSData, "x") {
		var formType []string
		var hidden bool
		var fields []field
		for _, f := range x.ChildrenNamed(NSData, "field") {
			var values []string
			for _, v := range f.ChildrenNamed(NSData, "value") {
				values = append(values, v.Text())
			}
			if f.AttrValue("var") == fieldFormType {
				formType = append(formType, values...)
				hidden = f.AttrValue("type") == formTypeHidden
				continue
			}
			slices.Sort(values)
			fields = append(fields, field{f.AttrValue("var"), values})
		}
		if len(formType) == 0 || !hidden {
			continue
		}
		for _, v := range formType[1:] {
			if v != formType[0] {
				return nil, false
			}
		}
		slices.SortFunc(fields, func(a, b field) int { return strings.Compare(a.name, b.name) })
		text := formType[0] + "<"
		for _, f := range fields {
			text += f.name + "<" + strings.Join(f.values, "<") + suffix(f.values)
		}
		forms = append(forms, entry{formType[0], text})
	}
	slices.SortFunc(forms, func(a, b entry) int { return strings.Compare(a.formType, b.formType) })
	out := make([]string, len(forms))
	for i, f := range forms {
		if i > 0 && forms[i-1].formType == f.formType {
			return nil, false
		}
		out[i] = f.text
	}
	return out, true
}

// suffix returns the "<" that ends the last value of a field, or "" for
// a field without values.
func suffix(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return "<"
}

// verifyCaps reports whether ver is the hash of q under the named hash
// function (XEP-0115 §5.4).
func verifyCaps(q *stanza.Element, hashName, ver string) bool {
	newHash, ok := capsHashes[hashName]
	if !ok {
		return false
	}
	s, ok := capsVerString(q)
	if !ok {
		return false
	}
	h := newHash()
	h.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) == ver
}

func hasDuplicate(sorted []string) bool {
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return true
		}
	}
	return false
}

// xmlLang returns the xml:lang attribute of el.
func xmlLang(el *stanza.Element) string {
	for _, a := range el.Attr {
		if a.Name.Local == "lang" && (a.Name.Space == "xml" || a.Name.Space == "http://www.w3.org/XML/1998/namespace") {
			return a.Value
		}
	}
	return ""
}
