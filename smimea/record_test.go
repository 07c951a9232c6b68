package smimea

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestNewRecordAndMatches(t *testing.T) {
	leaf := newLeaf(t, nil, leafSpec{})
	other := newLeaf(t, nil, leafSpec{})
	spki256 := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	cert512 := sha512.Sum512(leaf.Raw)
	for _, tc := range []struct {
		selector, matching uint8
		want               []byte
	}{
		{SelectorCert, MatchingFull, leaf.Raw},
		{SelectorCert, MatchingSHA512, cert512[:]},
		{SelectorSPKI, MatchingFull, leaf.RawSubjectPublicKeyInfo},
		{SelectorSPKI, MatchingSHA256, spki256[:]},
		{SelectorCert, MatchingSHA256, nil},
		{SelectorSPKI, MatchingSHA512, nil},
	} {
		r := mustRecord(t, leaf, UsageDANEEE, tc.selector, tc.matching)
		if tc.want != nil && !bytes.Equal(r.Data, tc.want) {
			t.Errorf("3 %d %d: data %x, want %x", tc.selector, tc.matching, r.Data, tc.want)
		}
		if !r.Matches(leaf) {
			t.Errorf("3 %d %d does not match its certificate", tc.selector, tc.matching)
		}
		if r.Matches(other) || r.Matches(nil) {
			t.Errorf("3 %d %d matches another certificate", tc.selector, tc.matching)
		}
		// Round trips: presentation, zone line, miekg/dns.
		for _, text := range []string{r.String(), r.ZoneLine("x._smimecert.example.com.", 3600, "SMIMEA"), r.ZoneLine("_25._tcp.mail.example.org.", 0, "tlsa")} {
			back, err := ParseRecord(text)
			if err != nil || !back.Equal(r) {
				t.Errorf("ParseRecord(%.60q) = %v, %v", text, back, err)
			}
		}
		for _, typ := range []uint16{dns.TypeSMIMEA, dns.TypeTLSA} {
			rr, err := r.ToRR("x.example.com.", 300, typ)
			if err != nil {
				t.Fatal(err)
			}
			back, err := FromRR(rr)
			if err != nil || !back.Equal(r) {
				t.Errorf("FromRR(ToRR) = %v, %v", back, err)
			}
			// miekg's own zone parser reads our line, and we read its record.
			parsed, err := dns.NewRR(r.ZoneLine("x.example.com.", 300, dns.TypeToString[typ]))
			if err != nil {
				t.Fatalf("miekg cannot read our line: %v", err)
			}
			if back, err := FromRR(parsed); err != nil || !back.Equal(r) {
				t.Errorf("FromRR(miekg's parse) = %v, %v", back, err)
			}
		}
	}
	for _, p := range [][3]uint8{{4, 0, 0}, {255, 0, 0}, {3, 2, 0}, {3, 0, 3}} {
		if _, err := NewRecord(leaf, p[0], p[1], p[2]); !errors.Is(err, ErrMalformedRecord) {
			t.Errorf("NewRecord %v: %v", p, err)
		}
	}
	if _, err := NewRecord(nil, 3, 0, 0); !errors.Is(err, ErrMalformedRecord) {
		t.Errorf("NewRecord without a certificate: %v", err)
	}
}

func TestParseRecordForms(t *testing.T) {
	leaf := newLeaf(t, nil, leafSpec{})
	full := mustRecord(t, leaf, UsageDANEEE, SelectorCert, MatchingFull)
	spki := mustRecord(t, leaf, UsageDANEEE, SelectorSPKI, MatchingSHA256)
	h := hex.EncodeToString(full.Data)
	H := strings.ToUpper(h)
	d := hex.EncodeToString(spki.Data)
	D := strings.ToUpper(d)
	owner := hughLabel + "._smimecert.example.com."
	for _, tc := range []struct {
		name, text string
		want       Record
	}{
		{"rdata", "3 0 0 " + h, full},
		{"rdata upper-case hex", "3 0 0 " + H, full},
		{"zone line", owner + " 3600 IN SMIMEA 3 0 0 " + h, full},
		{"class before TTL", owner + " IN 3600 SMIMEA 3 0 0 " + h, full},
		{"no TTL", owner + " IN SMIMEA 3 0 0 " + h, full},
		{"no class", owner + " 3600 SMIMEA 3 0 0 " + h, full},
		{"type only", "SMIMEA 3 0 0 " + h, full},
		{"inherited owner", "\tIN SMIMEA 3 0 0 " + h, full},
		{"lower-case type", owner + " in smimea 3 0 0 " + h, full},
		{"hex split like xxd -ps", "3 0 0 " + h[:60] + " " + h[60:120] + "\t" + h[120:], full},
		{"parentheses over lines", owner + " 3600 IN SMIMEA 3 0 0 (\n " + h[:60] + "\n " + h[60:] + " )", full},
		{"comments", "; made by hand\n" + owner + " IN SMIMEA 3 0 0 ( ; the certificate\n" + h + " ) ; end\n", full},
		{"seed 002 TLSA line", "_25._tcp.mail1.example.jp.    IN    TLSA    3 1 1 " + D, spki},
		{"TLSA with CRLF", "_25._tcp.mail.example.org. IN TLSA 3 1 1 " + d + "\r\n", spki},
		{"RFC 7218 names", "DANE-EE SPKI SHA2-256 " + d, spki},
		{"RFC 3597 generic", owner + " IN TYPE53 \\# 35 030101 " + d, spki},
		{"owner named like the type", "tlsa. 60 IN TLSA 3 1 1 " + d, spki},
		{"leading zeros", "03 001 1 " + d, spki},
	} {
		got, err := ParseRecord(tc.text)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("%s: got %.40s…, want %.40s…", tc.name, got, tc.want)
		}
	}
}

func TestParseRecordRefuses(t *testing.T) {
	leaf := newLeaf(t, nil, leafSpec{})
	h := hex.EncodeToString(leaf.Raw)
	d := hex.EncodeToString(leaf.RawSubjectPublicKeyInfo)
	sum := sha256.Sum256(leaf.Raw)
	s := hex.EncodeToString(sum[:])
	for _, tc := range []struct{ text, reason string }{
		{"", "empty"},
		{"  ; only a comment\n", "empty"},
		{"3 0 0", "expected a certificate usage"},
		{"4 0 1 " + s, "usage 4 is not defined"},
		{"255 0 1 " + s, "PrivCert"},
		{"PrivCert 0 1 " + s, "PrivCert"},
		{"256 0 1 " + s, "not a number from 0 to 255"},
		{"-1 0 1 " + s, "not a number"},
		{"3 2 1 " + s, "selector 2 is not defined"},
		{"3 255 1 " + s, "PrivSel"},
		{"3 0 3 " + s, "matching type 3 is not defined"},
		{"3 0 255 " + s, "PrivMatch"},
		{"3 0 1 " + s[:62], "32 octets, not 31"},
		{"3 0 1 " + s + "00", "32 octets, not 33"},
		{"3 0 2 " + s, "64 octets, not 32"},
		{"3 0 0 " + s, "not a DER certificate"},
		{"3 0 0 " + h + "00", "not a DER certificate"},
		{"3 1 0 " + h, "not a DER SubjectPublicKeyInfo"},
		{"3 1 0 " + d + "00", "not a DER SubjectPublicKeyInfo"},
		{"3 1 0 300d06092a864886f70d0101010500", "not a DER SubjectPublicKeyInfo"},
		{"3 0 1 " + s[:63], "odd number"},
		{"3 0 1 " + s[:62] + "zz", "not hexadecimal"},
		{"3 0 1 0x" + s, "not hexadecimal"},
		{"3 0 1 " + s + "\n3 0 1 " + s, "more than one record"},
		{"3 0 1 ( " + s, "not closed"},
		{"3 0 1 " + s + " )", "without an opening"},
		{"3 0 1 (( " + s + " ))", "nested"},
		{`x. IN TXT "3 0 1"`, "quoted string"},
		{"x. IN TXT 3 0 1 " + s, "neither an SMIMEA nor a TLSA"},
		{"x. IN OPENPGPKEY 3 0 1 " + s, "neither an SMIMEA nor a TLSA"},
		{"x. CH SMIMEA 3 0 1 " + s, "class \"CH\""},
		{"x. IN IN SMIMEA 3 0 1 " + s, "class is given twice"},
		{"x. 99999999999 SMIMEA 3 0 1 " + s, "TTL"},
		{"x. 3600 3600 SMIMEA 3 0 1 " + s, "unexpected"},
		{"x..y. SMIMEA 3 0 1 " + s, "not a domain name"},
		{"x. IN SMIMEA \\# 2 0301", "too short"},
		{"x. IN SMIMEA \\# 4 0301", "says 4 octets but 2 follow"},
		{"x. IN SMIMEA \\# x", "length"},
		{"x. IN SMIMEA \\# 3 030101", "empty"},
		{strings.Repeat("0", maxPresentation+1), "longer than any record"},
	} {
		_, err := ParseRecord(tc.text)
		var re *RecordError
		if !errors.As(err, &re) || !errors.Is(err, ErrMalformedRecord) {
			t.Errorf("ParseRecord(%.50q) = %v, want a RecordError", tc.text, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("ParseRecord(%.50q): %v, want %q in it", tc.text, err, tc.reason)
		}
	}
}

func TestFromRR(t *testing.T) {
	leaf := newLeaf(t, nil, leafSpec{})
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	// Upper-case hex, as a zone may hold it: miekg's Verify compares
	// strings and would miss it; FromRR and Matches do not.
	rr := &dns.TLSA{Hdr: dns.RR_Header{Name: "_25._tcp.mail.example.org.", Rrtype: dns.TypeTLSA, Class: dns.ClassINET},
		Usage: 3, Selector: 1, MatchingType: 1, Certificate: strings.ToUpper(hex.EncodeToString(sum[:]))}
	r, err := FromRR(rr)
	if err != nil || !r.Matches(leaf) {
		t.Errorf("FromRR = %v, %v", r, err)
	}
	for _, bad := range []dns.RR{
		nil,
		(*dns.SMIMEA)(nil),
		(*dns.TLSA)(nil),
		&dns.OPENPGPKEY{Hdr: dns.RR_Header{Rrtype: dns.TypeOPENPGPKEY}, PublicKey: "AAAA"},
		&dns.SMIMEA{Usage: 3, Selector: 0, MatchingType: 1, Certificate: "zz"},
		&dns.SMIMEA{Usage: 3, Selector: 0, MatchingType: 1, Certificate: "00"},
		&dns.SMIMEA{Usage: 7, Selector: 0, MatchingType: 1, Certificate: hex.EncodeToString(sum[:])},
	} {
		if _, err := FromRR(bad); !errors.Is(err, ErrMalformedRecord) {
			t.Errorf("FromRR(%v) = %v, want ErrMalformedRecord", bad, err)
		}
	}
	if _, err := (Record{}).ToRR("x.", 0, dns.TypeTXT); err == nil {
		t.Error("ToRR made a TXT record")
	}
}

func TestRecordCertificate(t *testing.T) {
	leaf := newLeaf(t, nil, leafSpec{})
	got, err := mustRecord(t, leaf, UsageDANEEE, SelectorCert, MatchingFull).Certificate()
	if err != nil || !got.Equal(leaf) {
		t.Fatalf("3 0 0: %v", err)
	}
	for _, p := range [][2]uint8{{0, 1}, {0, 2}, {1, 0}, {1, 1}} {
		_, err := mustRecord(t, leaf, UsageDANEEE, p[0], p[1]).Certificate()
		if !errors.Is(err, ErrNoCertificate) {
			t.Errorf("3 %d %d: %v", p[0], p[1], err)
		}
	}
	if _, err := (Record{Usage: 3, Data: []byte{0x30, 0}}).Certificate(); !errors.Is(err, ErrMalformedRecord) {
		t.Errorf("garbage: %v", err)
	}
}

func TestZoneLine(t *testing.T) {
	r := Record{Usage: 3, Selector: 1, MatchingType: 1, Data: bytes.Repeat([]byte{0xAB}, 32)}
	want := "_25._tcp.mail.example.org. IN TLSA 3 1 1 " + strings.Repeat("ab", 32)
	if got := r.ZoneLine("_25._tcp.mail.example.org.", 0, "TLSA"); got != want {
		t.Errorf("ZoneLine = %q\nwant %q", got, want)
	}
	want = "x. 3600 IN SMIMEA 3 1 1 " + strings.Repeat("ab", 32)
	if got := r.ZoneLine("x.", 3600, "smimea"); got != want {
		t.Errorf("ZoneLine = %q\nwant %q", got, want)
	}
	if UsageName(3) != "DANE-EE" || UsageName(9) != "usage 9" {
		t.Error("UsageName")
	}
}
