package mailauth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestGenerateDKIMKey(t *testing.T) {
	for _, algo := range []DKIMKeyAlgorithm{DKIMRSA2048, DKIMEd25519} {
		k, err := GenerateDKIMKey(algo, nil)
		if err != nil {
			t.Fatal(err)
		}
		line, err := DKIMZoneLine("s2024", "Example.ORG", k.Public())
		if err != nil {
			t.Fatal(err)
		}
		// The line is zone-file syntax, every string at most 255 octets.
		m := regexp.MustCompile(`^s2024\._domainkey\.example\.org\. IN TXT((?: "[^"]{1,255}")+)$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s: %q", algo, line)
		}
		strs := regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(m[1], -1)
		var rec strings.Builder
		for _, s := range strs {
			rec.WriteString(s[1])
		}
		switch algo {
		case DKIMRSA2048:
			if len(strs) != 2 || !strings.HasPrefix(rec.String(), "v=DKIM1; k=rsa; p=MIIB") {
				t.Errorf("RSA record %q in %d strings", rec.String(), len(strs))
			}
		case DKIMEd25519:
			if len(strs) != 1 || !strings.HasPrefix(rec.String(), "v=DKIM1; k=ed25519; p=") || len(rec.String()) != len("v=DKIM1; k=ed25519; p=")+44 {
				t.Errorf("Ed25519 record %q", rec.String())
			}
		}
		// The joined strings are the record our verifier reads.
		if _, err := parseKeyRecord(rec.String()); err != nil {
			t.Errorf("%s: %v", algo, err)
		}
		// The PEM round-trips, and a message signed with it verifies.
		pemKey, err := MarshalDKIMPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseDKIMPrivateKey(pemKey)
		if err != nil {
			t.Fatal(err)
		}
		z := newZone().AddTXT("s2024._domainkey.example.org", rec.String()).AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
		if v := eval(t, sign(t, plainMessage("a@example.org"), "example.org", "s2024", back), &Options{DNS: z}); !v.Pass() {
			t.Errorf("%s: %+v", algo, v.DKIM)
		}
	}
	if _, err := GenerateDKIMKey("dsa", nil); err == nil {
		t.Error("dsa accepted")
	}
	if _, err := DKIMZoneLine("bad selector", "example.org", edKeyPub(t)); err == nil {
		t.Error("a selector with a space accepted")
	}
	if _, err := DKIMZoneLine("s", "example.org(", edKeyPub(t)); err == nil {
		t.Error("a bad domain accepted")
	}
}

func edKeyPub(t *testing.T) ed25519.PublicKey {
	keys(t)
	return edKey.Public().(ed25519.PublicKey)
}

func TestParseDKIMPrivateKey(t *testing.T) {
	keys(t)
	// PKCS #1, as openssl genrsa and opendkim-genkey write it.
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	k, err := ParseDKIMPrivateKey(pkcs1)
	if err != nil || !k.(*rsa.PrivateKey).Equal(rsaKey) {
		t.Errorf("PKCS #1: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("garbage"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})} {
		if _, err := ParseDKIMPrivateKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSignDKIM(t *testing.T) {
	keys(t)
	raw := plainMessage("alice@example.org")
	signed := sign(t, raw, "example.org", "sel", rsaKey)
	if !bytes.HasSuffix(signed, raw) {
		t.Fatal("the message is not kept as it was")
	}
	// relaxed/relaxed, From over-signed, the other fields as often as
	// they occur.
	field := string(signed[:len(signed)-len(raw)])
	for _, want := range []string{"c=relaxed/relaxed", "a=rsa-sha256", "d=example.org", "s=sel"} {
		if !strings.Contains(field, want) {
			t.Errorf("signature lacks %s:\n%s", want, field)
		}
	}
	if !regexp.MustCompile(`h=From:From:Subject:Date:To:Message-ID:\s*MIME-Version:Content-Type;`).MatchString(field) {
		t.Errorf("h= not as expected:\n%s", field)
	}
	// A message stored with LF line ends gets an LF signature field.
	lf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	signedLF := sign(t, lf, "example.org", "sel", edKey)
	if bytes.Contains(signedLF, []byte("\r")) {
		t.Error("CR in an LF message")
	}
	z := newZone().AddTXT("sel._domainkey.example.org", keyRecord(t, edKey))
	if v := eval(t, signedLF, &Options{DNS: z}); v.DKIM[0].Result != Pass {
		t.Errorf("LF message: %+v", v.DKIM[0])
	}
	for _, bad := range []*DKIMSignOptions{
		nil,
		{Domain: "example.org", Selector: "sel"},
		{Domain: "exa mple.org", Selector: "sel", Signer: rsaKey},
		{Domain: "example.org", Selector: "s\x00", Signer: rsaKey},
	} {
		if _, err := SignDKIM(raw, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	two := append(crlf("From: eve@evil.example\n"), raw...)
	if _, err := SignDKIM(two, &DKIMSignOptions{Domain: "example.org", Selector: "sel", Signer: rsaKey}); err == nil {
		t.Error("a message with two From fields was signed")
	}
}

func TestParseDMARCRecord(t *testing.T) {
	for _, tc := range []struct {
		rec                      string
		p, sp, adkim, aspf, warn string
		pct                      int
		err                      bool
	}{
		{rec: "v=DMARC1; p=reject", p: "reject", adkim: "r", aspf: "r", pct: -1},
		{rec: "v=DMARC1;p=quarantine;sp=none;adkim=s;aspf=s;pct=20;rua=mailto:x@example.org", p: "quarantine", sp: "none", adkim: "s", aspf: "s", pct: 20},
		{rec: "v=DMARC1; p=Reject; SP=none", p: "reject", adkim: "r", aspf: "r", pct: -1},
		{rec: "v=DMARC1", p: "none", adkim: "r", aspf: "r", pct: -1, warn: "no p="},
		{rec: "v=DMARC1; p=rejected; pct=x", p: "none", adkim: "r", aspf: "r", pct: -1, warn: "invalid p="},
		{rec: "v=DMARC1; p=none; adkim=x", p: "none", adkim: "r", aspf: "r", pct: -1, warn: "invalid adkim"},
		{rec: "v=DMARC1; p=none; unknown=tag; rf=xyz", p: "none", adkim: "r", aspf: "r", pct: -1},
		{rec: "v=spf1 -all", err: true},
		{rec: "p=none; v=DMARC1", err: true},
		{rec: "v=DMARC1; p=none; p=reject", err: true},
		{rec: "v=DMARC10; p=none", err: true},
	} {
		r, warns, err := parseDMARCRecord(tc.rec)
		if (err != nil) != tc.err {
			t.Errorf("%q: error %v", tc.rec, err)
			continue
		}
		if err != nil {
			continue
		}
		pct := -1
		if r.pct != nil {
			pct = *r.pct
		}
		if r.policy != tc.p || r.subPolicy != tc.sp || r.adkim != tc.adkim || r.aspf != tc.aspf || pct != tc.pct {
			t.Errorf("%q: %+v pct %d", tc.rec, r, pct)
		}
		if tc.warn != "" && !strings.Contains(strings.Join(warns, "|"), tc.warn) {
			t.Errorf("%q: warnings %q, want %q", tc.rec, warns, tc.warn)
		}
	}
}

func TestParseAuthRes(t *testing.T) {
	for _, tc := range []struct{ in, id, out string }{
		{"mx.example.com; dkim=pass (good sig) header.d=x.example", "mx.example.com", "dkim=pass header.d=x.example"},
		{"mx.example.com; spf=pass (x (nested) y) smtp.mailfrom=a@b.example", "mx.example.com", "spf=pass smtp.mailfrom=a@b.example"},
		{`mx.example.com; dkim=pass header.d="x.example"`, "mx.example.com", `dkim=pass header.d="x.example"`},
		{"(lead) mx.example.com; none", "mx.example.com", ""},
		{`"mx.example.com" 1; DKIM/1=Pass header.D=x.example;`, "mx.example.com", "dkim=pass header.d=x.example"},
		// Quoted strings are kept whole, white space and all.
		{`mx; spf=pass smtp.mailfrom="a smtp.mailfrom=x@example.org "@evil.example`, "mx", `spf=pass smtp.mailfrom="a smtp.mailfrom=x@example.org "@evil.example`},
		{`mx; dkim=fail reason="signature verification failed" (2048-bit key; unprotected) header.d=x.example header.b=aB+/cD==`, "mx",
			`dkim=fail header.b=aB+/cD== header.d=x.example reason="signature verification failed"`},
		// Microsoft's and Yahoo's shapes.
		{"mx; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=x.example; dkim=pass (signature was verified) header.d=x.example;dmarc=pass action=none header.from=x.example;compauth=pass reason=100",
			"mx", "spf=pass smtp.mailfrom=x.example|dkim=pass header.d=x.example|dmarc=pass action=none header.from=x.example|compauth=pass reason=100"},
		{"mx; arc=pass (i=1 spf=pass spfdomain=x.example) header.oldest-pass=1 smtp.remote-ip=2001:db8::1", "mx", "arc=pass header.oldest-pass=1 smtp.remote-ip=2001:db8::1"},
	} {
		id, results, err := parseAuthRes(tc.in)
		var got []string
		for _, r := range results {
			w := []string{r.method + "=" + r.result}
			for k, v := range r.props {
				w = append(w, k+"="+v)
			}
			slices.Sort(w[1:])
			got = append(got, strings.Join(w, " "))
		}
		if err != nil || id != tc.id || strings.Join(got, "|") != tc.out {
			t.Errorf("%q: %q %q %v", tc.in, id, got, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"mx; dkim=pass header.d=legit.example(.attack.example)", "ambiguous syntax: a comment glued"},
		{`mx; spf=pass smtp.mailfrom="a;b"@c`, "ambiguous syntax: a quoted string holding ';'"},
		{`mx; x="(("`, "ambiguous syntax"},
		{"mx; dkim=pass (unclosed", "unbalanced"},
		{"mx; dkim=pass )", "unbalanced"},
		{`mx; x="unterminated`, "unbalanced quote"},
		// What go-msgauth reads as an injected property (S31).
		{"mx; spf=pass smtp.mailfrom=a smtp.mailfrom=x@example.org", "ambiguous syntax: smtp.mailfrom given twice"},
		{"mx; dkim=pass header.d=evil.example HEADER.D=example.org", "ambiguous syntax: header.d given twice"},
		{"mx; dkim=pass reason=a reason=b", "ambiguous syntax: reason given twice"},
		{`mx; spf=pass smtp.mailfrom="a" smtp.mailfrom=x@example.org ""@evil.example`, "ambiguous syntax"},
		{`mx; spf=pass smtp.mailfrom=a"b c"@evil.example`, "ambiguous syntax: a quote inside"},
		{`mx; spf=pass smtp.mailfrom="b c"x@evil.example`, "ambiguous syntax: text after the quoted string"},
		{"mx; dkim=pass example.org", "ambiguous syntax: \"example.org\" in the dkim result is not a property"},
		{"mx; dkim=pass header.d= example.org", "ambiguous syntax"},
		{"mx; dkim = pass header.d=example.org", "ambiguous syntax: white space"},
		{"mx; dkim=pass header.d =example.org", "ambiguous syntax: white space"},
		{"mx extra words; dkim=pass", "ambiguous syntax"},
		{"mx 2; dkim=pass", "unsupported version"},
		{"mx; arc=pass header.oldest-pass=0", "oldest-pass"},
		{"mx; dkim=pass header.d=a\x00", "control character"},
		{";", "no authserv-id"},
	} {
		if _, _, err := parseAuthRes(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func TestResultText(t *testing.T) {
	for r := None; r <= PermError; r++ {
		b, err := r.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("%s: %v %v", r, back, err)
		}
	}
	if r, err := ParseResult("HardFail"); err != nil || r != Fail {
		t.Errorf("hardfail: %v %v", r, err)
	}
	if _, err := ParseResult("passed"); err == nil {
		t.Error("passed accepted")
	}
	if _, err := Result(200).MarshalText(); err == nil {
		t.Error("Result(200) marshalled")
	}
}
