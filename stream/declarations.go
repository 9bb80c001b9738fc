package stream

import "bytes"

// bang reads the markup after "<!" at buf[i]: a comment, a CDATA section
// or a directive such as <!DOCTYPE>. Comments and directives are read to
// their end before the caller rejects them, so that a malformed or
// unterminated one gets the same verdict as from encoding/xml.
func (r *Reader) bang(i int, wantSpace bool) (token, error) {
	b, err := r.at(i)
	if err != nil {
		return token{}, err
	}
	switch b {
	case '-':
		if b, err = r.at(i + 1); err != nil {
			return token{}, err
		}
		if b != '-' {
			return token{}, NotWellFormed.WithText("invalid sequence <!- not part of <!--")
		}
		return r.comment(i + 2)
	case '[':
		for k := 0; k < len("CDATA["); k++ {
			if b, err = r.at(i + 1 + k); err != nil {
				return token{}, err
			}
			if b != "CDATA["[k] {
				return token{}, NotWellFormed.WithText("invalid <![ sequence")
			}
		}
		start := i + 1 + len("CDATA[")
		end, err := r.cdata(start)
		if err != nil {
			return token{}, err
		}
		r.pos = end
		tok := token{kind: tokenText}
		tok.space = wantSpace && len(bytes.TrimSpace(r.buf[start:end-len("]]>")])) == 0
		return tok, nil
	}
	return r.directive(i)
}

// comment reads a comment whose content starts at buf[i]. "--" must be
// followed by '>'.
func (r *Reader) comment(i int) (token, error) {
	for k := i; ; k++ {
		b, err := r.at(k)
		if err != nil {
			return token{}, err
		}
		if k-i >= 2 && r.buf[k-2] == '-' && r.buf[k-1] == '-' {
			if b != '>' {
				return token{}, NotWellFormed.WithText(`invalid sequence "--" not allowed in comments`)
			}
			r.pos = k + 1
			return token{kind: tokenComment}, nil
		}
	}
}

// directive reads a directive whose first byte after "<!" is buf[i], up
// to the '>' that closes it: quoted text and nested markup (such as the
// declarations inside a DOCTYPE) do not close it, and comments inside it
// are skipped.
func (r *Reader) directive(i int) (token, error) {
	var quote byte
	depth := 0
	for k := i + 1; ; {
		b, err := r.at(k)
		if err != nil {
			return token{}, err
		}
		k++
		if quote == 0 && b == '>' && depth == 0 {
			r.pos = k
			return token{kind: tokenDirective}, nil
		}
		for handled := false; !handled; {
			handled = true
			switch {
			case b == quote:
				quote = 0
			case quote != 0:
			case b == '\'' || b == '"':
				quote = b
			case b == '>':
				depth--
			case b == '<':
				var nested bool
				if nested, b, k, err = r.directiveComment(k); err != nil {
					return token{}, err
				}
				if nested {
					// Not a comment: b, the byte that differed from
					// "<!--", is handled on its own.
					depth++
					handled = false
				}
			}
		}
	}
}

// directiveComment reads what follows a '<' inside a directive, from
// buf[k]. If it is "!--", it skips the comment up to "-->"; otherwise it
// returns nested set and the first byte that differed.
func (r *Reader) directiveComment(k int) (nested bool, b byte, next int, err error) {
	for t := 0; t < len("!--"); t++ {
		if b, err = r.at(k); err != nil {
			return false, 0, k, err
		}
		k++
		if b != "!--"[t] {
			return true, b, k, nil
		}
	}
	var b0, b1 byte
	for {
		if b, err = r.at(k); err != nil {
			return false, 0, k, err
		}
		k++
		if b0 == '-' && b1 == '-' && b == '>' {
			return false, 0, k, nil
		}
		b0, b1 = b1, b
	}
}
