package mailauth

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/securemail/securemail/dnssec"
)

func TestS30_ForgedAuthenticationResults(t *testing.T) {
	keys(t)
	// Eve's message, not signed by example.org, with an
	// Authentication-Results field claiming everything passed, from a
	// look-alike authserv-id.
	forged := append(crlf("Authentication-Results: mx.example.com.evil.net;\n dkim=pass header.d=example.org; spf=pass smtp.mailfrom=alice@example.org;\n dmarc=pass header.from=example.org\n"),
		plainMessage("alice@example.org")...)
	z := newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	for _, trusted := range [][]string{
		{"mx.example.com"},       // the look-alike is not it
		{"example.com"},          // nor is a suffix of it
		{"mx.example.com.evil"},  // nor a prefix
		{"MX.EXAMPLE.COM.EVIL."}, // nor with a trailing dot
		nil,                      // nothing configured: nothing trusted
	} {
		v := eval(t, forged, &Options{DNS: z, TrustedAuthServIDs: trusted})
		if v.Source != SourceVerified || v.Pass() || len(v.DKIM) != 0 {
			t.Errorf("trusted %q: source %s, DMARC %s, DKIM %v: the forged field was believed", trusted, v.Source, v.DMARC.Result, v.DKIM)
		}
		if len(v.IgnoredAuthResults) != 1 || v.IgnoredAuthResults[0].AuthServID != "mx.example.com.evil.net" {
			t.Errorf("trusted %q: ignored = %+v", trusted, v.IgnoredAuthResults)
		}
	}

	// The user's own server, matched exactly (ASCII case aside), is
	// believed: the verdict says it was read, not computed.
	v := eval(t, forged, &Options{DNS: z, TrustedAuthServIDs: []string{"MX.Example.COM.evil.net"}})
	if v.Source != SourceAuthResults || v.AuthServID != "mx.example.com.evil.net" || !v.Pass() || len(v.DKIM) != 1 || v.SPF.Result != Pass {
		t.Errorf("trusted field: %+v", v)
	}

	// Connection facts make the verdict be computed here; the trusted
	// field is then listed as set aside.
	v = eval(t, forged, &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com.evil.net"},
		Connection: &Connection{IP: mustAddr("203.0.113.5"), HELO: "x.example", MailFrom: "a@example.org"}})
	if v.Source != SourceVerified || v.Pass() || len(v.IgnoredAuthResults) != 1 || !strings.Contains(v.IgnoredAuthResults[0].Reason, "connection facts") {
		t.Errorf("facts given: source %s, ignored %+v", v.Source, v.IgnoredAuthResults)
	}

	// Only the topmost trusted field counts: one further down was in the
	// message before the user's server added its own.
	two := append(crlf("Authentication-Results: mx.example.com; dkim=fail header.d=example.org; dmarc=fail header.from=example.org\n"),
		append(crlf("Authentication-Results: mx.example.com; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\n"), plainMessage("alice@example.org")...)...)
	v = eval(t, two, &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com"}})
	if v.Pass() || v.DMARC.Result != Fail || len(v.IgnoredAuthResults) != 1 || !strings.Contains(v.IgnoredAuthResults[0].Reason, "above") {
		t.Errorf("two trusted fields: DMARC %s, ignored %+v", v.DMARC.Result, v.IgnoredAuthResults)
	}

	// With trusted hops configured, a field below the border Received
	// field was written before the user's server saw the message.
	below := append(crlf("Received: from mail.evil.example (mail.evil.example [203.0.113.9])\n by mx.example.com (Postfix) with ESMTPS id X; Mon, 3 Jun 2024 10:00:01 +0000\nAuthentication-Results: mx.example.com; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\n"),
		plainMessage("alice@example.org")...)
	v = eval(t, below, &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com"}, TrustedHops: []string{"mx.example.com"}})
	if v.Source != SourceVerified || v.Pass() || len(v.IgnoredAuthResults) != 1 || !strings.Contains(v.IgnoredAuthResults[0].Reason, "below the Received field") {
		t.Errorf("field below the border: source %s DMARC %s ignored %+v", v.Source, v.DMARC.Result, v.IgnoredAuthResults)
	}
}

func TestS31_ResultInjection(t *testing.T) {
	keys(t)
	// Signatures by the attacker's own keys, published where the hostile
	// d= and s= point, verify cryptographically; alignment must still be
	// decided on the exact, valid domain, and these are not valid.
	for _, tc := range []struct{ name, d, s string }{
		{"parenthesis", "legit.example(.attack.example", "sel"},
		{"quotes", `"legit.example"`, "sel"},
		{"space", "legit.example .attack.example", "sel"},
		{"semicolon-less injection", "legit.example,attack.example", "sel"},
		{"unicode", "legit.exampl\u0435", "sel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := newZone().
				AddTXT(tc.s+"._domainkey."+tc.d, keyRecord(t, rsaKey)).
				AddTXT("_dmarc.legit.example", "v=DMARC1; p=reject")
			raw := craft(t, plainMessage("ceo@legit.example"),
				"v=1; a=rsa-sha256; c=relaxed/relaxed; d="+tc.d+"; s="+tc.s+"; h=from:to:subject", rsaKey)
			v := eval(t, raw, &Options{DNS: z})
			if len(v.DKIM) != 1 || v.DKIM[0].Result != PermError || v.Pass() || v.DMARC.AlignedDKIM {
				t.Errorf("d=%q: DKIM %+v, DMARC %+v", tc.d, v.DKIM, v.DMARC)
			}
			mustContain(t, "error", errText(v.DKIM[0].Error), "not a valid domain name")
		})
	}
	// A NUL (or any control character) in s= makes the tag list invalid.
	z := newZone().AddTXT("_dmarc.legit.example", "v=DMARC1; p=reject")
	raw := append(crlf("DKIM-Signature: v=1; a=rsa-sha256; d=legit.example; s=sel\x00.attack.example; h=from; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; b=AAAA\n"),
		plainMessage("ceo@legit.example")...)
	v := eval(t, raw, &Options{DNS: z})
	if v.DKIM[0].Result != PermError || v.Pass() {
		t.Errorf("NUL in s=: %+v", v.DKIM[0])
	}
	mustContain(t, "error", errText(v.DKIM[0].Error), "control character")

	// The same injection through a trusted server's Authentication-Results:
	// a lax server that writes the attacker's d= unquoted must not make
	// header.d read as legit.example once the comment is removed. The
	// field is ignored and the verdict computed here.
	for _, ar := range []string{
		"mx.example.com; dkim=pass header.d=legit.example(.attack.example); dmarc=pass header.from=legit.example",
		`mx.example.com; spf=pass smtp.mailfrom="x;dmarc=pass"@attack.example`,
		`mx.example.com; dkim=pass header.d="legit.example(x)"`,
	} {
		raw := append(crlf("Authentication-Results: "+ar+"\n"), plainMessage("ceo@legit.example")...)
		v := eval(t, raw, &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com"}})
		if v.Source != SourceVerified || v.Pass() || len(v.IgnoredAuthResults) != 1 {
			t.Errorf("%s: source %s, DMARC %s, ignored %+v", ar, v.Source, v.DMARC.Result, v.IgnoredAuthResults)
			continue
		}
		mustContain(t, "reason", v.IgnoredAuthResults[0].Reason, "ambiguous")
	}
	// A comment set apart by a space is only a comment.
	raw = append(crlf("Authentication-Results: mx.example.com;\n dkim=pass (2048-bit key; unprotected) header.d=legit.example header.i=@legit.example;\n dmarc=pass (p=reject dis=none) header.from=legit.example\n"), plainMessage("ceo@legit.example")...)
	v = eval(t, raw, &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com"}})
	if v.Source != SourceAuthResults || !v.Pass() || len(v.DKIM) != 1 || v.DKIM[0].Domain != "legit.example" {
		t.Errorf("comments: source %s DMARC %+v DKIM %+v ignored %+v", v.Source, v.DMARC, v.DKIM, v.IgnoredAuthResults)
	}
	// A trusted field whose header.d is not a domain name does not count.
	raw = append(crlf(`Authentication-Results: mx.example.com; dkim=pass header.d="legit.example attack.example"`+"\n"), plainMessage("ceo@legit.example")...)
	v = eval(t, raw, &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com"}})
	if v.Pass() || len(v.DKIM) != 1 || v.DKIM[0].Result == Pass {
		t.Errorf("invalid header.d: DKIM %+v DMARC %+v", v.DKIM, v.DMARC)
	}
}

func TestS32_AmbiguousFrom(t *testing.T) {
	keys(t)
	z := newZone().
		AddTXT("sel._domainkey.example.org", keyRecord(t, rsaKey)).
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject").
		AddTXT("_dmarc.evil.example", "v=DMARC1; p=none")
	base := plainMessage("alice@example.org")
	// Signed by example.org over exactly one From (not over-signed), so
	// that the signature itself still verifies when a From is added: the
	// verdict must still not pass.
	signOnce := func(raw []byte) []byte {
		out, err := SignDKIM(raw, &DKIMSignOptions{Domain: "example.org", Selector: "sel", Signer: rsaKey,
			Headers: []string{"From", "To", "Subject", "Date", "Message-ID"}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	signed := signOnce(base)
	for _, tc := range []struct {
		name, want string
		raw        []byte
		dkim       Result
	}{
		// Added below the signed one, it is the instance h= selects (the
		// bottom one): the signature breaks.
		{"duplicate From below", "2 From fields", bytes.Replace(signed, []byte("To: Bob"), []byte("From: Eve <eve@evil.example>\r\nTo: Bob"), 1), Fail},
		// Added on top, the signature still verifies, over the other one.
		{"duplicate From on top", "2 From fields", append(crlf("From: Eve <eve@evil.example>\n"), signed...), Policy},
		{"whitespace before the colon", "whitespace before its colon", signOnce(bytes.Replace(base, []byte("From: Alice"), []byte("From : Alice"), 1)), Policy},
		{"folded name", "whitespace before its colon", signOnce(bytes.Replace(base, []byte("From: Alice"), []byte("From\r\n : Alice"), 1)), Policy},
		{"only Sender", "no From field", bytes.Replace(base, []byte("From: Alice"), []byte("Sender: Alice"), 1), None},
		{"only Resent-From", "no From field", bytes.Replace(base, []byte("From: Alice"), []byte("Resent-From: Alice"), 1), None},
		{"several addresses", "2 addresses", bytes.Replace(base, []byte("From: Alice <alice@example.org>"), []byte("From: alice@example.org, eve@evil.example"), 1), None},
		{"encoded word as address", "cannot be read as an address", bytes.Replace(base, []byte("From: Alice <alice@example.org>"), []byte("From: =?utf-8?q?alice=40example.org?="), 1), None},
		{"encoded word in domain", "valid domain", bytes.Replace(base, []byte("From: Alice <alice@example.org>"), []byte("From: alice@=?utf-8?q?example.org?="), 1), None},
		{"From hidden in a fold", "no From field", bytes.Replace(base, []byte("From: Alice <alice@example.org>\r\n"), []byte("X-Note: hi\r\n From: Alice <alice@example.org>\r\n"), 1), None},
		{"empty group", "no address", bytes.Replace(base, []byte("From: Alice <alice@example.org>"), []byte("From: undisclosed-recipients:;"), 1), None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := eval(t, tc.raw, &Options{DNS: z})
			if v.Pass() || v.DMARC.Result != None || v.FromDomain != "" {
				t.Errorf("DMARC %+v, from domain %q: want none/unverifiable", v.DMARC, v.FromDomain)
			}
			mustContain(t, "DMARC error", errText(v.DMARC.Error), tc.want)
			if tc.dkim != None && (len(v.DKIM) == 0 || v.DKIM[0].Result != tc.dkim) {
				t.Errorf("DKIM = %+v: a signature over an ambiguous From must not pass", v.DKIM)
			}
			if tc.dkim == Policy && !strings.Contains(v.FromHeader, "alice@example.org") {
				t.Errorf("from_header = %q: the judged field is shown", v.FromHeader)
			}
		})
	}
	// Over-signing (SignDKIM's default) makes an added From break the
	// signature outright.
	over := sign(t, base, "example.org", "sel", rsaKey)
	added := bytes.Replace(over, []byte("To: Bob"), []byte("From: Eve <eve@evil.example>\r\nTo: Bob"), 1)
	v := eval(t, added, &Options{DNS: z})
	if v.DKIM[0].Result != Fail {
		t.Errorf("over-signed From, one added: %+v", v.DKIM[0])
	}
	if !strings.Contains(v.FromHeader, "eve@evil.example") || !strings.Contains(v.FromHeader, "alice@example.org") {
		t.Errorf("from_header = %q, want both fields shown", v.FromHeader)
	}
}

func TestS33_BodyLength(t *testing.T) {
	keys(t)
	z := newZone().
		AddTXT("sel._domainkey.example.org", keyRecord(t, rsaKey)).
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	base := plainMessage("alice@example.org")
	// l= counts the canonical body: "Shall we meet at noon?\r\n".
	l := len("Shall we meet at noon?\r\n")
	signed := craft(t, base, fmt.Sprintf("v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=from:from:to:subject:date; l=%d", l), rsaKey)
	v := eval(t, signed, &Options{DNS: z})
	if v.DKIM[0].Result != Pass || !hasWarning(v, "l=") {
		t.Errorf("l= covering the whole body: %+v, warnings %q", v.DKIM[0], v.Warnings)
	}
	// The classic attack: content appended after the signed length.
	appended := append(append([]byte{}, signed...), crlf("\nPS: wire the money to IBAN XX00 EVIL.\n")...)
	v = eval(t, appended, &Options{DNS: z})
	if v.DKIM[0].Result != Fail || v.Pass() {
		t.Errorf("content after l=: DKIM %+v DMARC %s", v.DKIM[0], v.DMARC.Result)
	}
	mustContain(t, "error", errText(v.DKIM[0].Error), "not signed")
	// An l= longer than the body is a failure too.
	long := craft(t, base, fmt.Sprintf("v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=from; l=%d", l+10), rsaKey)
	if v := eval(t, long, &Options{DNS: z}); v.DKIM[0].Result != Fail {
		t.Errorf("l= beyond the body: %+v", v.DKIM[0])
	}
}

func TestS34_UnsignedHeaders(t *testing.T) {
	keys(t)
	z := newZone().
		AddTXT("sel._domainkey.example.org", keyRecord(t, rsaKey)).
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	base := plainMessage("alice@example.org")
	// A signature leaving out Subject and Content-Type passes, with a
	// warning naming them.
	raw := craft(t, base, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=from:to:date", rsaKey)
	v := eval(t, raw, &Options{DNS: z})
	if !v.Pass() || !hasWarning(v, "Subject") || !hasWarning(v, "Content-Type") || hasWarning(v, "To,") {
		t.Errorf("DMARC %s, warnings %q", v.DMARC.Result, v.Warnings)
	}
	// A second Subject added after signing one: that instance is not
	// covered.
	raw = craft(t, base, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=from:to:subject:date:content-type", rsaKey)
	if v := eval(t, raw, &Options{DNS: z}); len(v.Warnings) != 0 {
		t.Errorf("all covered: warnings %q", v.Warnings)
	}
	// Added on top (h= selects from the bottom, so the signature still
	// verifies), a reader may show it.
	added := append(crlf("Subject: URGENT: new bank details\n"), raw...)
	if v := eval(t, added, &Options{DNS: z}); v.DKIM[0].Result != Pass || !hasWarning(v, "Subject") {
		t.Errorf("added Subject: %+v, warnings %q", v.DKIM[0], v.Warnings)
	}
	// No From in h=: the signature fails (RFC 6376 §6.1.1).
	raw = craft(t, base, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=to:subject:date", rsaKey)
	v = eval(t, raw, &Options{DNS: z})
	if v.DKIM[0].Result != Fail || v.Pass() {
		t.Errorf("From not signed: %+v", v.DKIM[0])
	}
	mustContain(t, "error", errText(v.DKIM[0].Error), "From")
}

func TestS35_KeyRecords(t *testing.T) {
	keys(t)
	base := plainMessage("alice@example.org")
	rsaSigned := sign(t, base, "example.org", "sel", rsaKey)
	edSigned := sign(t, base, "example.org", "sel", edKey)
	record := keyRecord(t, rsaKey)
	pub := strings.TrimPrefix(record, "v=DKIM1; k=rsa; ")
	for _, tc := range []struct {
		name    string
		records []string
		raw     []byte
		want    Result
		errText string
		setup   func(z interface{ SetServFail(string) })
	}{
		{"valid", []string{record}, rsaSigned, Pass, "", nil},
		{"revoked (empty p=)", []string{"v=DKIM1; k=rsa; p="}, rsaSigned, PermError, "revoked", nil},
		{"testing t=y", []string{"v=DKIM1; k=rsa; t=y; " + pub}, rsaSigned, None, "testing mode", nil},
		{"k= mismatch", []string{"v=DKIM1; k=ed25519; " + pub}, rsaSigned, PermError, "", nil},
		{"ed25519 key for an RSA signature", []string{keyRecord(t, edKey)}, rsaSigned, PermError, "does not fit the key", nil},
		{"h= mismatch", []string{"v=DKIM1; k=rsa; h=sha1; " + pub}, rsaSigned, PermError, "h= does not allow sha256", nil},
		{"several TXT records", []string{record, record}, rsaSigned, PermError, "2 TXT records", nil},
		{"RSA 512", []string{shortRSARecord(t, 512)}, rsaSigned, PermError, "too short", nil},
		{"RSA 1023", []string{shortRSARecord(t, 1023)}, rsaSigned, PermError, "too short", nil},
		{"v= not first", []string{"k=rsa; v=DKIM1; " + pub}, rsaSigned, PermError, "not a DKIM key record", nil},
		{"v=DKIM2", []string{"v=DKIM2; " + pub}, rsaSigned, PermError, "not a DKIM key record", nil},
		{"service not email", []string{"v=DKIM1; s=tlsrpt; " + pub}, rsaSigned, PermError, "not for email", nil},
		{"service wildcard", []string{"v=DKIM1; s=*; " + pub}, rsaSigned, Pass, "", nil},
		{"ed25519", []string{keyRecord(t, edKey)}, edSigned, Pass, "", nil},
		{"ed25519 as SubjectPublicKeyInfo", []string{edSPKI(t)}, edSigned, PermError, "the bare key", nil},
		{"no record", nil, rsaSigned, PermError, "no key record", nil},
		{"garbage record", []string{"v=DKIM1; p=!!!"}, rsaSigned, PermError, "not base64", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
			if tc.records != nil {
				z.AddTXT("sel._domainkey.example.org", tc.records...)
			}
			v := eval(t, tc.raw, &Options{DNS: z})
			if len(v.DKIM) != 1 || v.DKIM[0].Result != tc.want {
				t.Fatalf("DKIM = %+v, want %s", v.DKIM, tc.want)
			}
			mustContain(t, "error", errText(v.DKIM[0].Error), tc.errText)
			if (tc.want == Pass) != v.Pass() {
				t.Errorf("DMARC %s with DKIM %s", v.DMARC.Result, tc.want)
			}
		})
	}

	// RSA 1024 passes with a warning; rsa-sha1 is refused (RFC 8301).
	z := newZone().AddTXT("sel._domainkey.example.org", keyRecord(t, rsa1024Key)).AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	v := eval(t, sign(t, base, "example.org", "sel", rsa1024Key), &Options{DNS: z})
	if v.DKIM[0].Result != Pass || !hasWarning(v, "1024 bits") {
		t.Errorf("RSA 1024: %+v %q", v.DKIM[0], v.Warnings)
	}
	sha1 := bytes.Replace(rsaSigned, []byte("a=rsa-sha256"), []byte("a=rsa-sha1"), 1)
	z = newZone().AddTXT("sel._domainkey.example.org", record)
	if v := eval(t, sha1, &Options{DNS: z}); v.DKIM[0].Result != PermError || !strings.Contains(errText(v.DKIM[0].Error), "RFC 8301") {
		t.Errorf("rsa-sha1: %+v", v.DKIM[0])
	}

	// t=s: i= must name d= itself, not a subdomain.
	strict := "v=DKIM1; k=rsa; t=s; " + pub
	z = newZone().AddTXT("sel._domainkey.example.org", strict)
	sub := craft(t, base, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; i=alice@mail.example.org; s=sel; h=from", rsaKey)
	if v := eval(t, sub, &Options{DNS: z}); v.DKIM[0].Result != PermError || !strings.Contains(errText(v.DKIM[0].Error), "t=s") {
		t.Errorf("t=s with a subdomain i=: %+v", v.DKIM[0])
	}
	same := craft(t, base, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; i=alice@example.org; s=sel; h=from", rsaKey)
	if v := eval(t, same, &Options{DNS: z}); v.DKIM[0].Result != Pass {
		t.Errorf("t=s with i= in d=: %+v", v.DKIM[0])
	}
	// i= outside d= is malformed whatever the key says.
	out := craft(t, base, "v=1; a=rsa-sha256; d=example.org; i=alice@badexample.org; s=sel; h=from", rsaKey)
	if v := eval(t, out, &Options{DNS: newZone().AddTXT("sel._domainkey.example.org", record)}); v.DKIM[0].Result != PermError {
		t.Errorf("i= outside d=: %+v", v.DKIM[0])
	}

	// x= in the past: expired.
	exp := craft(t, base, "v=1; a=rsa-sha256; d=example.org; s=sel; h=from; t=1600000000; x=1600086400", rsaKey)
	if v := eval(t, exp, &Options{DNS: newZone().AddTXT("sel._domainkey.example.org", record)}); v.DKIM[0].Result != Fail || !strings.Contains(errText(v.DKIM[0].Error), "expired") {
		t.Errorf("expired: %+v", v.DKIM[0])
	}

	// DNS: SERVFAIL is temporary, and so is a DNSSEC-bogus answer; a
	// secure answer is reported as such.
	z = newZone().AddTXT("sel._domainkey.example.org", record).AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	z.SetServFail("sel._domainkey.example.org")
	v = eval(t, rsaSigned, &Options{DNS: z})
	if v.DKIM[0].Result != TempError || v.DMARC.Result != TempError || !v.Temporary() {
		t.Errorf("SERVFAIL: DKIM %+v DMARC %s: a key that could not be fetched leaves DMARC undecided", v.DKIM[0], v.DMARC.Result)
	}
	z = newZone().AddTXT("sel._domainkey.example.org", record).AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	z.SetStatus("sel._domainkey.example.org", dnssec.Bogus)
	if v := eval(t, rsaSigned, &Options{DNS: z}); v.DKIM[0].Result != TempError || v.DKIM[0].DNSSEC != "bogus" {
		t.Errorf("bogus: %+v", v.DKIM[0])
	}
	z.SetStatus("sel._domainkey.example.org", dnssec.Secure)
	if v := eval(t, rsaSigned, &Options{DNS: z}); v.DKIM[0].Result != Pass || v.DKIM[0].DNSSEC != "secure" {
		t.Errorf("secure: %+v", v.DKIM[0])
	}
	// No DNS at all: temporary, never a pass.
	if v := eval(t, rsaSigned, &Options{}); v.DKIM[0].Result != TempError || v.DMARC.Result != TempError {
		t.Errorf("no DNS: DKIM %+v DMARC %+v", v.DKIM[0], v.DMARC)
	}
}

// edSPKI publishes the Ed25519 key wrapped in SubjectPublicKeyInfo,
// which RFC 8463 §4.2 does not allow (p= is the bare key).
func edSPKI(t *testing.T) string {
	der, err := x509.MarshalPKIXPublicKey(edKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(der)
}

func TestS37_DMARCAlignment(t *testing.T) {
	keys(t)
	rec := keyRecord(t, rsaKey)
	for _, tc := range []struct {
		name       string
		from, d    string
		records    map[string]string
		want       Result
		policy     string
		policyDom  string
		alignedDKM bool
	}{
		{"relaxed, same domain", "example.org", "example.org", map[string]string{"example.org": "v=DMARC1; p=reject"}, Pass, "reject", "example.org", true},
		{"relaxed, parent signs for a subdomain", "mail.example.org", "example.org", map[string]string{"example.org": "v=DMARC1; p=quarantine"}, Pass, "quarantine", "example.org", true},
		{"relaxed, sibling subdomains", "a.example.org", "b.example.org", map[string]string{"example.org": "v=DMARC1; p=reject"}, Pass, "reject", "example.org", true},
		{"strict, subdomain does not align", "mail.example.org", "example.org", map[string]string{"example.org": "v=DMARC1; p=reject; adkim=s"}, Fail, "reject", "example.org", false},
		{"strict, same domain aligns", "example.org", "example.org", map[string]string{"example.org": "v=DMARC1; p=reject; adkim=s"}, Pass, "reject", "example.org", true},
		{"sp= for a subdomain", "mail.example.org", "other.example", map[string]string{"example.org": "v=DMARC1; p=reject; sp=quarantine"}, Fail, "quarantine", "example.org", false},
		{"p= at the subdomain itself", "mail.example.org", "other.example", map[string]string{"mail.example.org": "v=DMARC1; p=none", "example.org": "v=DMARC1; p=reject; sp=reject"}, Fail, "none", "mail.example.org", false},
		{"p=none", "example.org", "other.example", map[string]string{"example.org": "v=DMARC1; p=none"}, Fail, "none", "example.org", false},
		{"uppercase words", "example.org", "other.example", map[string]string{"example.org": "v=DMARC1; p=REJECT"}, Fail, "reject", "example.org", false},
		{"no record", "example.org", "example.org", nil, None, "", "", true},
		{"public suffix: co.uk", "shop.example.co.uk", "evil.co.uk", map[string]string{"example.co.uk": "v=DMARC1; p=reject"}, Fail, "reject", "example.co.uk", false},
		{"public suffix: aligned under co.uk", "shop.example.co.uk", "example.co.uk", map[string]string{"example.co.uk": "v=DMARC1; p=reject"}, Pass, "reject", "example.co.uk", true},
		{"label-aware: badexample.org", "example.org", "badexample.org", map[string]string{"example.org": "v=DMARC1; p=reject"}, Fail, "reject", "example.org", false},
		{"invalid p= reads as none", "example.org", "other.example", map[string]string{"example.org": "v=DMARC1; p=bogus"}, Fail, "none", "example.org", false},
		{"record must start with v=DMARC1", "example.org", "other.example", map[string]string{"example.org": "p=reject; v=DMARC1"}, None, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := newZone().AddTXT("sel._domainkey."+tc.d, rec)
			for d, r := range tc.records {
				z.AddTXT("_dmarc."+d, r)
			}
			raw := sign(t, plainMessage("alice@"+tc.from), tc.d, "sel", rsaKey)
			v := eval(t, raw, &Options{DNS: z})
			if v.DKIM[0].Result != Pass {
				t.Fatalf("DKIM %+v", v.DKIM[0])
			}
			if v.DMARC.Result != tc.want || v.DMARC.Policy != tc.policy || v.DMARC.Domain != tc.policyDom || v.DMARC.AlignedDKIM != tc.alignedDKM {
				t.Errorf("DMARC = %+v (error %q), want %s policy %q at %q aligned %v", v.DMARC, errText(v.DMARC.Error), tc.want, tc.policy, tc.policyDom, tc.alignedDKM)
			}
		})
	}

	// pct= is reported, the verdict has no randomness: the same message
	// gets the same verdict every time.
	z := newZone().AddTXT("sel._domainkey.other.example", rec).AddTXT("_dmarc.example.org", "v=DMARC1; p=reject; pct=10")
	raw := sign(t, plainMessage("alice@example.org"), "other.example", "sel", rsaKey)
	for range 20 {
		v := eval(t, raw, &Options{DNS: z})
		if v.DMARC.Result != Fail || v.DMARC.Policy != "reject" || v.DMARC.Percent == nil || *v.DMARC.Percent != 10 {
			t.Fatalf("pct=10: %+v", v.DMARC)
		}
	}
	// RFC 9989 t=y is reported.
	z = newZone().AddTXT("sel._domainkey.other.example", rec).AddTXT("_dmarc.example.org", "v=DMARC1; p=reject; t=y")
	if v := eval(t, raw, &Options{DNS: z}); !v.DMARC.Testing {
		t.Errorf("t=y: %+v", v.DMARC)
	}
	// Two DMARC records: DMARC does not apply (RFC 7489 §6.6.3).
	z = newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject", "v=DMARC1; p=none")
	if v := eval(t, raw, &Options{DNS: z}); v.DMARC.Result != None || !strings.Contains(errText(v.DMARC.Error), "2 DMARC records") {
		t.Errorf("two records: %+v", v.DMARC)
	}
	// A temporary failure of the record lookup is temperror, not none.
	z = newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	z.SetServFail("_dmarc.example.org")
	if v := eval(t, raw, &Options{DNS: z}); v.DMARC.Result != TempError || !v.Temporary() {
		t.Errorf("SERVFAIL: %+v", v.DMARC)
	}

	// A key that cannot be fetched leaves DMARC undecided only when its
	// signature could have aligned.
	z = newZone().AddTXT("sel._domainkey.other.example", rec).AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	z.SetServFail("sel._domainkey.other.example")
	if v := eval(t, raw, &Options{DNS: z}); v.DKIM[0].Result != TempError || v.DMARC.Result != Fail {
		t.Errorf("unaligned temperror: DKIM %s DMARC %+v", v.DKIM[0].Result, v.DMARC)
	}
	z = newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	z.SetServFail("example.org")
	conn0 := &Connection{IP: mustAddr("192.0.2.7"), HELO: "mail.example.org", MailFrom: "alice@example.org"}
	if v := eval(t, plainMessage("alice@example.org"), &Options{DNS: z, Connection: conn0}); v.SPF.Result != TempError || v.DMARC.Result != TempError {
		t.Errorf("aligned SPF temperror: SPF %s DMARC %+v", v.SPF.Result, v.DMARC)
	}

	// SPF alignment: relaxed and strict, on the MAIL FROM domain.
	z = newZone().
		AddTXT("bounces.example.org", "v=spf1 ip4:192.0.2.0/24 -all").
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	unsigned := plainMessage("alice@example.org")
	conn := &Connection{IP: mustAddr("192.0.2.7"), HELO: "mail.example.org", MailFrom: "b-123@bounces.example.org"}
	v := eval(t, unsigned, &Options{DNS: z, Connection: conn})
	if v.SPF.Result != Pass || !v.DMARC.AlignedSPF || !v.Pass() {
		t.Errorf("SPF relaxed: SPF %+v DMARC %+v", v.SPF, v.DMARC)
	}
	z.AddTXT("_dmarc.example.org", "")
	z2 := newZone().
		AddTXT("bounces.example.org", "v=spf1 ip4:192.0.2.0/24 -all").
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject; aspf=s")
	v = eval(t, unsigned, &Options{DNS: z2, Connection: conn})
	if v.SPF.Result != Pass || v.DMARC.AlignedSPF || v.Pass() {
		t.Errorf("SPF strict: SPF %+v DMARC %+v", v.SPF, v.DMARC)
	}
}

func TestS38_WorkLimits(t *testing.T) {
	keys(t)
	base := plainMessage("alice@example.org")
	raw := base
	for i := range 20 {
		raw = craft(t, raw, fmt.Sprintf("v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=s%d; h=from", i), rsaKey)
	}
	z := newZone()
	for i := range 20 {
		z.AddTXT(fmt.Sprintf("s%d._domainkey.example.org", i), keyRecord(t, rsaKey))
	}
	v := eval(t, raw, &Options{DNS: z, MaxSignatures: 5})
	checked := 0
	for _, d := range v.DKIM {
		switch d.Result {
		case Pass:
			checked++
		case Policy:
			mustContain(t, "error", errText(d.Error), "work limit")
		default:
			t.Errorf("%+v", d)
		}
	}
	keyQueries := 0
	for _, q := range z.Queries() {
		if strings.Contains(q, "._domainkey.") {
			keyQueries++
		}
	}
	if len(v.DKIM) != 20 || checked != 5 || keyQueries != 5 {
		t.Errorf("%d results, %d checked, %d key queries; want 20, 5, 5", len(v.DKIM), checked, keyQueries)
	}
	// The default limit.
	v = eval(t, raw, &Options{DNS: z})
	if v.DKIM[defaultMaxSignatures-1].Result != Pass || v.DKIM[defaultMaxSignatures].Result != Policy {
		t.Errorf("default limit: %v %v", v.DKIM[defaultMaxSignatures-1].Result, v.DKIM[defaultMaxSignatures].Result)
	}

	// An h= list beyond the limit is refused before any work.
	long := "v=1; a=rsa-sha256; d=example.org; s=s0; h=from" + strings.Repeat(":x", maxSignedHeaders)
	if v := eval(t, craft(t, base, long, rsaKey), &Options{DNS: z}); v.DKIM[0].Result != PermError {
		t.Errorf("long h=: %+v", v.DKIM[0])
	}

	// SPF: more than 10 DNS-querying mechanisms, more than 2 void
	// lookups: permerror (RFC 7208 §4.6.4).
	conn := &Connection{IP: mustAddr("192.0.2.7"), HELO: "mail.example.org", MailFrom: "alice@example.org"}
	z = newZone()
	var incl []string
	for i := range 11 {
		d := fmt.Sprintf("i%d.example.org", i)
		incl = append(incl, "include:"+d)
		z.AddTXT(d, "v=spf1 -ip4:198.51.100.1")
	}
	z.AddTXT("example.org", "v=spf1 "+strings.Join(incl, " ")+" -all")
	v = eval(t, base, &Options{DNS: z, Connection: conn})
	if v.SPF.Result != PermError || !strings.Contains(errText(v.SPF.Error), "10") {
		t.Errorf("11 includes: %+v", v.SPF)
	}
	z = newZone().AddTXT("example.org", "v=spf1 a:n1.example.org a:n2.example.org a:n3.example.org -all")
	v = eval(t, base, &Options{DNS: z, Connection: conn})
	if v.SPF.Result != PermError || !strings.Contains(errText(v.SPF.Error), "2 lookups") {
		t.Errorf("3 void lookups: %+v", v.SPF)
	}
	// Exactly 10 is fine.
	z = newZone()
	incl = incl[:0]
	for i := range 10 {
		d := fmt.Sprintf("i%d.example.org", i)
		incl = append(incl, "include:"+d)
		z.AddTXT(d, "v=spf1 -ip4:198.51.100.1")
	}
	z.AddTXT("example.org", "v=spf1 "+strings.Join(incl, " ")+" -all")
	if v := eval(t, base, &Options{DNS: z, Connection: conn}); v.SPF.Result != Fail {
		t.Errorf("10 includes: %+v", v.SPF)
	}

	// A header section beyond the limit is not a message.
	huge := append(bytes.Repeat([]byte("X-Pad: "+strings.Repeat("a", 990)+"\r\n"), 1100), base...)
	if _, err := Evaluate(t.Context(), huge, &Options{}); err == nil {
		t.Error("a 1 MiB header was accepted")
	}
}
