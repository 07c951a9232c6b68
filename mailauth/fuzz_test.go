package mailauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securemail/securemail/mailauth/mailauthtest"
)

// Fuzz targets for every parser here: DKIM-Signature tag lists,
// Authentication-Results, DMARC records, ARC fields, Received fields,
// whole messages and body canonicalization. They check that nothing
// panics, that results stay in the closed set, that work stays bounded
// (DNS queries), and properties the security rules need (a passing
// result always names a valid domain, S31).

var dkimTagSeeds = []string{
	"v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel; h=from:to; bh=AAAA; b=AAAA",
	"v=1; a=ed25519-sha256; d=legit.example(.attack.example; s=sel; h=from; bh=; b=",
	"v=1; a=rsa-sha1; d=example.org; s=s\x00el; h=from; bh=AA==; b=AA==; l=99999999999999999999",
	"v=1; a=rsa-sha256; d=example.org; s=sel; h=from:from:from; i=@sub.example.org; x=1; t=2; q=dns/txt; z=From:x|To:y",
	" ; ;v = 1 ;a=\trsa-sha256;\r\n d=EXAMPLE.org; s=sel; h= From : To ;bh=AAAA;b=AA\r\n AA",
	"v=1; v=1",
	"=",
	"",
}

var authResSeeds = []string{
	"mx.example.com; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=a@example.org; dmarc=pass header.from=example.org",
	"mx.example.com 1; dkim=pass (2048-bit key; unprotected) header.d=example.org header.i=@example.org",
	"mx.example.com; dkim=pass header.d=legit.example(.attack.example)",
	`mx.example.com; spf=pass smtp.mailfrom="x;dmarc=pass"@attack.example`,
	"mx.example.com; none",
	"mx.example.com; arc=pass header.oldest-pass=1; dmarc=fail header.from=example.org",
	"mx.example.com.evil.net; dkim=pass header.d=example.org",
	"mx.example.com; dkim=pass header.d=\"example.org\"; dkim=hardfail header.d=x",
	"(((;",
	"mx.example.com; foo=bar=baz; =; ;;",
}

var dmarcSeeds = []string{
	"v=DMARC1; p=reject",
	"v=DMARC1; p=quarantine; sp=none; adkim=s; aspf=r; pct=50; rua=mailto:a@example.org; ruf=mailto:b@example.org; fo=1; rf=afrf; ri=86400",
	"v=DMARC1; p=REJECT; t=y",
	"v=DMARC1; p=bogus; sp=bogus; adkim=x; pct=101",
	"v=DMARC1",
	"v=DMARC1;;;; p=none;",
	"p=reject; v=DMARC1",
	"v = DMARC1 ; p = none",
	"v=DMARC1; p=none; p=reject",
}

var arcSeeds = []string{
	"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=list.example; s=arc; b=AAAA\r\n",
	"ARC-Message-Signature: i=1; a=rsa-sha256; d=list.example; s=arc; h=from; bh=AAAA; b=AAAA\r\n",
	"ARC-Authentication-Results: i=1; mx.list.example; dkim=pass\r\n",
	"ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=x.example; s=a; b=A\r\nARC-Seal: i=0; cv=fail\r\n",
	"ARC-Authentication-Results: i=999999999999999999999; x\r\n",
	"ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=list.example; s=arc; h=from; b=AAAA\r\n",
}

var receivedSeeds = []string{
	"from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.com (Postfix) with ESMTPS id X; Mon, 3 Jun 2024 10:00:01 +0000",
	"from x ([IPv6:2001:db8::1]:25 helo=y) by mx.example.com with esmtp (envelope-from <a@b>) id Z",
	"from [192.0.2.1] by z",
	"from ((((((",
	"by (x [1.2.3.4]) from",
}

func TestFuzzSeedsNotEmpty(t *testing.T) {
	for name, seeds := range map[string][]string{"dkim": dkimTagSeeds, "authres": authResSeeds, "dmarc": dmarcSeeds, "arc": arcSeeds, "received": receivedSeeds} {
		if len(seeds) == 0 {
			t.Errorf("no %s seeds", name)
		}
	}
}

// fuzzZone publishes a key for sel._domainkey.example.org and DMARC.
var fuzzZone = sync.OnceValue(func() *mailauthtest.Zone {
	return newZone().
		AddTXT("sel._domainkey.example.org", rfc8463Ed25519Key).
		AddTXT("arc._domainkey.list.example", rfc8463RSAKey).
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
})

// checkVerdict asserts what holds for every verdict.
func checkVerdict(t *testing.T, v *Verdict) {
	t.Helper()
	valid := func(r Result) bool { return int(r) < len(resultNames) }
	for _, d := range v.DKIM {
		if !valid(d.Result) {
			t.Fatalf("DKIM result %d", d.Result)
		}
		if d.Result == Pass && !validDomain(d.Domain, 2) {
			t.Fatalf("DKIM pass for %q, not a valid domain (S31)", d.Domain)
		}
		if d.Result != Pass && d.Error == nil {
			t.Fatalf("DKIM %s without a reason", d.Result)
		}
	}
	if !valid(v.SPF.Result) || !valid(v.DMARC.Result) || !valid(v.ARC.Result) {
		t.Fatalf("results out of the set: %+v", v)
	}
	if v.DMARC.Result == Pass && (v.FromDomain == "" || !v.DMARC.AlignedDKIM && !v.DMARC.AlignedSPF) && v.Source == SourceVerified {
		t.Fatalf("DMARC pass without an aligned identifier: %+v", v.DMARC)
	}
	if v.ARC.Result != None && v.ARC.Result != Pass && v.ARC.Result != Fail && v.ARC.Result != TempError {
		t.Fatalf("ARC %s", v.ARC.Result)
	}
}

func fuzzEval(t *testing.T, raw []byte, opts *Options) *Verdict {
	z := fuzzZone()
	if opts.DNS == nil {
		opts.DNS = z
	}
	opts.Now = fixedNow
	before := len(z.Queries())
	v, err := Evaluate(context.Background(), raw, opts)
	if err != nil {
		return nil
	}
	if n := len(z.Queries()) - before; n > 2*defaultMaxSignatures+2*maxARCSets+4 {
		t.Fatalf("%d DNS queries for one message", n)
	}
	checkVerdict(t, v)
	return v
}

func FuzzDKIMSignatureTags(f *testing.F) {
	for _, s := range dkimTagSeeds {
		f.Add(s)
	}
	base := plainMessage("alice@example.org")
	f.Fuzz(func(t *testing.T, tags string) {
		// The tag-list parser: what parses re-serializes to an equal list.
		if l, err := parseTagList([]byte(tags)); err == nil {
			var parts []string
			for _, tg := range l {
				parts = append(parts, tg.name+"="+tg.value)
			}
			l2, err := parseTagList([]byte(strings.Join(parts, ";")))
			if err != nil || len(l2) != len(l) {
				t.Fatalf("re-parse of %q: %v", tags, err)
			}
			for i := range l {
				if l[i].name != l2[i].name || l[i].value != l2[i].value {
					t.Fatalf("tag %d: %q=%q became %q=%q", i, l[i].name, l[i].value, l2[i].name, l2[i].value)
				}
			}
		}
		raw := append([]byte("DKIM-Signature: "+tags+"\r\n"), base...)
		fuzzEval(t, raw, &Options{})
	})
}

func FuzzAuthenticationResults(f *testing.F) {
	for _, s := range authResSeeds {
		f.Add(s)
	}
	base := plainMessage("alice@example.org")
	f.Fuzz(func(t *testing.T, ar string) {
		if strings.ContainsAny(ar, "\r\n") {
			return // one field
		}
		raw := append([]byte("Authentication-Results: "+ar+"\r\n"), base...)
		v := fuzzEval(t, raw, &Options{TrustedAuthServIDs: []string{"mx.example.com"}})
		if v == nil {
			return
		}
		if v.Source == SourceAuthResults && !equalFoldASCII(v.AuthServID, "mx.example.com") {
			t.Fatalf("trusted %q", v.AuthServID)
		}
		if v.Source == SourceVerified && len(v.IgnoredAuthResults) != 1 {
			t.Fatalf("the field was neither used nor listed as ignored: %+v", v)
		}
	})
}

func FuzzDMARCRecord(f *testing.F) {
	for _, s := range dmarcSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		r, _, err := parseDMARCRecord(rec)
		if err == nil {
			switch r.policy {
			case "none", "quarantine", "reject":
			default:
				t.Fatalf("policy %q from %q", r.policy, rec)
			}
			if r.adkim != "r" && r.adkim != "s" || r.aspf != "r" && r.aspf != "s" {
				t.Fatalf("alignment %q %q", r.adkim, r.aspf)
			}
			if r.pct != nil && (*r.pct < 0 || *r.pct > 100) {
				t.Fatalf("pct %d", *r.pct)
			}
		}
		z := newZone().AddTXT("_dmarc.example.org", rec)
		fuzzEval(t, plainMessage("alice@example.org"), &Options{DNS: z})
	})
}

// arcChain is a valid one-hop ARC chain, made once.
var arcChain = sync.OnceValue(func() []byte {
	var t testing.T
	keys(&t)
	raw, err := SealARC(plainMessage("alice@example.org"), &ARCSealOptions{Domain: "list.example", Selector: "arc",
		Signer: rsaKey2, AuthServID: "mx.list.example", AuthResults: "dkim=none", Now: fixedNow})
	if err != nil {
		panic(err)
	}
	return raw
})

func FuzzARCHeaders(f *testing.F) {
	for _, s := range arcSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, fields string) {
		if !strings.HasSuffix(fields, "\n") {
			fields += "\r\n"
		}
		keys(t)
		z := newZone().AddTXT("arc._domainkey.list.example", keyRecord(t, rsaKey2))
		for _, raw := range [][]byte{
			append([]byte(fields), arcChain()...),
			append([]byte(fields), plainMessage("alice@example.org")...),
		} {
			if v := fuzzEval(t, raw, &Options{DNS: z}); v != nil && v.ARC.Result == Pass && !bytes.Contains(raw, []byte("ARC-Seal")) {
				t.Fatal("ARC pass without a seal")
			}
		}
	})
}

func FuzzReceived(f *testing.F) {
	for _, s := range receivedSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		st, err := parseReceived(v)
		if err == nil && (st.by == "" || st.from == "") {
			t.Fatalf("%q parsed without from and by: %+v", v, st)
		}
		raw := append([]byte("Received: "+strings.NewReplacer("\r", " ", "\n", " ").Replace(v)+"\r\n"), plainMessage("alice@example.org")...)
		fuzzEval(t, raw, &Options{TrustedHops: []string{"mx.example.com"}})
	})
}

func FuzzEvaluate(f *testing.F) {
	f.Add(crlf(rfc8463Message))
	f.Add([]byte(rfc6376Message))
	f.Add(plainMessage("alice@example.org"))
	f.Add([]byte("From: a@b.example\n\n"))
	f.Add([]byte("From : a@b.example\r\nFrom: c@d.example\r\n\r\nx"))
	f.Add([]byte(" folded\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		fuzzEval(t, raw, &Options{TrustedAuthServIDs: []string{"mx.example.com"}, TrustedHops: []string{"mx.example.com"}})
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%v for %d bytes", d, len(raw))
		}
	})
}

func FuzzCanonicalizeBody(f *testing.F) {
	f.Add([]byte("a  b\t\r\n\r\n"), true)
	f.Add([]byte("\r\n\n \t \r\nx"), false)
	f.Fuzz(func(t *testing.T, body []byte, relaxed bool) {
		c := canonSimple
		if relaxed {
			c = canonRelaxed
		}
		h := sha256.New()
		w := bodyWriter{h: h, limit: -1}
		canonicalizeBody(&w, body, c, nil)
		if want := refBody(body, c); !bytes.Equal(h.Sum(nil), sha256New(want)) {
			t.Fatalf("%s %q: differs from the plain implementation", c, body)
		}
	})
}
