package mailbox

import (
	"bytes"
	"iter"
)

// Header is the raw header block of a message as it is stored: its field
// lines with their line ends (LF or CRLF), without the empty line that ends
// the block. Nothing is decoded: encoded words (RFC 2047) and charsets are
// the message package's business.
type Header []byte

// Get returns the value of the first field called name (case-insensitive),
// unfolded (RFC 5322 §2.2.3) and with surrounding white space removed, or
// "" when there is none.
func (h Header) Get(name string) string {
	if !validFieldName(name) {
		return ""
	}
	for field := range h.fields() {
		if v, ok := fieldValue(field, name); ok {
			return v
		}
	}
	return ""
}

// Values returns the values of every field called name, in order.
func (h Header) Values(name string) []string {
	if !validFieldName(name) {
		return nil
	}
	var out []string
	for field := range h.fields() {
		if v, ok := fieldValue(field, name); ok {
			out = append(out, v)
		}
	}
	return out
}

// fields yields each field with its continuation lines and line ends.
// Lines before the first field that do not look like one (an mbox "From "
// line, garbage) are yielded too and never match a name.
func (h Header) fields() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		b := []byte(h)
		for len(b) > 0 {
			end := 0
			for {
				i := bytes.IndexByte(b[end:], '\n')
				if i < 0 {
					end = len(b)
					break
				}
				end += i + 1
				if end >= len(b) || (b[end] != ' ' && b[end] != '\t') {
					break
				}
			}
			if !yield(b[:end]) {
				return
			}
			b = b[end:]
		}
	}
}

// fieldValue returns the unfolded, trimmed value of field if its name is
// name.
func fieldValue(field []byte, name string) (string, bool) {
	v, ok := valueAfterName(field, name)
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(v, '\n'); i < 0 || i == len(v)-1 {
		return string(bytes.TrimSpace(v)), true // not folded
	}
	// Unfolding removes the line breaks that precede white space.
	out := make([]byte, 0, len(v))
	for len(v) > 0 {
		i := bytes.IndexByte(v, '\n')
		if i < 0 {
			out = append(out, v...)
			break
		}
		out = append(out, bytes.TrimSuffix(v[:i], []byte("\r"))...)
		v = v[i+1:]
	}
	return string(bytes.TrimSpace(out)), true
}

// valueAfterName returns what follows the colon of field if the field is
// called name: the name (any case), optional white space (the obsolete
// syntax of RFC 5322 §4.5.3), a colon.
func valueAfterName(field []byte, name string) ([]byte, bool) {
	if len(field) <= len(name) || !equalFold(field[:len(name)], name) {
		return nil, false
	}
	for i := len(name); i < len(field); i++ {
		switch field[i] {
		case ':':
			return field[i+1:], true
		case ' ', '\t':
		default:
			return nil, false
		}
	}
	return nil, false
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// headerEnd returns the length of the header block at the start of b
// (including the line end of its last field, excluding the empty line that
// ends it) and whether that empty line was found.
func headerEnd(b []byte) (int, bool) {
	if bytes.HasPrefix(b, []byte("\n")) || bytes.HasPrefix(b, []byte("\r\n")) {
		return 0, true
	}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return len(b), false
		}
		k := i + j + 1
		if k < len(b) && b[k] == '\n' {
			return k, true
		}
		if k+1 < len(b) && b[k] == '\r' && b[k+1] == '\n' {
			return k, true
		}
		i = k
	}
}

// selectFields returns a copy of the fields of h whose names are in names,
// which are valid field names.
func selectFields(h []byte, names []string) Header {
	size := 0
	for field := range Header(h).fields() {
		if fieldNamed(field, names) {
			size += len(field)
		}
	}
	if size == 0 {
		return Header{}
	}
	out := make([]byte, 0, size)
	for field := range Header(h).fields() {
		if fieldNamed(field, names) {
			out = append(out, field...)
		}
	}
	return out
}

func fieldNamed(field []byte, names []string) bool {
	for _, n := range names {
		if _, ok := valueAfterName(field, n); ok {
			return true
		}
	}
	return false
}

// validFieldName reports whether name can be a field name: printable
// ASCII without ':' (RFC 5322 §3.6.8).
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}
