package mailbox

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzIMAPPreTLS feeds the plaintext part of an IMAP STARTTLS session
// (lines read before TLS, untagged and tagged responses, capability
// codes) anything: no panic, lines bounded.
func FuzzIMAPPreTLS(f *testing.F) {
	for _, s := range []string{"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", "* PREAUTH hi\r\n", "S2 OK Begin TLS\r\n", "* OK {5}\r\n", "* BYE\n", strings.Repeat("x", 9000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		br := bufio.NewReader(strings.NewReader(s))
		for range 10 {
			line, err := readIMAPLine(br)
			if err != nil {
				return
			}
			if len(line) > 8192 {
				t.Fatalf("line of %d bytes", len(line))
			}
			untagged(line)
			tagged(line, "S1")
			_, text := untagged(line)
			capsIn(text)
		}
	})
}
