package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// requireCanonical responds with 400 to requests whose path is not in
// canonical form and passes the others to next. Under the REST API's
// prefix the response is a JSON error, like the API's other errors.
func requireCanonical(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkCanonical(requestPath(r)); err != nil {
			msg := "invalid request path: " + err.Error()
			if strings.HasPrefix(r.URL.Path, apiPrefix) {
				writeJSON(w, http.StatusBadRequest, ErrorResponse{Error: msg})
			} else {
				http.Error(w, msg, http.StatusBadRequest)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestPath returns the path of r's request target as the client sent
// it, still percent-encoded and without the query.
func requestPath(r *http.Request) string {
	target := r.RequestURI
	if target == "" {
		// A request built in-process rather than read by http.Server.
		target = r.URL.RequestURI()
	}
	if !strings.HasPrefix(target, "/") {
		// absolute-form "http://host/path" (RFC 9112 §3.2.2); any other
		// form (such as "*" or an authority) stays as it is and fails
		// the check.
		if _, rest, ok := strings.Cut(target, "://"); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				target = rest[i:]
			} else {
				target = "/"
			}
		}
	}
	path, _, _ := strings.Cut(target, "?")
	return path
}

// checkCanonical returns an error when path is not in canonical form. A
// canonical path starts with "/". Its only empty segment may be the one
// after a trailing "/", it has no dot-segments, and it contains no ';',
// '\', space, control character or unencoded non-ASCII octet. It
// percent-encodes only octets outside the unreserved set of RFC 3986
// §2.3, always with two hex digits, and never '/', '\' or a control
// character. Dot-segment removal (RFC 3986 §5.2.4) leaves such a path
// unchanged, and decoding it keeps its segments, so the router matches
// the same path that was checked.
func checkCanonical(path string) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("%q does not start with /", path)
	}
	if err := checkOctets(path); err != nil {
		return err
	}
	segments := strings.Split(path[1:], "/")
	for i, seg := range segments {
		switch {
		case seg == "." || seg == "..":
			return errors.New("dot-segments are not allowed")
		case seg == "" && i < len(segments)-1:
			return errors.New("empty path segments are not allowed")
		}
	}
	if removeDotSegments(path) != path {
		return errors.New("path is not normalized")
	}
	return nil
}

// checkOctets checks every octet and percent-encoding of path.
func checkOctets(path string) error {
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '%':
			if i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2]) {
				return errors.New("invalid percent-encoding")
			}
			if err := checkEncoded(unhex(path[i+1])<<4 | unhex(path[i+2])); err != nil {
				return err
			}
			i += 2
		case c == ';':
			return errors.New("';' is not allowed")
		case c == '\\':
			return errors.New(`'\' is not allowed`)
		case c <= ' ' || c >= 0x7f:
			return errors.New("unencoded control, space or non-ASCII octet")
		}
	}
	return nil
}

// checkEncoded rejects a percent-encoded octet that has a plain form
// meaning the same (unreserved characters) or that would change the
// path's structure once decoded.
func checkEncoded(b byte) error {
	switch {
	case isUnreserved(b):
		return fmt.Errorf("percent-encoded %q must be written as it is", b)
	case b == '/' || b == '\\':
		return errors.New("percent-encoded slashes are not allowed")
	case b < ' ' || b == 0x7f:
		return errors.New("percent-encoded control characters are not allowed")
	}
	return nil
}

// isUnreserved reports whether b is in RFC 3986's unreserved set.
func isUnreserved(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return b == '-' || b == '.' || b == '_' || b == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// removeDotSegments is the algorithm of RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	var out strings.Builder
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			truncateLastSegment(&out)
		case in == "/..":
			in = "/"
			truncateLastSegment(&out)
		case in == "." || in == "..":
			in = ""
		default:
			// Move the first segment, with its leading "/" if any, to
			// the output.
			end := strings.IndexByte(in[1:], '/')
			if end < 0 {
				end = len(in)
			} else {
				end++
			}
			out.WriteString(in[:end])
			in = in[end:]
		}
	}
	return out.String()
}

// truncateLastSegment removes the last "/segment" from b.
func truncateLastSegment(b *strings.Builder) {
	s := b.String()
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		i = 0
	}
	b.Reset()
	b.WriteString(s[:i])
}
