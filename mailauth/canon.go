package mailauth

import (
	"bytes"
	"encoding/binary"
	"hash"
)

// canon is a DKIM canonicalization algorithm (RFC 6376 §3.4).
type canon uint8

const (
	canonSimple canon = iota
	canonRelaxed
)

func (c canon) String() string {
	if c == canonRelaxed {
		return "relaxed"
	}
	return "simple"
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// appendHeader appends the canonical form of a header field, ending in
// CRLF. raw is the field as it arrived (name, colon, value, folding, line
// break); lname its lower-case name.
func appendHeader(dst []byte, c canon, raw []byte, lname string) []byte {
	if c == canonSimple {
		return appendCRLFLines(dst, raw)
	}
	// Relaxed (§3.4.2): lower-case name, unfold, runs of WSP to one SP,
	// no WSP at the end of the value nor around the colon.
	colon := bytes.IndexByte(raw, ':')
	dst = append(dst, lname...)
	dst = append(dst, ':')
	v := raw[colon+1:]
	space := false
	wrote := false
	for _, b := range v {
		switch b {
		case '\r', '\n':
			continue
		case ' ', '\t':
			space = true
			continue
		}
		if space && wrote {
			dst = append(dst, ' ')
		}
		space = false
		wrote = true
		dst = append(dst, b)
	}
	return append(dst, '\r', '\n')
}

// appendCRLFLines appends b with every bare LF turned into CRLF (a field
// from a message stored with Unix line ends), and a final CRLF if b has
// no line break at its end.
func appendCRLFLines(dst, b []byte) []byte {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			dst = append(dst, b...)
			return append(dst, '\r', '\n')
		}
		dst = append(dst, b[:i]...)
		if i == 0 || b[i-1] != '\r' {
			dst = append(dst, '\r')
		}
		dst = append(dst, '\n')
		b = b[i+1:]
	}
	return dst
}

var crlfs = bytes.Repeat([]byte("\r\n"), 64)

// bodyWriter feeds canonical body bytes to a hash, up to a limit, and
// counts them all.
type bodyWriter struct {
	h     hash.Hash
	limit int64 // -1: no limit
	n     int64
}

func (w *bodyWriter) write(p []byte) {
	if len(p) == 0 {
		return
	}
	if w.limit >= 0 && w.n+int64(len(p)) > w.limit {
		if w.n < w.limit {
			w.h.Write(p[:w.limit-w.n])
		}
	} else {
		w.h.Write(p)
	}
	w.n += int64(len(p))
}

func (w *bodyWriter) writeCRLFs(n int) {
	for n > 0 {
		k := min(n, len(crlfs)/2)
		w.write(crlfs[:2*k])
		n -= k
	}
}

// bodyChunk is how much canonical body is gathered before it goes to
// the hash: one Write per chunk rather than one per line.
const bodyChunk = 16 << 10

// canonicalizeBody writes the canonical form of body (RFC 6376 §3.4.3,
// §3.4.4) to w. Lines may end in CRLF or a bare LF (treated as CRLF).
//
// It is the hot loop of verification. Lines are split with IndexByte.
// For relaxed, the tabs and double spaces (the only whitespace that
// changes inside a line, trailing whitespace aside) are found by
// searches over the whole body, not line by line: a line holding
// neither is copied as it is, its end trimmed, and only the others are
// rewritten (relaxInto). Canonical lines gather in buf and are hashed in
// chunks. Empty lines are held back until a non-empty line follows,
// since trailing ones are dropped. It returns buf for reuse.
func canonicalizeBody(w *bodyWriter, body []byte, c canon, buf []byte) []byte {
	out := buf[:0]
	empties := 0
	wroteLine := false
	// The next tab and the next two spaces in a row at or after the
	// current line; len(body) when there is none.
	nextTab, nextDbl := -1, -1
	pos := 0
	for pos < len(body) {
		var line []byte
		lineStart := pos
		if nl := bytes.IndexByte(body[pos:], '\n'); nl >= 0 {
			end := pos + nl
			line = body[pos:end]
			if end > pos && body[end-1] == '\r' {
				line = body[pos : end-1]
			}
			pos = end + 1
		} else {
			line = body[pos:]
			pos = len(body)
		}
		relax := false
		if c == canonRelaxed {
			end := len(line)
			for end > 0 && isWSP(line[end-1]) {
				end--
			}
			line = line[:end]
			if nextTab < lineStart {
				nextTab = indexFrom(body, lineStart, '\t')
			}
			if nextDbl < lineStart {
				nextDbl = indexFromBytes(body, lineStart, twoSpaces)
			}
			relax = nextTab < lineStart+end || nextDbl < lineStart+end
		}
		if len(line) == 0 {
			empties++
			continue
		}
		if empties > 0 {
			w.write(out)
			out = out[:0]
			w.writeCRLFs(empties)
			empties = 0
		}
		if len(out)+len(line)+10 > bodyChunk && len(out) > 0 {
			w.write(out)
			out = out[:0]
		}
		if cap(out)-len(out) < len(line)+10 {
			out = append(make([]byte, 0, max(bodyChunk, 2*(len(line)+10))), out...)
		}
		if relax {
			out = relaxInto(out, line)
		} else {
			out = append(out, line...)
		}
		out = append(out, '\r', '\n')
		wroteLine = true
	}
	w.write(out)
	// Trailing empty lines are dropped. Simple turns an empty body into one
	// CRLF; relaxed leaves it empty (§3.4.3, §3.4.4).
	if !wroteLine && c == canonSimple {
		w.write(crlfs[:2])
	}
	return out[:0]
}

// indexFrom returns the index of the first c in b at or after from, or
// len(b).
func indexFrom(b []byte, from int, c byte) int {
	if i := bytes.IndexByte(b[from:], c); i >= 0 {
		return from + i
	}
	return len(b)
}

var twoSpaces = []byte("  ")

// indexFromBytes returns the index of the first sep in b at or after
// from, or len(b).
func indexFromBytes(b []byte, from int, sep []byte) int {
	if i := bytes.Index(b[from:], sep); i >= 0 {
		return from + i
	}
	return len(b)
}

// relaxInto appends the relaxed form of a line (without its line break
// and its trailing whitespace) to dst, which must have room for the line
// and 8 bytes more: runs of WSP become one SP.
//
// It works eight bytes at a time: a word whose whitespace is all single
// (nothing to drop) is stored whole, its tabs turned into spaces; only a
// word where a run continues goes byte by byte. Text, where single spaces
// are everywhere, and indented HTML cost little more than a copy, where a
// branch per byte (or bytes.Index for two spaces) costs several times
// more.
func relaxInto(dst, line []byte) []byte {
	j := len(dst)
	out := dst[:cap(dst)]
	var carry uint64 // 0x80: the byte before the word is whitespace
	i := 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		tab := zeroBytes(w ^ tabs)
		ws := tab | zeroBytes(w^spaces)
		drop := ws & (ws<<8 | carry)
		carry = ws >> 56
		if drop == 0 {
			binary.LittleEndian.PutUint64(out[j:], w^(tab>>7)*(' '^'\t'))
			j += 8
			continue
		}
		for k := 0; k < 8; k++ {
			if drop>>(8*k+7)&1 != 0 {
				continue
			}
			b := line[i+k]
			if b == '\t' {
				b = ' '
			}
			out[j] = b
			j++
		}
	}
	space := carry != 0
	for ; i < len(line); i++ {
		b := line[i]
		if b == ' ' || b == '\t' {
			if space {
				continue
			}
			space = true
			b = ' '
		} else {
			space = false
		}
		out[j] = b
		j++
	}
	return out[:j]
}

// SWAR constants: eight bytes at a time.
const (
	low7s  = 0x7f7f7f7f7f7f7f7f
	spaces = 0x2020202020202020
	tabs   = 0x0909090909090909
)

// zeroBytes sets the top bit of each byte of v that is zero, and no other
// bit (exact, unlike the usual borrow trick).
func zeroBytes(v uint64) uint64 { return ^(((v & low7s) + low7s) | v | low7s) }
