package stanza

import "testing"

func TestChildrenOfContent(t *testing.T) {
	cases := []struct {
		name  string
		inner string
		want  int
	}{
		{"empty", "", 0},
		{"text only", "hello &amp; bye", 0},
		{"one element", "<show>away</show>", 1},
		{"CDATA only", "<![CDATA[<x/>]]>", 0},
		{"element after text", "a<status>b</status>", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Stanza{Space: NSClient, Name: Presence}
			if c.inner != "" {
				s.Inner = []byte(c.inner)
			}
			if got := len(s.Children()); got != c.want {
				t.Errorf("Children() has %d elements, want %d", got, c.want)
			}
			found := s.Child(NSClient, "show") != nil || s.Child(NSClient, "status") != nil
			if found != (c.want > 0) {
				t.Errorf("Child found an element: %v, want %v", found, c.want > 0)
			}
		})
	}
}

func TestChildAfterSetPayload(t *testing.T) {
	s := &Stanza{Space: NSClient, Name: Message}
	p := NewElement(NSClient, Message).Add(NewElement(NSClient, "body").AddText("hi"))
	s.SetPayload(p)
	if s.Child(NSClient, "body") == nil {
		t.Fatal("Child(body) = nil after SetPayload")
	}
	if got := s.Child(NSClient, "body").Text(); got != "hi" {
		t.Errorf("body text = %q, want hi", got)
	}
}
