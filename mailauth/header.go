package mailauth

import (
	"bytes"
	"errors"
	"fmt"
)

// Limits on the header section, so that work stays bounded on any input.
const (
	maxHeaderBytes  = 1 << 20
	maxHeaderFields = 2000
)

// ErrMalformedMessage is what Evaluate's error wraps when the input is not
// an RFC 5322 message at all: empty, no header field, a header section
// beyond the limits.
var ErrMalformedMessage = errors.New("mailauth: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedMessage, fmt.Sprintf(format, args...))
}

// field is one header field, as it arrived.
type field struct {
	// raw is the whole field: name, colon, value, folding and the final
	// line break, exactly as in the message.
	raw []byte
	// name is the field name without whitespace before the colon; lname
	// is its lower-case form, for matching.
	name, lname string
	// value is everything after the colon up to the final line break,
	// folding included; it starts at raw[valStart].
	value    []byte
	valStart int
	// wspBeforeColon: obsolete syntax "From :" or a folded "From\r\n :"
	// (RFC 5322 §4.5.8), read differently by different parsers (S32).
	wspBeforeColon bool
	// invalid: a line that is not a header field (no colon, or a name
	// with characters a name cannot have). It matches no name.
	invalid bool
	// lfOnly: the field's lines end in a bare LF (a message stored with
	// Unix line ends); canonical forms use CRLF.
	lfOnly bool
}

// message is a parsed message: its header fields top to bottom and its
// body, all pointing into the raw bytes.
type message struct {
	raw    []byte
	fields []field
	body   []byte
	// byName indexes fields by lower-case name, top to bottom.
	byName map[string][]int
}

// parseMessage splits raw into header fields and body. Lines may end in
// CRLF or a bare LF; the header ends at the first empty line (or at the
// end of the input, leaving an empty body).
func parseMessage(raw []byte) (*message, error) {
	if len(raw) == 0 {
		return nil, malformed("empty input")
	}
	if raw[0] == ' ' || raw[0] == '\t' {
		return nil, malformed("the first header line starts with whitespace")
	}
	m := &message{raw: raw, byName: make(map[string][]int, 32)}
	pos := 0
	start := -1 // start of the field being collected
	headerEnd := len(raw)
	bodyStart := len(raw)
	for pos < len(raw) {
		nl := bytes.IndexByte(raw[pos:], '\n')
		lineEnd := len(raw)
		next := len(raw)
		if nl >= 0 {
			lineEnd = pos + nl
			next = lineEnd + 1
		}
		line := raw[pos:lineEnd]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) == 0 { // the empty line ending the header (or a lone CR at the end)
			headerEnd, bodyStart = pos, next
			break
		}
		if line[0] != ' ' && line[0] != '\t' || start < 0 {
			if start >= 0 {
				if err := m.addField(raw[start:pos]); err != nil {
					return nil, err
				}
			}
			start = pos
		}
		pos = next
		if pos > maxHeaderBytes {
			return nil, malformed("the header section is larger than %d KiB", maxHeaderBytes>>10)
		}
	}
	if start >= 0 {
		if err := m.addField(raw[start:min(headerEnd, pos)]); err != nil {
			return nil, err
		}
	}
	if bodyStart <= len(raw) {
		m.body = raw[bodyStart:]
	}
	valid := 0
	for i := range m.fields {
		if !m.fields[i].invalid {
			valid++
		}
	}
	if valid == 0 {
		return nil, malformed("input does not start with a header field")
	}
	return m, nil
}

func (m *message) addField(raw []byte) error {
	if len(m.fields) >= maxHeaderFields {
		return malformed("more than %d header fields", maxHeaderFields)
	}
	f := field{raw: raw}
	f.lfOnly = len(raw) > 0 && raw[len(raw)-1] == '\n' && (len(raw) < 2 || raw[len(raw)-2] != '\r')
	colon := bytes.IndexByte(raw, ':')
	if colon <= 0 {
		f.invalid = true
		m.fields = append(m.fields, f)
		return nil
	}
	name := raw[:colon]
	trimmed := bytes.TrimRight(name, " \t\r\n")
	f.wspBeforeColon = len(trimmed) != len(name)
	for _, c := range trimmed {
		if c < 33 || c > 126 {
			f.invalid = true
		}
	}
	if len(trimmed) == 0 {
		f.invalid = true
	}
	if f.invalid {
		m.fields = append(m.fields, f)
		return nil
	}
	f.name = string(trimmed)
	f.lname = lowerASCII(f.name)
	end := len(raw)
	if end > colon && raw[end-1] == '\n' {
		end--
		if end > colon && raw[end-1] == '\r' {
			end--
		}
	}
	f.value = raw[colon+1 : end]
	f.valStart = colon + 1
	m.fields = append(m.fields, f)
	m.byName[f.lname] = append(m.byName[f.lname], len(m.fields)-1)
	return nil
}

// named returns the indexes of the fields called name (lower case), top to
// bottom.
func (m *message) named(lname string) []int { return m.byName[lname] }

// unfold returns a field value on one line: line breaks removed, the
// whitespace that follows them kept (RFC 5322 §2.2.3).
func unfold(v []byte) string {
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return string(v)
	}
	b := make([]byte, 0, len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			b = append(b, c)
		}
	}
	return string(b)
}
