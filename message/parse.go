package message

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strings"
)

// Message is a parsed message: its canonical bytes and the MIME tree over
// them. Every Part refers to ranges of Raw, so the exact bytes of any part
// (what a signature covers) are Raw[p.Start:p.End].
type Message struct {
	// Raw is the message in canonical form: every line ends in CRLF
	// (RFC 5322 §2.1, RFC 3156 §5, RFC 8551 §3.1.1). Input with bare LF
	// line ends is converted; input already in CRLF form is kept as is.
	Raw  []byte
	Root *Part
}

// Part is one MIME entity: a header block and a body, with their byte
// ranges in Message.Raw.
type Part struct {
	Header Header
	// Start..HeaderEnd is the header block (fields only); BodyStart..End
	// is the body. HeaderEnd..BodyStart is the blank line (CRLF), absent
	// when the entity has no body.
	Start, HeaderEnd, BodyStart, End int

	// MediaType is the lower-cased type/subtype of Content-Type, with the
	// RFC 2045 defaults (text/plain, or message/rfc822 inside
	// multipart/digest); Params are its parameters (RFC 2231 decoded).
	MediaType string
	Params    map[string]string

	// Children are the body parts of a multipart, or the one embedded
	// message of a message/rfc822 part.
	Children []*Part
	Parent   *Part
	Depth    int

	// Problems notes what was wrong with this part and how it was read
	// anyway (a bad Content-Type read as text/plain, a missing close
	// delimiter), so that callers can warn.
	Problems []string
}

// ParseOptions bound the work of parsing. A nil *ParseOptions means the
// defaults.
type ParseOptions struct {
	MaxSize       int // whole message, bytes (default 256 MiB)
	MaxHeaderSize int // one header block, bytes (default 1 MiB)
	MaxDepth      int // nesting of multiparts and embedded messages (default 64)
	MaxParts      int // parts in the whole tree (default 10,000)
}

func (o *ParseOptions) limits() ParseOptions {
	l := ParseOptions{MaxSize: 256 << 20, MaxHeaderSize: 1 << 20, MaxDepth: 64, MaxParts: 10000}
	if o != nil {
		if o.MaxSize > 0 {
			l.MaxSize = o.MaxSize
		}
		if o.MaxHeaderSize > 0 {
			l.MaxHeaderSize = o.MaxHeaderSize
		}
		if o.MaxDepth > 0 {
			l.MaxDepth = o.MaxDepth
		}
		if o.MaxParts > 0 {
			l.MaxParts = o.MaxParts
		}
	}
	return l
}

// LimitError says a message exceeds one of the parser's limits.
type LimitError struct {
	What  string // "size", "header size", "depth", "parts"
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("message: %s exceeds the limit of %d", e.What, e.Limit)
}

// ErrNoHeader is returned for input that does not start with a header
// field (or is empty): it is not an RFC 5322 message.
var ErrNoHeader = errors.New("message: input does not start with a header field")

// Parse reads a message into a tree of parts that keeps the exact bytes
// of each. The boundary splitting is our own (RFC 2046 §5.1.1): the CRLF
// before a delimiter belongs to the delimiter, so a part's bytes are
// exactly what a multipart/signed signature covers.
func Parse(raw []byte, opts *ParseOptions) (*Message, error) {
	lim := opts.limits()
	if len(raw) > lim.MaxSize {
		return nil, &LimitError{What: "size", Limit: lim.MaxSize}
	}
	canon := Canonicalize(raw)
	if len(canon) == 0 || !startsWithField(canon) {
		return nil, ErrNoHeader
	}
	p := &parser{raw: canon, lim: lim}
	root, err := p.entity(0, len(canon), nil, "")
	if err != nil {
		return nil, err
	}
	return &Message{Raw: canon, Root: root}, nil
}

// Canonicalize returns b with every bare LF turned into CRLF. Input with
// no bare LF is returned unchanged (not copied).
func Canonicalize(b []byte) []byte {
	bare := 0
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		if i == 0 || b[i-1] != '\r' {
			bare++
		}
		j := bytes.IndexByte(b[i+1:], '\n')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if bare == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+bare)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b...)
			break
		}
		out = append(out, b[:i]...)
		if i == 0 || b[i-1] != '\r' {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		b = b[i+1:]
	}
	return out
}

// startsWithField reports whether b starts with "name:" (RFC 5322 §2.2:
// printable ASCII except colon), or with an mbox "From " line we do not
// accept as a header either.
func startsWithField(b []byte) bool {
	for i, c := range b {
		switch {
		case c == ':':
			return i > 0
		case c <= ' ' || c >= 0x7f:
			return false
		}
	}
	return false
}

type parser struct {
	raw   []byte
	lim   ParseOptions
	parts int
}

// entity parses the entity in raw[start:end]. defaultType is the type a
// part has without Content-Type ("" means text/plain).
func (p *parser) entity(start, end int, parent *Part, defaultType string) (*Part, error) {
	p.parts++
	if p.parts > p.lim.MaxParts {
		return nil, &LimitError{What: "parts", Limit: p.lim.MaxParts}
	}
	part := &Part{Start: start, Parent: parent}
	if parent != nil {
		part.Depth = parent.Depth + 1
	}
	if part.Depth > p.lim.MaxDepth {
		return nil, &LimitError{What: "depth", Limit: p.lim.MaxDepth}
	}
	hdrEnd, bodyStart := splitHeader(p.raw, start, end)
	if hdrEnd-start > p.lim.MaxHeaderSize {
		return nil, &LimitError{What: "header size", Limit: p.lim.MaxHeaderSize}
	}
	part.HeaderEnd, part.BodyStart, part.End = hdrEnd, bodyStart, end
	part.Header = parseHeader(p.raw, start, hdrEnd)
	p.contentType(part, defaultType)

	switch {
	case strings.HasPrefix(part.MediaType, "multipart/"):
		if err := p.multipart(part); err != nil {
			return nil, err
		}
	case part.MediaType == "message/rfc822" || part.MediaType == "message/global":
		if enc := strings.ToLower(strings.TrimSpace(part.Header.Get("Content-Transfer-Encoding"))); enc == "base64" || enc == "quoted-printable" {
			// An encoded embedded message is not parsed in place: its bytes
			// are not the raw bytes. It is shown as an attachment.
			part.Problems = append(part.Problems, "embedded message has a transfer encoding ("+enc+"): not parsed")
			break
		}
		if part.BodyStart < part.End && startsWithField(p.raw[part.BodyStart:part.End]) {
			child, err := p.entity(part.BodyStart, part.End, part, "")
			if err != nil {
				return nil, err
			}
			part.Children = []*Part{child}
		}
	}
	return part, nil
}

// splitHeader finds the end of the header block starting at start: the
// CRLF CRLF that ends it. It returns the end of the fields and the start of
// the body. An entity whose first line is empty has no fields; one with no
// blank line is all header.
func splitHeader(raw []byte, start, end int) (hdrEnd, bodyStart int) {
	b := raw[start:end]
	if bytes.HasPrefix(b, []byte("\r\n")) {
		return start, start + 2
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return start + i + 2, start + i + 4
	}
	return end, end
}

func (p *parser) contentType(part *Part, defaultType string) {
	if defaultType == "" {
		defaultType = "text/plain"
	}
	ct := part.Header.Get("Content-Type")
	if ct == "" {
		part.MediaType, part.Params = defaultType, map[string]string{}
		if defaultType == "text/plain" {
			part.Params["charset"] = "us-ascii"
		}
		return
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil && mt == "" {
		// RFC 2045 §5.2: an unparsable Content-Type means text/plain.
		part.Problems = append(part.Problems, fmt.Sprintf("bad Content-Type %q: read as text/plain", ct))
		part.MediaType, part.Params = "text/plain", map[string]string{"charset": "us-ascii"}
		return
	}
	if err != nil {
		part.Problems = append(part.Problems, fmt.Sprintf("Content-Type parameters: %v", err))
	}
	if params == nil {
		params = map[string]string{}
	}
	part.MediaType, part.Params = strings.ToLower(mt), params
}

// multipart splits the body of part at its boundary (RFC 2046 §5.1.1):
//
//	delimiter       = CRLF "--" boundary transport-padding CRLF
//	close-delimiter = CRLF "--" boundary "--"
//
// The first delimiter may start the body (no CRLF before it: the preamble
// is empty). Each body part runs from after its delimiter line to the CRLF
// that begins the next delimiter.
func (p *parser) multipart(part *Part) error {
	boundary := part.Params["boundary"]
	if boundary == "" || len(boundary) > 200 {
		part.Problems = append(part.Problems, "multipart without a usable boundary: read as one opaque body")
		return nil
	}
	childDefault := ""
	if part.MediaType == "multipart/digest" {
		childDefault = "message/rfc822"
	}
	body := p.raw[part.BodyStart:part.End]
	dash := []byte("--" + boundary)
	type delim struct{ lineStart, next int } // lineStart: where the CRLF before "--" starts (or "--" at body start)
	var delims []delim
	closed := false
	pos := 0
	for pos <= len(body) {
		i := bytes.Index(body[pos:], dash)
		if i < 0 {
			break
		}
		at := pos + i
		atLineStart := at == 0 || (at >= 2 && body[at-2] == '\r' && body[at-1] == '\n')
		if !atLineStart {
			pos = at + len(dash)
			continue
		}
		after := at + len(dash)
		isClose := bytes.HasPrefix(body[after:], []byte("--"))
		if isClose {
			after += 2
		}
		// The rest of the line must be transport padding (LWSP).
		eol := bytes.Index(body[after:], []byte("\r\n"))
		lineEnd := len(body)
		next := len(body)
		if eol >= 0 {
			lineEnd = after + eol
			next = lineEnd + 2
		}
		if !isClose && strings.TrimLeft(string(body[after:lineEnd]), " \t") != "" {
			// "--boundaryX": a longer boundary, not ours.
			pos = after
			continue
		}
		lineStart := at
		if at > 0 {
			lineStart = at - 2
		}
		delims = append(delims, delim{lineStart, next})
		if isClose {
			closed = true
			break
		}
		pos = next
	}
	if len(delims) == 0 {
		part.Problems = append(part.Problems, "multipart body has no delimiter: read as one opaque body")
		return nil
	}
	if !closed {
		part.Problems = append(part.Problems, "multipart body has no close delimiter (truncated?)")
		delims = append(delims, delim{len(body), len(body)})
	}
	for k := 0; k+1 < len(delims); k++ {
		s, e := delims[k].next, delims[k+1].lineStart
		if e < s {
			e = s
		}
		child, err := p.entity(part.BodyStart+s, part.BodyStart+e, part, childDefault)
		if err != nil {
			return err
		}
		part.Children = append(part.Children, child)
	}
	return nil
}

// Bytes returns the exact bytes of the part, header and body, as the
// message carries them in canonical form: the input of a multipart/signed
// signature (RFC 3156 §5, RFC 8551 §3.1.1).
func (m *Message) Bytes(p *Part) []byte { return m.Raw[p.Start:p.End] }

// Body returns the raw (still transfer-encoded) body of p.
func (m *Message) Body(p *Part) []byte { return m.Raw[p.BodyStart:p.End] }

// Walk calls fn for p and every part below it, depth first, in order.
// It stops early when fn returns false.
func (p *Part) Walk(fn func(*Part) bool) bool {
	if !fn(p) {
		return false
	}
	for _, c := range p.Children {
		if !c.Walk(fn) {
			return false
		}
	}
	return true
}

// IsMultipart reports whether p is a multipart.
func (p *Part) IsMultipart() bool { return strings.HasPrefix(p.MediaType, "multipart/") }
