package mailbox

import (
	"fmt"
	"math/bits"
)

// Flags is a set of Maildir flags: the letters of the "2," info suffix of a
// file name. Six upper-case letters have a meaning fixed by the Maildir
// specification (the constants below); Dovecot stores IMAP keywords as the
// lower-case letters a–z (their names live in its dovecot-keywords file).
// Every letter, known or not, is kept, so flags another program set survive
// a change made here.
type Flags uint64

// The standard flags, named by their IMAP equivalents.
const (
	Draft    Flags = 1 << ('D' - 'A') // D: a draft (IMAP \Draft)
	Flagged  Flags = 1 << ('F' - 'A') // F: flagged for attention (IMAP \Flagged)
	Passed   Flags = 1 << ('P' - 'A') // P: forwarded, resent or bounced ($Forwarded)
	Answered Flags = 1 << ('R' - 'A') // R: replied to (IMAP \Answered)
	Seen     Flags = 1 << ('S' - 'A') // S: read (IMAP \Seen)
	Trashed  Flags = 1 << ('T' - 'A') // T: marked for deletion (IMAP \Deleted)
)

// letterFlags holds every flag a letter can carry: bits 0–25 for 'A'–'Z',
// 26–51 for 'a'–'z'.
const letterFlags Flags = 1<<52 - 1

// FlagOf returns the flag of a letter ('A'–'Z', 'a'–'z'), or 0 for any other
// byte.
func FlagOf(letter byte) Flags {
	switch {
	case 'A' <= letter && letter <= 'Z':
		return 1 << (letter - 'A')
	case 'a' <= letter && letter <= 'z':
		return 1 << (26 + letter - 'a')
	}
	return 0
}

// Keyword returns the flag of Dovecot keyword number i (0–25, the letters
// a–z), or 0 when i is out of range.
func Keyword(i int) Flags {
	if i < 0 || i > 25 {
		return 0
	}
	return 1 << (26 + i)
}

// ParseFlags reads a string of flag letters such as "FS" in any order.
func ParseFlags(letters string) (Flags, error) {
	var f Flags
	for i := 0; i < len(letters); i++ {
		g := FlagOf(letters[i])
		if g == 0 {
			return 0, fmt.Errorf("mailbox: %q is not a flag letter", letters[i:i+1])
		}
		f |= g
	}
	return f, nil
}

// Has reports whether every flag of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// String returns the letters of f in ASCII order, as they appear in a
// Maildir file name ("FRS"); the empty set is "".
func (f Flags) String() string {
	f &= letterFlags
	b := make([]byte, 0, bits.OnesCount64(uint64(f)))
	for i := 0; i < 52; i++ {
		if f&(1<<i) != 0 {
			b = append(b, flagLetter(i))
		}
	}
	return string(b)
}

func flagLetter(bit int) byte {
	if bit < 26 {
		return 'A' + byte(bit)
	}
	return 'a' + byte(bit-26)
}
