package stream

import "testing"

// TestCharacterReferences checks that a character reference must name a
// character XML allows (XML 1.0 §2.2 and §4.1): surrogates, control
// characters and values past U+10FFFF make the stream not well-formed, in
// text and in attribute values, while legal references pass unchanged.
func TestCharacterReferences(t *testing.T) {
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"legal hex", "<message><body>a&#x263A;b</body></message>", true},
		{"legal decimal", "<message><body>a&#9786;b</body></message>", true},
		{"tab and newline", "<message><body>&#9;&#xA;&#xD;</body></message>", true},
		{"high surrogate in text", "<message><body>a&#xD800;b</body></message>", false},
		{"low surrogate in text", "<message><body>a&#xDFFF;b</body></message>", false},
		{"decimal surrogate", "<message><body>a&#55296;b</body></message>", false},
		{"surrogate in attribute", "<message id='&#xD800;'/>", false},
		{"control character", "<message><body>&#x1;</body></message>", false},
		{"FFFE", "<message><body>&#xFFFE;</body></message>", false},
		{"past the last code point", "<message><body>&#x110000;</body></message>", false},
		{"nul", "<message><body>&#0;</body></message>", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestReader(header+tc.body, 4096)
			if _, err := r.ReadHeader(); err != nil {
				t.Fatal(err)
			}
			_, err := r.Next()
			if tc.ok && err != nil {
				t.Fatalf("legal reference rejected: %v", err)
			}
			if !tc.ok {
				se := AsError(err)
				if se == nil || se.Condition != "not-well-formed" {
					t.Errorf("error %v, want not-well-formed", err)
				}
			}
		})
	}
}

// TestHeaderAfterWhitespace: whitespace left over from the previous
// stream (some clients send a newline after </auth>) may precede the XML
// declaration of the restarted stream.
func TestHeaderAfterWhitespace(t *testing.T) {
	r := newTestReader(" \n"+header, 4096)
	if _, err := r.ReadHeader(); err != nil {
		t.Errorf("declaration after whitespace: %v", err)
	}
}

// TestUndeclaredPrefix: a prefix without a namespace declaration is not
// namespace-well-formed.
func TestUndeclaredPrefix(t *testing.T) {
	for _, body := range []string{"<foo:bar/>", "<message><x:y/></message>", "<message x:a='1'/>", "<a x='1' x='2'/>"} {
		r := newTestReader(header+body, 4096)
		if _, err := r.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		_, err := r.Next()
		if se := AsError(err); se == nil || se.Condition != "not-well-formed" {
			t.Errorf("%s: error %v, want not-well-formed", body, err)
		}
	}
}
