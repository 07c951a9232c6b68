package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"
)

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeTerminalRunes(b.Bytes()))
	return err
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeTerminalRunes(b.Bytes()))
	return err
}

// escapeTerminalRunes writes the C1 controls and the bidi controls that
// encoding/json leaves raw as \u escapes, so JSON printed to a terminal
// (jq, cat) cannot move the cursor or reorder text (S16, S25). Outside
// strings JSON is ASCII, so the whole text can be rewritten.
func escapeTerminalRunes(b []byte) []byte {
	if !bytes.ContainsFunc(b, dangerousRune) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if dangerousRune(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

func dangerousRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x061c
}
