package smimea

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// recordSeeds are real record texts: the forms ParseRecord reads, a
// certificate and a public key made here, and some near misses.
func recordSeeds(t testing.TB) []string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Hugh"},
		NotBefore: testNotBefore, NotAfter: testNotAfter, EmailAddresses: []string{"hugh@example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(der)
	spki := hex.EncodeToString(cert.RawSubjectPublicKeyInfo)
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	d := hex.EncodeToString(sum[:])
	return []string{
		"3 0 0 " + h,
		"3 1 0 " + spki,
		"3 1 1 " + d,
		"2 0 1 " + strings.ToUpper(d),
		"0 1 2 " + d + d,
		hughLabel + "._smimecert.example.com. 3600 IN SMIMEA 3 0 0 " + h,
		hughLabel + "._smimecert.example.com. IN 3600 SMIMEA 3 0 0 ( " + h[:100] + "\n " + h[100:] + " ) ; cert",
		"_25._tcp.mail1.example.jp.    IN    TLSA    3 1 1 293F3944E435835EC797ACBBE52FFB1BC8E6637879FBE62D9B6195479E01F67E",
		"\tIN TLSA DANE-EE SPKI SHA2-256 " + d,
		"x. IN TYPE52 \\# 35 030101" + d,
		"3 1 1 " + d[:63],
		"4 1 1 " + d,
		"3 1 1 (" + d,
		"3 0 0 30",
		"x. IN TXT \"v=spf1\"",
	}
}

func TestFuzzSeedsNotEmpty(t *testing.T) {
	seeds := recordSeeds(t)
	ok := 0
	for _, s := range seeds {
		if _, err := ParseRecord(s); err == nil {
			ok++
		}
	}
	if len(seeds) == 0 || ok < 8 || len(addressSeeds) == 0 {
		t.Fatalf("%d record seeds, %d of them valid; %d address seeds", len(seeds), ok, len(addressSeeds))
	}
}

// FuzzParseRecord: ParseRecord never panics, and what it accepts prints
// back (RDATA, zone line, miekg/dns record) to text it reads as the same
// record.
func FuzzParseRecord(f *testing.F) {
	for _, s := range recordSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err != nil {
			if r.Data != nil {
				t.Fatalf("a record with an error: %v", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid record: %v", err)
		}
		for _, text := range []string{r.String(), r.ZoneLine("x._smimecert.example.com.", 3600, "SMIMEA"), r.ZoneLine("_25._tcp.mx.example.", 0, "TLSA")} {
			back, err := ParseRecord(text)
			if err != nil || !back.Equal(r) {
				t.Fatalf("round trip of %.80q: %v", text, err)
			}
		}
		rr, err := r.ToRR("x.example.", 60, dns.TypeSMIMEA)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := FromRR(rr); err != nil || !back.Equal(r) {
			t.Fatalf("FromRR(ToRR): %v", err)
		}
		_ = r.Matches(nil)
	})
}

var addressSeeds = []string{
	"hugh@example.com",
	"Hugh@EXAMPLE.com",
	`"hugh smith"@example.com`,
	`"a\"b"@example.com`,
	"hélène@bücher.example",
	"he\u0301le\u0300ne@bu\u0308cher.example",
	"user+tag@sub.example.org",
	"hugh@example.com.",
	"hugh@[192.0.2.1]",
	"@",
	"a@b",
	"İstanbul@example.com",
	"x@xn--bcher-kva.example",
}

// FuzzOwnerName: OwnerName never panics, and what it accepts is a valid
// DNS name made of a 56-digit hex label, _smimecert and the domain; the
// OPENPGPKEY name shares the label; and the canonical form of the
// address, and its lower-case fallback, name records too.
func FuzzOwnerName(f *testing.F) {
	for _, s := range addressSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		name, err := OwnerName(addr)
		if err != nil {
			return
		}
		if !utf8.ValidString(addr) {
			t.Fatalf("accepted invalid UTF-8")
		}
		label, rest, _ := strings.Cut(name, ".")
		if len(label) != 56 || strings.Trim(label, "0123456789abcdef") != "" || !strings.HasPrefix(rest, "_smimecert.") {
			t.Fatalf("bad name %q", name)
		}
		if _, ok := dns.IsDomainName(name); !ok || !dns.IsFqdn(name) || len(name) > 254 || strings.ToLower(name) != name {
			t.Fatalf("not a lower-case fully qualified DNS name: %q", name)
		}
		pgp, err := OpenPGPKeyName(addr)
		if err != nil {
			if len(name) < maxNameLength+1 {
				t.Fatalf("OpenPGPKeyName failed where OwnerName did not: %v", err)
			}
		} else if !strings.HasPrefix(pgp, label+"._openpgpkey.") {
			t.Fatalf("OPENPGPKEY name %q", pgp)
		}
		a, err := parseAddress(addr)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := OwnerName(a.String()); err != nil || again != name {
			t.Fatalf("the canonical form %q names %q (%v), not %q", a.String(), again, err, name)
		}
		if fb, ok := LowerCaseFallback(addr); ok {
			if _, err := OwnerName(fb); err != nil {
				t.Fatalf("fallback %q: %v", fb, err)
			}
		}
	})
}
