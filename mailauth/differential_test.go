package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"regexp"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// TestDifferentialGoMsgauth verifies the same messages with our engine
// and with go-msgauth's dkim.VerifyWithOptions, and requires the same
// outcome for every signature: changes that relaxed canonicalization
// absorbs (transit reformatting) pass in both, real changes fail in
// both. Our verifier replaces go-msgauth's on the hot path (it is what
// makes the verdict fast, and ARC needs the same engine), so go-msgauth
// stays here as the second opinion.
func TestDifferentialGoMsgauth(t *testing.T) {
	keys(t)
	z := newZone().
		AddTXT("rsa._domainkey.example.org", keyRecord(t, rsaKey)).
		AddTXT("ed._domainkey.example.org", keyRecord(t, edKey))
	lookup := func(name string) ([]string, error) { return z.LookupTXT(context.Background(), name) }

	base := interopMessages()
	mutations := []struct {
		name string
		f    func([]byte) []byte
	}{
		{"none", func(b []byte) []byte { return b }},
		{"header name case", func(b []byte) []byte { return bytes.Replace(b, []byte("\nSubject:"), []byte("\nSUBJECT:"), 1) }},
		{"header whitespace", func(b []byte) []byte { return bytes.Replace(b, []byte("Subject: "), []byte("Subject:   \t "), 1) }},
		{"refolded header", func(b []byte) []byte {
			return regexp.MustCompile(`(\nTo: [^,\r\n]*),?`).ReplaceAll(b, []byte("$1\r\n  "))
		}},
		{"trailing whitespace in body", func(b []byte) []byte { return bytes.Replace(b, []byte("\r\n\r\n"), []byte("\r\n\r\n \t"), 1) }},
		{"blank lines appended", func(b []byte) []byte { return append(bytes.Clone(b), "\r\n\r\n\r\n"...) }},
		{"LF line ends", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }},
		{"body changed", func(b []byte) []byte { return append(bytes.Clone(b), "PS: one more thing\r\n"...) }},
		{"subject changed", func(b []byte) []byte { return bytes.Replace(b, []byte("Subject: "), []byte("Subject: RE: "), 1) }},
		{"From added below", func(b []byte) []byte {
			return bytes.Replace(b, []byte("\nTo:"), []byte("\nFrom: eve@evil.example\r\nTo:"), 1)
		}},
		{"unsigned header added", func(b []byte) []byte { return append(crlf("X-Spam: no\n"), b...) }},
		{"signature refolded", func(b []byte) []byte { return bytes.Replace(b, []byte("; b="), []byte(";\r\n\tb="), 1) }},
		{"signature value damaged", func(b []byte) []byte { return regexp.MustCompile(`b=[A-Za-z0-9+/]{4}`).ReplaceAll(b, []byte("b=AAAA")) }},
	}
	type signer struct {
		sel, alg string
		key      crypto.Signer
	}
	signers := []signer{{"rsa", "rsa-sha256", rsaKey}, {"ed", "ed25519-sha256", edKey}}
	n, agree := 0, 0
	for name, msg := range base {
		for _, s := range signers {
			for _, c := range []string{"relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed"} {
				signed := craft(t, msg, fmt.Sprintf("v=1; a=%s; c=%s; d=example.org; s=%s; h=from:from:to:subject:date", s.alg, c, s.sel), s.key)
				for _, m := range mutations {
					raw := m.f(signed)
					v := eval(t, raw, &Options{DNS: z})
					ours := len(v.DKIM) == 1 && v.DKIM[0].Result == Pass
					vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
					theirs := err == nil && len(vs) == 1 && vs[0].Err == nil
					n++
					if ours != theirs {
						var theirErr error = err
						if len(vs) == 1 {
							theirErr = vs[0].Err
						}
						t.Errorf("%s, %s %s, %s: ours %v (%s), go-msgauth %v (%v)", name, s.sel, c, m.name, ours, errText(v.DKIM[0].Error), theirs, theirErr)
						continue
					}
					agree++
				}
			}
		}
	}
	t.Logf("%d of %d verdicts agree", agree, n)
}
