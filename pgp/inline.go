package pgp

import (
	"bytes"
)

// BlockKind is the kind of an inline OpenPGP block.
type BlockKind int

// The inline blocks a text can carry.
const (
	// InlineMessage is an armored "PGP MESSAGE" (encrypted or signed).
	InlineMessage BlockKind = iota + 1
	// InlineCleartext is a cleartext-signed message with its signature.
	InlineCleartext
)

// Block is an inline OpenPGP block in a text: Text[Start:End] is the
// block from its BEGIN line to the end of its END line.
type Block struct {
	Kind       BlockKind
	Start, End int
}

// FindBlocks finds the inline OpenPGP blocks of text (RFC 9580 §6.2,
// §7): BEGIN and END lines must start a line (a quoted "> -----BEGIN"
// is not a block). A block without its END line is not returned.
func FindBlocks(text []byte) []Block {
	var out []Block
	for pos := 0; pos < len(text); {
		line, next := lineAt(text, pos)
		kind, end := BlockKind(0), ""
		switch {
		case isMarker(line, "-----BEGIN PGP MESSAGE-----"):
			kind, end = InlineMessage, "-----END PGP MESSAGE-----"
		case isMarker(line, "-----BEGIN PGP SIGNED MESSAGE-----"):
			kind, end = InlineCleartext, "-----END PGP SIGNATURE-----"
		}
		if kind == 0 {
			pos = next
			continue
		}
		stop := -1
		for q := next; q < len(text); {
			l, n := lineAt(text, q)
			if isMarker(l, end) {
				stop = n
				break
			}
			if kind == InlineMessage && bytes.HasPrefix(l, []byte("-----BEGIN PGP ")) {
				break
			}
			q = n
		}
		if stop < 0 {
			pos = next
			continue
		}
		out = append(out, Block{Kind: kind, Start: pos, End: stop})
		pos = stop
	}
	return out
}

// lineAt returns the line starting at pos, without its line end, and the
// position of the next line.
func lineAt(text []byte, pos int) ([]byte, int) {
	i := bytes.IndexByte(text[pos:], '\n')
	if i < 0 {
		return text[pos:], len(text)
	}
	return bytes.TrimSuffix(text[pos:pos+i], []byte("\r")), pos + i + 1
}

func isMarker(line []byte, marker string) bool {
	return bytes.Equal(bytes.TrimRight(line, " \t"), []byte(marker))
}
