package message

import (
	"strings"
	"unicode/utf8"
)

// A received message chooses every byte of its Subject, its addresses, its
// attachment names and its body. Written raw to a terminal those bytes could
// recolour the screen, move the cursor over the status line (SECURITY.md
// S24), set the window title, write the clipboard (OSC 52), plant hidden
// hyperlinks (OSC 8), or reorder what the user reads with bidi overrides
// (S16, S25). The functions in this file are the one place that decides
// what may reach the terminal.
//
// A neutralised character is shown as a \uXXXX escape (ESC is `\u001b`,
// U+202E is `\u202e`), the same form cmd/securemail uses for strings from
// keys. Once ESC is shown as text, the rest of a CSI, OSC or DCS sequence is
// harmless printable text. The escape is for display: it is not reversible
// (a body may itself contain the text `\u001b`).

// SafeText makes a message body safe to write to a terminal. It keeps \n and
// \t; CRLF becomes \n and a lone CR is escaped, so no line can be
// overwritten. Escaped as \uXXXX: every other C0 control (ESC among them, so
// no ANSI CSI, OSC or DCS sequence can run), DEL, the C1 controls
// U+0080–U+009F (C1 CSI U+009B, NEL U+0085, RI U+008D), the bidi controls
// U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069, and the line and
// paragraph separators U+2028 and U+2029. Invalid UTF-8 becomes U+FFFD, one
// per bad byte. Everything else, including U+FFFD and zero-width joiners
// used by emoji and Indic scripts, is kept.
//
// When nothing needs changing, SafeText returns s itself without
// allocating. SafeText is idempotent.
func SafeText(s string) string { return safeString(s, false) }

// SafeLine is SafeText for a one-line field (Subject, a display name, a user
// ID, a signer's address): \n and \t are escaped too, so the field cannot
// start a line of its own, such as a fake "[GNUPG:] GOODSIG" or a fake
// status banner (S16, S24).
func SafeLine(s string) string { return safeString(s, true) }

// Limits of SafeFilename.
const (
	maxFilenameBytes = 200 // below NAME_MAX (255), with room for a " (2)" a caller may add
	maxFilenameExt   = 16  // longest extension kept when a name is shortened, dot included
	fallbackFilename = "attachment"
)

// SafeFilename turns an attachment's suggested file name (always chosen by
// the sender) into one that is safe both to show and to use as a single
// path component: every character SafeLine would escape, and the path
// separators / and \, become "_" (an escape would bring its own backslash);
// surrounding white space is trimmed; leading dots become "_", so the result
// is never ".", ".." or a hidden file; a name longer than 200 bytes is cut
// at a character boundary and marked with "…", keeping an extension of up
// to 16 bytes, so "invoice\u202egnp.exe" cannot hide its ".exe". An empty
// result becomes "attachment". A name that needs none of this is returned
// as is, without allocating.
func SafeFilename(name string) string {
	if filenameIsSafe(name) {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	leading := true
	for _, r := range strings.TrimSpace(name) { // range yields U+FFFD for invalid bytes
		if leading && r == '.' {
			b.WriteByte('_')
			continue
		}
		leading = false
		if r == '/' || r == '\\' || escapedRune(r, true) {
			r = '_'
		}
		b.WriteRune(r)
	}
	s := b.String()
	if s == "" {
		return fallbackFilename
	}
	if len(s) > maxFilenameBytes {
		s = shortenFilename(s)
	}
	return s
}

// filenameIsSafe reports whether SafeFilename would return name unchanged.
func filenameIsSafe(name string) bool {
	return name != "" && len(name) <= maxFilenameBytes && name[0] != '.' &&
		strings.TrimSpace(name) == name && !strings.ContainsAny(name, `/\`) &&
		firstUnsafe(name, true) == len(name)
}

// shortenFilename cuts s to maxFilenameBytes, keeping its extension.
func shortenFilename(s string) string {
	const mark = "…"
	ext := ""
	if i := strings.LastIndexByte(s, '.'); i > 0 && len(s)-i <= maxFilenameExt {
		ext = s[i:]
	}
	keep := maxFilenameBytes - len(mark) - len(ext)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + mark + ext
}

// escapedRune reports whether r is shown as an escape; line says whether \n
// and \t are escaped too. Invalid UTF-8 is handled by the callers.
func escapedRune(r rune, line bool) bool {
	switch {
	case r < 0x20:
		return line || (r != '\n' && r != '\t')
	case r < 0x7f:
		return false
	case r <= 0x9f: // DEL and the C1 controls
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f,
		0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069: // bidi controls
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// firstUnsafe returns the index of the first byte of s that safeString would
// change, or len(s).
func firstUnsafe(s string, line bool) int {
	for i := 0; i < len(s); {
		// Eight printable ASCII bytes at a time: none has the high bit,
		// none is below 0x20, none is 0x7f (the classic SWAR tests).
		for i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			below20 := (w - ones*0x20) & ^w & highs
			is7f := ((w ^ ones*0x7f) - ones) & ^(w ^ ones*0x7f) & highs
			if w&highs != 0 || below20 != 0 || is7f != 0 {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7f || !line && (c == '\n' || c == '\t') {
				i++
				continue
			}
			return i
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || escapedRune(r, line) {
			return i
		}
		i += n
	}
	return len(s)
}

func safeString(s string, line bool) string {
	i := firstUnsafe(s, line)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for {
		// Copy the run of safe text in one piece, then handle the one
		// character that stopped it.
		b.WriteString(s[:i])
		s = s[i:]
		if len(s) == 0 {
			return b.String()
		}
		n := 1
		if c := s[0]; c < utf8.RuneSelf {
			switch {
			case c == '\r' && !line && len(s) > 1 && s[1] == '\n':
				// CRLF: the LF is written with the next run.
			default:
				writeEscape(&b, rune(c))
			}
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s)
			if r == utf8.RuneError && n == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				writeEscape(&b, r)
			}
		}
		s = s[n:]
		i = firstUnsafe(s, line)
	}
}

// writeEscape writes r as \uXXXX; every escaped rune is below U+10000.
func writeEscape(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[r>>shift&0xf])
	}
}
