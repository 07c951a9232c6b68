package cms

import (
	"errors"
	"fmt"
)

// Default limits applied by [ToDER] and the parsers when a [Limits] field is
// zero (or the *Limits is nil).
const (
	DefaultMaxSize  = 256 << 20 // bytes of encoded input
	DefaultMaxDepth = 64        // nested constructed encodings
)

// Limits bounds the work the BER reader does on untrusted input (S15).
// A nil *Limits or a zero field means the default.
type Limits struct {
	// MaxSize is the largest encoded input accepted, in bytes.
	MaxSize int
	// MaxDepth is the deepest nesting of constructed encodings accepted.
	MaxDepth int
}

func (l *Limits) maxSize() int {
	if l == nil || l.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return l.MaxSize
}

func (l *Limits) maxDepth() int {
	if l == nil || l.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return l.MaxDepth
}

// ToDER reads exactly one BER-encoded ASN.1 value from in and returns it
// with definite lengths only: indefinite-length encodings (X.690 §8.1.3.6)
// get definite lengths and a constructed universal OCTET STRING (X.690
// §8.7.3, what "openssl cms -stream" emits for eContent) becomes one
// primitive OCTET STRING holding the concatenated segments. Every other
// value is re-emitted unchanged apart from its length octets. Input that
// already uses definite lengths and primitive OCTET STRINGs is returned as
// an identical copy.
//
// Implicitly tagged strings (for instance EncryptedContentInfo's
// encryptedContent, [0] IMPLICIT OCTET STRING, sent in segments) keep their
// constructed form, with definite lengths, since only the schema tells them
// apart from an explicit tag: a parser reading such a field must accept
// both the primitive form and a constructed one holding OCTET STRING
// segments.
//
// The reader is strict: it rejects truncated input, lengths beyond the
// input, indefinite lengths on primitive values, long-form lengths of more
// than four octets or that are not minimal, nesting deeper than
// lim.MaxDepth, input larger than lim.MaxSize and trailing data. The output
// is at most a small constant factor larger than the input and nothing
// else is allocated in proportion to it. Errors are *[Error] values with
// Kind [ErrMalformed], [ErrTruncated], [ErrTooLarge], [ErrTooDeep] or
// [ErrTrailingData].
func ToDER(in []byte, lim *Limits) ([]byte, error) {
	if len(in) > lim.maxSize() {
		return nil, &Error{Kind: ErrTooLarge, Offset: -1, Msg: fmt.Sprintf("input of %d bytes exceeds the limit of %d", len(in), lim.maxSize())}
	}
	r := berReader{in: in, maxDepth: lim.maxDepth()}
	next, h, err := r.measure(0, len(in), 0, false)
	if err != nil {
		return nil, err
	}
	if next != len(in) {
		return nil, &Error{Kind: ErrTrailingData, Offset: next, Msg: fmt.Sprintf("%d bytes of trailing data", len(in)-next)}
	}
	if !r.convert {
		return append([]byte(nil), in...), nil
	}
	if h > 1<<32-1 {
		return nil, &Error{Kind: ErrTooLarge, Offset: -1, Msg: "definite-length output would exceed 4 GiB"}
	}
	out := make([]byte, 0, h)
	r.li = 0
	out, _ = r.emit(out, 0)
	return out, nil
}

// berReader walks the input twice: measure validates it and records, in
// pre-order, the output content length of every constructed value; emit
// then writes the definite-length form without further checks.
type berReader struct {
	in       []byte
	maxDepth int
	convert  bool  // some value needs rewriting
	lens     []int // output content length per constructed value, pre-order
	li       int   // emit's cursor into lens
}

type berHeader struct {
	tagLen      int // octets of the identifier
	hdrLen      int // identifier and length octets
	constructed bool
	universal   bool
	number      uint32 // tag number
	indefinite  bool
	length      int // content length if definite
}

func (r *berReader) errAt(kind Kind, off int, format string, args ...any) error {
	return &Error{Kind: kind, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// header parses the identifier and length octets at pos; the value must
// fit before end.
func (r *berReader) header(pos, end int) (berHeader, error) {
	var h berHeader
	p := pos
	if p >= end {
		return h, r.errAt(ErrTruncated, pos, "missing identifier octet")
	}
	b := r.in[p]
	p++
	h.constructed = b&0x20 != 0
	h.universal = b&0xc0 == 0
	h.number = uint32(b & 0x1f)
	if h.number == 0x1f {
		// High tag number form (X.690 §8.1.2.4): base 128, minimal, and
		// we accept at most four octets.
		h.number = 0
		for i := 0; ; i++ {
			if p >= end {
				return h, r.errAt(ErrTruncated, pos, "truncated tag number")
			}
			c := r.in[p]
			p++
			if i == 0 && c == 0x80 {
				return h, r.errAt(ErrMalformed, pos, "non-minimal tag number")
			}
			if i == 4 {
				return h, r.errAt(ErrMalformed, pos, "tag number too large")
			}
			h.number = h.number<<7 | uint32(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if h.number < 0x1f {
			return h, r.errAt(ErrMalformed, pos, "high tag number form for a low tag number")
		}
	}
	h.tagLen = p - pos
	if p >= end {
		return h, r.errAt(ErrTruncated, pos, "missing length octet")
	}
	l := r.in[p]
	p++
	switch {
	case l < 0x80:
		h.length = int(l)
	case l == 0x80:
		if !h.constructed {
			return h, r.errAt(ErrMalformed, pos, "indefinite length on a primitive value")
		}
		h.indefinite = true
	case l == 0xff:
		return h, r.errAt(ErrMalformed, pos, "reserved length octet 0xff")
	default:
		n := int(l & 0x7f)
		if n > 4 {
			return h, r.errAt(ErrMalformed, pos, "length of %d octets is too long", n)
		}
		if end-p < n {
			return h, r.errAt(ErrTruncated, pos, "truncated length")
		}
		if r.in[p] == 0 {
			return h, r.errAt(ErrMalformed, pos, "non-minimal length")
		}
		v := 0
		for i := 0; i < n; i++ {
			v = v<<8 | int(r.in[p+i])
		}
		p += n
		if v < 0x80 {
			return h, r.errAt(ErrMalformed, pos, "non-minimal length")
		}
		h.length = v
	}
	h.hdrLen = p - pos
	if !h.indefinite && h.length > end-p {
		return h, r.errAt(ErrTruncated, pos, "length %d exceeds the %d bytes available", h.length, end-p)
	}
	return h, nil
}

// isOctetString reports a universal OCTET STRING (tag number 4).
func (h *berHeader) isOctetString() bool { return h.universal && h.number == 4 }

// measure validates the value at pos (which must end by end) and returns
// the position after it and the number of octets its definite-length
// output takes. In segment mode (inside a constructed OCTET STRING) only
// OCTET STRINGs are allowed and the returned size is the payload alone.
func (r *berReader) measure(pos, end, depth int, segment bool) (int, int, error) {
	h, err := r.header(pos, end)
	if err != nil {
		return 0, 0, err
	}
	if h.universal && h.number == 0 {
		return 0, 0, r.errAt(ErrMalformed, pos, "unexpected end-of-contents or reserved tag 0")
	}
	if segment && !h.isOctetString() {
		return 0, 0, r.errAt(ErrMalformed, pos, "segment of a constructed OCTET STRING is not an OCTET STRING")
	}
	p := pos + h.hdrLen
	if !h.constructed {
		if segment {
			return p + h.length, h.length, nil
		}
		return p + h.length, h.tagLen + lengthOctets(h.length) + h.length, nil
	}
	if depth+1 > r.maxDepth {
		return 0, 0, r.errAt(ErrTooDeep, pos, "nesting deeper than %d", r.maxDepth)
	}
	if h.indefinite || h.isOctetString() {
		r.convert = true
	}
	idx := len(r.lens)
	r.lens = append(r.lens, 0)
	childSegment := segment || h.isOctetString()
	content := 0
	var stop int
	if h.indefinite {
		for {
			if p >= end {
				return 0, 0, r.errAt(ErrTruncated, pos, "missing end-of-contents")
			}
			if end-p >= 2 && r.in[p] == 0 && r.in[p+1] == 0 {
				stop = p + 2
				break
			}
			next, n, err := r.measure(p, end, depth+1, childSegment)
			if err != nil {
				return 0, 0, err
			}
			p, content = next, content+n
		}
	} else {
		stop = p + h.length
		for p < stop {
			next, n, err := r.measure(p, stop, depth+1, childSegment)
			if err != nil {
				return 0, 0, err
			}
			p, content = next, content+n
		}
	}
	r.lens[idx] = content
	if segment {
		return stop, content, nil
	}
	if h.isOctetString() {
		return stop, 1 + lengthOctets(content) + content, nil
	}
	return stop, h.tagLen + lengthOctets(content) + content, nil
}

// emit appends the definite-length form of the value at pos (already
// validated by measure) and returns the position after the input value.
func (r *berReader) emit(out []byte, pos int) ([]byte, int) {
	h, _ := r.header(pos, len(r.in))
	p := pos + h.hdrLen
	if !h.constructed {
		out = append(out, r.in[pos:pos+h.tagLen]...)
		out = appendLength(out, h.length)
		return append(out, r.in[p:p+h.length]...), p + h.length
	}
	content := r.lens[r.li]
	r.li++
	if h.isOctetString() {
		out = append(out, 0x04)
		out = appendLength(out, content)
		return r.emitSegments(out, p, h)
	}
	out = append(out, r.in[pos:pos+h.tagLen]...)
	out = appendLength(out, content)
	if h.indefinite {
		for !(r.in[p] == 0 && r.in[p+1] == 0) {
			out, p = r.emit(out, p)
		}
		return out, p + 2
	}
	stop := p + h.length
	for p < stop {
		out, p = r.emit(out, p)
	}
	return out, stop
}

// emitSegments appends the payload of the segments of the constructed
// OCTET STRING whose content starts at p.
func (r *berReader) emitSegments(out []byte, p int, h berHeader) ([]byte, int) {
	more := func() bool { return !(r.in[p] == 0 && r.in[p+1] == 0) }
	stop := p + h.length
	if !h.indefinite {
		more = func() bool { return p < stop }
	}
	for more() {
		ch, _ := r.header(p, len(r.in))
		cp := p + ch.hdrLen
		if !ch.constructed {
			out = append(out, r.in[cp:cp+ch.length]...)
			p = cp + ch.length
			continue
		}
		r.li++
		out, p = r.emitSegments(out, cp, ch)
	}
	if h.indefinite {
		return out, p + 2
	}
	return out, stop
}

func lengthOctets(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 1<<8:
		return 2
	case n < 1<<16:
		return 3
	case n < 1<<24:
		return 4
	default:
		return 5
	}
}

func appendLength(out []byte, n int) []byte {
	if n < 0x80 {
		return append(out, byte(n))
	}
	k := lengthOctets(n) - 1
	out = append(out, 0x80|byte(k))
	for i := k - 1; i >= 0; i-- {
		out = append(out, byte(n>>(8*i)))
	}
	return out
}

// Kind classifies the errors of this package. Kinds are constants and
// themselves errors, so callers can write errors.Is(err, cms.ErrUnsigned).
type Kind int

// Error kinds.
const (
	ErrMalformed      Kind = iota + 1 // invalid BER/DER or CMS structure
	ErrTruncated                      // input ends early or a length exceeds it
	ErrTooLarge                       // input beyond Limits.MaxSize
	ErrTooDeep                        // nesting beyond Limits.MaxDepth
	ErrTrailingData                   // bytes after the outermost value
	ErrUnsupported                    // well-formed but not supported (content type, algorithm)
	ErrUnsigned                       // SignedData with zero signerInfos (S12)
	ErrWeakAlgorithm                  // SHA-1, MD5 and the like (S14)
	ErrWeakKey                        // RSA key below the minimum size (S14)
	ErrSignerNotFound                 // no certificate matches the signer identifier
	ErrBadSignature                   // the signature does not verify
	ErrDigestMismatch                 // message-digest attribute differs from the content's digest
	ErrAttribute                      // a signed attribute is missing, repeated or inconsistent
	ErrContent                        // content missing, or both encapsulated and detached
)

// IsMalformed reports whether err says the input itself is bad or
// unsupported (a usage error for a caller), as opposed to a verdict on a
// well-formed message.
func IsMalformed(err error) bool {
	for _, k := range []Kind{ErrMalformed, ErrTruncated, ErrTooLarge, ErrTooDeep, ErrTrailingData, ErrUnsupported} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func (k Kind) Error() string {
	var t string
	switch k {
	case ErrMalformed:
		t = "malformed encoding"
	case ErrTruncated:
		t = "truncated input"
	case ErrTooLarge:
		t = "input too large"
	case ErrTooDeep:
		t = "nesting too deep"
	case ErrTrailingData:
		t = "trailing data"
	case ErrUnsupported:
		t = "unsupported"
	case ErrUnsigned:
		t = "no signer: the message is unsigned"
	case ErrWeakAlgorithm:
		t = "weak algorithm"
	case ErrWeakKey:
		t = "weak key"
	case ErrSignerNotFound:
		t = "signer certificate not found"
	case ErrBadSignature:
		t = "invalid signature"
	case ErrDigestMismatch:
		t = "message digest mismatch"
	case ErrAttribute:
		t = "invalid signed attributes"
	case ErrContent:
		t = "content error"
	default:
		t = fmt.Sprintf("error kind %d", int(k))
	}
	return "cms: " + t
}

// Error is the error type of this package. It matches its Kind with
// errors.Is, and the wrapped Err if any.
type Error struct {
	Kind   Kind
	Offset int    // byte offset in the (BER) input, or -1 if unknown
	Msg    string // detail, lower case
	Err    error  // underlying error, if any
}

func (e *Error) Error() string {
	s := e.Kind.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (at offset %d)", e.Offset)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func newError(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}
