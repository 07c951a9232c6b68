package message

import (
	"bytes"
	"io"
	"mime"
	"net/textproto"
	"strings"

	"github.com/emersion/go-message/charset"
)

// Field is one header field as the message carries it.
type Field struct {
	Name  string // as written
	Value string // unfolded (CRLF before whitespace removed), raw (not RFC 2047 decoded)
	// Start, End: the bytes of the whole field, folded lines and the final
	// CRLF included, in Message.Raw.
	Start, End int
}

// Header is the ordered list of fields of an entity. Duplicates are kept:
// two From fields are a fact a verdict must see (S23, S32).
type Header struct {
	Fields []Field
}

// parseHeader reads the fields in raw[start:end]. A line that is neither a
// field nor a continuation is skipped (it is not a field, whatever it
// looks like).
func parseHeader(raw []byte, start, end int) Header {
	var h Header
	b := raw[start:end]
	pos := 0
	for pos < len(b) {
		// One field: a line plus its continuation lines.
		fs := pos
		lineEnd := indexCRLF(b, pos)
		next := lineEnd + 2
		for next < len(b) && (b[next] == ' ' || b[next] == '\t') {
			lineEnd = indexCRLF(b, next)
			next = lineEnd + 2
		}
		if next > len(b) {
			next = len(b)
		}
		field := b[fs:min(lineEnd, len(b))]
		pos = next
		colon := bytes.IndexByte(field, ':')
		if colon <= 0 || !validFieldName(field[:colon]) {
			continue
		}
		h.Fields = append(h.Fields, Field{
			Name:  string(field[:colon]),
			Value: unfold(field[colon+1:]),
			Start: start + fs,
			End:   start + next,
		})
	}
	return h
}

func indexCRLF(b []byte, from int) int {
	i := bytes.Index(b[from:], []byte("\r\n"))
	if i < 0 {
		return len(b)
	}
	return from + i
}

func validFieldName(name []byte) bool {
	for _, c := range name {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return len(name) > 0
}

// unfold removes the CRLFs of folded lines (RFC 5322 §2.2.3) and the
// whitespace around the value.
func unfold(v []byte) string {
	s := string(v)
	if strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "")
	}
	return strings.TrimSpace(s)
}

// Get returns the value of the first field named key (case-insensitive),
// or "".
func (h Header) Get(key string) string {
	for _, f := range h.Fields {
		if strings.EqualFold(f.Name, key) {
			return f.Value
		}
	}
	return ""
}

// Values returns the values of every field named key, in order.
func (h Header) Values(key string) []string {
	var out []string
	for _, f := range h.Fields {
		if strings.EqualFold(f.Name, key) {
			out = append(out, f.Value)
		}
	}
	return out
}

// Count is how many fields are named key.
func (h Header) Count(key string) int {
	n := 0
	for _, f := range h.Fields {
		if strings.EqualFold(f.Name, key) {
			n++
		}
	}
	return n
}

// CanonicalName is the usual spelling of a field name (Content-Type).
func CanonicalName(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }

// wordDecoder decodes RFC 2047 encoded words in any charset go-message
// knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	return charset.Reader(label, r)
}}

// DecodeText decodes the RFC 2047 encoded words of an unstructured field
// (Subject, Comments). What cannot be decoded is returned as it is. The
// result is not safe for a terminal: pass it through SafeLine to show it.
func DecodeText(v string) string {
	s, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return s
}
