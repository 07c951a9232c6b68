package testkit

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Names of the sample records every hierarchy has.
const (
	// SampleSMIMEA is the SMIMEA owner name of hugh@sub.example.test
	// (RFC 8162: the first 28 octets of SHA-256("hugh"), in hex), three
	// zones below the root: "test.", "example.test.", "sub.example.test.".
	SampleSMIMEA = "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.sub.example.test."
	// SampleOPENPGPKEY is the OPENPGPKEY owner name of hugh@example.test
	// (RFC 7929: SHA-256 of the local part, 28 octets).
	SampleOPENPGPKEY = "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.test."
)

// Variant is one query against the hierarchy and the verdict a validator
// that follows SECURITY.md must reach: a case for the tests and for the
// comparison with Unbound.
type Variant struct {
	Name  string // short identifier, e.g. "expired"
	QName string
	QType uint16
	// Want is "secure", "insecure", "bogus", or "error" when no verdict
	// is reached (a CNAME loop or an overlong chain: Unbound answers
	// SERVFAIL even with CD set).
	Want string
	// Rcode is the expected RCODE of a secure or insecure answer, and
	// NoData marks a NOERROR answer without records.
	Rcode  int
	NoData bool
	Item   string // the SECURITY.md item(s), e.g. "S41"
	About  string
}

// Variants returns the cases the hierarchy was built for, in a stable
// order; without variant zones (Options.NoVariants) only those on the
// base zones.
func (h *Hierarchy) Variants() []Variant {
	return append([]Variant(nil), h.variants...)
}

func (h *Hierarchy) variant(v Variant) { h.variants = append(h.variants, v) }

func (h *Hierarchy) buildBase() error {
	for _, z := range []struct {
		name string
		cfg  ZoneConfig
	}{
		{".", ZoneConfig{SplitKeys: true}},
		{"test.", ZoneConfig{SplitKeys: true}},
		{"example.test.", ZoneConfig{SplitKeys: true, NSEC3: true}},
		{"sub.example.test.", ZoneConfig{SplitKeys: true}},
	} {
		if _, err := h.AddZone(z.name, &z.cfg); err != nil {
			return err
		}
	}
	big := strings.Builder{}
	big.WriteString("big.example.test. TXT")
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&big, " \"%02d %s\"", i, strings.Repeat("x", 180))
	}
	err := h.AddText(`
www.example.test.                A      192.0.2.10
www.example.test.                AAAA   2001:db8::10
example.test.                    MX     10 mail.example.test.
mail.example.test.               A      192.0.2.25
example.test.                    TXT    "v=spf1 mx -all"
_dmarc.example.test.             TXT    "v=DMARC1; p=reject"
alias.example.test.              CNAME  www.sub.example.test.
` + SampleOPENPGPKEY + ` OPENPGPKEY mDMEZXN0a2l0ZGVtbw==
c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.test. SMIMEA 3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6
` + big.String() + `
www.sub.example.test.            A      192.0.2.20
` + SampleSMIMEA + ` SMIMEA 3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6
`)
	if err != nil {
		return err
	}
	h.variant(Variant{Name: "secure", QName: "www.example.test.", QType: dns.TypeA, Want: "secure", Item: "S40", About: "A record, NSEC3 zone two below the root"})
	h.variant(Variant{Name: "secure-smimea-3-zones", QName: SampleSMIMEA, QType: dns.TypeSMIMEA, Want: "secure", Item: "S40", About: "SMIMEA three zones below the anchor"})
	h.variant(Variant{Name: "secure-openpgpkey", QName: SampleOPENPGPKEY, QType: dns.TypeOPENPGPKEY, Want: "secure", Item: "S40", About: "OPENPGPKEY under _openpgpkey (not a zone)"})
	h.variant(Variant{Name: "secure-cname", QName: "alias.example.test.", QType: dns.TypeA, Want: "secure", Item: "S47", About: "CNAME into a child zone"})
	h.variant(Variant{Name: "secure-tcp", QName: "big.example.test.", QType: dns.TypeTXT, Want: "secure", Item: "S40", About: "answer too large for UDP: TC, then TCP"})
	h.variant(Variant{Name: "nxdomain-nsec3", QName: "nope.example.test.", QType: dns.TypeA, Want: "secure", Rcode: dns.RcodeNameError, Item: "S46", About: "NXDOMAIN proven by NSEC3"})
	h.variant(Variant{Name: "nodata-nsec3", QName: "www.example.test.", QType: dns.TypeMX, Want: "secure", NoData: true, Item: "S46", About: "NODATA proven by NSEC3"})
	h.variant(Variant{Name: "nodata-ent-nsec3", QName: "_smimecert.example.test.", QType: dns.TypeSMIMEA, Want: "secure", NoData: true, Item: "S46", About: "empty non-terminal, NSEC3"})
	h.variant(Variant{Name: "nxdomain-nsec", QName: "nope.sub.example.test.", QType: dns.TypeA, Want: "secure", Rcode: dns.RcodeNameError, Item: "S46", About: "NXDOMAIN proven by NSEC"})
	h.variant(Variant{Name: "nodata-nsec", QName: "www.sub.example.test.", QType: dns.TypeTXT, Want: "secure", NoData: true, Item: "S46", About: "NODATA proven by NSEC"})
	h.variant(Variant{Name: "nodata-ent-nsec", QName: "_smimecert.sub.example.test.", QType: dns.TypeSMIMEA, Want: "secure", NoData: true, Item: "S46", About: "empty non-terminal, NSEC"})
	h.variant(Variant{Name: "nxdomain-tld", QName: "nope.test.", QType: dns.TypeA, Want: "secure", Rcode: dns.RcodeNameError, Item: "S46", About: "NXDOMAIN in the TLD, NSEC"})
	return nil
}

func (h *Hierarchy) buildVariants() error {
	day := 24 * time.Hour
	type zone struct {
		name string
		cfg  ZoneConfig
		text string
	}
	www := func(zone string) string { return "www." + zone + " A 192.0.2.1\n" }
	zones := []zone{
		{"rsasha256.test.", ZoneConfig{Algorithm: dns.RSASHA256}, ""},
		{"rsasha512.test.", ZoneConfig{Algorithm: dns.RSASHA512, NSEC3: true}, ""},
		{"ecdsap384.test.", ZoneConfig{Algorithm: dns.ECDSAP384SHA384, dsMode: dsSHA384}, ""},
		{"ed25519.test.", ZoneConfig{Algorithm: dns.ED25519, NSEC3: true}, ""},
		{"nsec3.test.", ZoneConfig{NSEC3: true, NSEC3Iterations: 5, NSEC3Salt: "aabbccdd"}, "*.wild.nsec3.test. TXT \"wildcard\"\n"},
		{"unsigned.nsec3.test.", ZoneConfig{Unsigned: true}, ""},
		{"expired.test.", ZoneConfig{dataWindow: [2]time.Duration{-30 * day, -2 * day}}, ""},
		{"notyet.test.", ZoneConfig{dataWindow: [2]time.Duration{2 * day, 30 * day}}, ""},
		{"badexample.test.", ZoneConfig{signer: "example.test."}, ""},
		{"dsmismatch.test.", ZoneConfig{dsMode: dsWrongKey}, ""},
		{"nozonebit.test.", ZoneConfig{kskFlags: dns.SEP}, ""},
		{"downgrade.test.", ZoneConfig{dsMode: dsDowngrade}, ""},
		{"unsupported.test.", ZoneConfig{Algorithm: dns.PRIVATEDNS}, ""},
		{"stripped.test.", ZoneConfig{stripRRSIGs: true}, ""},
		{"nsecmissing.test.", ZoneConfig{omitDenial: true}, "*.wild.nsecmissing.test. TXT \"wildcard\"\n"},
		{"unsigned.test.", ZoneConfig{Unsigned: true}, ""},
		{"badnods.test.", ZoneConfig{Unsigned: true, corruptNoDS: true}, ""},
		{"optout.test.", ZoneConfig{NSEC3: true, OptOut: true}, ""},
		{"child.optout.test.", ZoneConfig{Unsigned: true}, ""},
		{"iter500.test.", ZoneConfig{NSEC3: true, NSEC3Iterations: 500}, ""},
		{"wildcard.test.", ZoneConfig{}, "*.wildcard.test. TXT \"wildcard\"\n"},
		{"keytrap.test.", ZoneConfig{SplitKeys: true, keyTrap: 24}, ""},
		{"cname.test.", ZoneConfig{}, "loop1.cname.test. CNAME loop2.cname.test.\nloop2.cname.test. CNAME loop1.cname.test.\n"},
		{"alt.cname.test.", ZoneConfig{}, ""},
	}
	for _, z := range zones {
		if _, err := h.AddZone(z.name, &z.cfg); err != nil {
			return err
		}
		if err := h.AddText(www(z.name) + z.text); err != nil {
			return err
		}
	}
	// A chain of 12 CNAMEs alternating between two zones, so that an
	// authoritative server gives one link per answer (and Unbound must
	// restart for each).
	const links = 12
	var chain strings.Builder
	for i := 0; i < links; i++ {
		fmt.Fprintf(&chain, "%s CNAME %s\n", chainName(i), chainName(i+1))
	}
	fmt.Fprintf(&chain, "%s A 192.0.2.99\n", chainName(links))
	if err := h.AddText(chain.String()); err != nil {
		return err
	}

	v := func(name, qname string, qtype uint16, want, item, about string) {
		h.variant(Variant{Name: name, QName: qname, QType: qtype, Want: want, Item: item, About: about})
	}
	v("alg8-rsasha256", "www.rsasha256.test.", dns.TypeA, "secure", "S44", "RSASHA256, one CSK")
	v("alg10-rsasha512", "www.rsasha512.test.", dns.TypeA, "secure", "S44", "RSASHA512, NSEC3")
	v("alg14-ecdsap384", "www.ecdsap384.test.", dns.TypeA, "secure", "S44", "ECDSAP384SHA384, SHA-384 DS")
	v("alg15-ed25519", "www.ed25519.test.", dns.TypeA, "secure", "S44", "ED25519, NSEC3")
	v("nsec3-salted", "www.nsec3.test.", dns.TypeA, "secure", "S46", "NSEC3 with salt and 5 iterations")
	h.variant(Variant{Name: "nsec3-salted-nxdomain", QName: "nope.nsec3.test.", QType: dns.TypeA, Want: "secure", Rcode: dns.RcodeNameError, Item: "S46", About: "NXDOMAIN, salted NSEC3"})
	v("nsec3-wildcard", "anything.wild.nsec3.test.", dns.TypeTXT, "secure", "S46", "wildcard expansion, NSEC3 next-closer proof")
	v("nsec3-insecure-delegation", "www.unsigned.nsec3.test.", dns.TypeA, "insecure", "S47", "unsigned child, no-DS proven by NSEC3")
	v("expired", "www.expired.test.", dns.TypeA, "bogus", "S41", "RRSIG expired two days ago")
	v("not-yet-valid", "www.notyet.test.", dns.TypeA, "bogus", "S41", "RRSIG inception in two days")
	v("sibling-signer", "www.badexample.test.", dns.TypeA, "bogus", "S42", "signed by example.test. (a string suffix of the owner)")
	v("ds-matches-no-key", "www.dsmismatch.test.", dns.TypeA, "bogus", "S43", "the DS is of another key")
	v("dnskey-no-zone-bit", "www.nozonebit.test.", dns.TypeA, "bogus", "S43", "the DS matches a DNSKEY with flags 1")
	v("ds-downgrade", "www.downgrade.test.", dns.TypeA, "bogus", "S44", "SHA-1 DS matches, SHA-256 DS does not")
	v("unsupported-algorithm", "www.unsupported.test.", dns.TypeA, "insecure", "S44", "DS and DNSKEY of algorithm 253 only")
	v("stripped-rrsig", "www.stripped.test.", dns.TypeA, "bogus", "S45", "answer without its RRSIG")
	h.variant(Variant{Name: "nsec-missing", QName: "nope.nsecmissing.test.", QType: dns.TypeA, Want: "bogus", Rcode: dns.RcodeNameError, Item: "S46", About: "NXDOMAIN without NSEC"})
	v("wildcard-proof-missing", "anything.wild.nsecmissing.test.", dns.TypeTXT, "bogus", "S46", "wildcard expansion without NSEC")
	v("nsec3-opt-out", "www.child.optout.test.", dns.TypeA, "insecure", "S46", "unsigned delegation in an NSEC3 opt-out span")
	v("nsec3-opt-out-signed", "www.optout.test.", dns.TypeA, "secure", "S46", "signed data in an opt-out zone")
	h.variant(Variant{Name: "nsec3-500-iterations", QName: "nope.iter500.test.", QType: dns.TypeA, Want: "insecure", Rcode: dns.RcodeNameError, Item: "S46", About: "NSEC3 with 500 iterations (RFC 9276)"})
	v("nsec3-500-iterations-positive", "www.iter500.test.", dns.TypeA, "secure", "S46", "positive answer in that zone")
	v("insecure-delegation", "www.unsigned.test.", dns.TypeA, "insecure", "S47", "unsigned child, no-DS proven by NSEC")
	h.variant(Variant{Name: "insecure-delegation-nxdomain", QName: "nope.unsigned.test.", QType: dns.TypeA, Want: "insecure", Rcode: dns.RcodeNameError, Item: "S47", About: "NXDOMAIN in the unsigned child"})
	v("bad-nods-signature", "www.badnods.test.", dns.TypeA, "bogus", "S47", "the no-DS NSEC has a broken RRSIG")
	v("cname-loop", "loop1.cname.test.", dns.TypeA, "error", "S47", "loop1 -> loop2 -> loop1")
	v("cname-long", chainName(0), dns.TypeA, "error", "S47", fmt.Sprintf("%d CNAMEs", links))
	v("wildcard", "anything.wildcard.test.", dns.TypeTXT, "secure", "S46", "wildcard expansion, NSEC")
	h.variant(Variant{Name: "wildcard-nodata", QName: "anything.wildcard.test.", QType: dns.TypeMX, Want: "secure", NoData: true, Item: "S46", About: "wildcard NODATA, NSEC"})
	v("keytrap", "www.keytrap.test.", dns.TypeA, "bogus", "S48", "24 DNSKEYs share the ZSK's tag, 24 bogus RRSIGs per RRset")
	return nil
}

// chainName is the i-th name of the long CNAME chain: even links in
// cname.test., odd ones in its child alt.cname.test.
func chainName(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("c%d.cname.test.", i)
	}
	return fmt.Sprintf("c%d.alt.cname.test.", i)
}
