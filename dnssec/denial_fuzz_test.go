package dnssec

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// denialFuzzSeed is one input of FuzzDenial: a query, the signer, and the
// records both in wire format (as a response carries them) and as text.
type denialFuzzSeed struct {
	qname, zone string
	qtype       uint16
	wire        []byte
	text        string
}

// denialFuzzRecordLimit caps the records one input may carry, so that an
// input's cost stays proportional to its length.
const denialFuzzRecordLimit = 256

// denialFuzzSeeds are real proofs from the test zones, and a few broken ones.
func denialFuzzSeeds(t testing.TB) []denialFuzzSeed {
	z := exampleTestZone(t)
	nsec := z.nsecChain()
	nsec3 := z.nsec3Chain(exampleSalt, exampleIters, false)
	optOut := z.nsec3Chain("", 0, true)
	rfc := rfc5155Zone(t).nsec3Chain("aabbccdd", 12, true)
	return []denialFuzzSeed{
		{"nope.example.test.", exampleTest, dns.TypeA, denialPackRRs(t, nsec3.pick(t, exampleTest, "nope.example.test.", "*.example.test.")), ""},
		{"nope.example.test.", exampleTest, dns.TypeA, nil, denialRRText(nsec.pick(t, "nope.example.test.", "*.example.test."))},
		{"q.w.example.test.", exampleTest, dns.TypeA, denialPackRRs(t, nsec.pick(t, "q.w.example.test.", "*.w.example.test.")), ""},
		{"q.w.example.test.", exampleTest, dns.TypeTXT, denialPackRRs(t, nsec3), ""},
		{"e.example.test.", exampleTest, dns.TypeDS, denialPackRRs(t, optOut.pick(t, exampleTest, "e.example.test.")), ""},
		{"d.example.test.", exampleTest, dns.TypeA, nil, denialRRText(nsec.pick(t, "d.example.test."))},
		{"a.z.w.example.", "example.", dns.TypeAAAA, denialPackRRs(t, rfc), ""},
		{"a.c.x.w.example.", "example.", dns.TypeMX, nil, denialRRText(rfc)},
		{".", ".", dns.TypeDS, nil, ". 0 IN NSEC . NS SOA RRSIG NSEC DNSKEY"},
		{`a\.b.\000.example.test`, "EXAMPLE.test", dns.TypeNS, []byte{0, 0, 47, 0, 1}, "bogus line\n* 0 IN NSEC3 1 1 65535 - 00 A"},
	}
}

func denialPackRRs(t testing.TB, rrs []dns.RR) []byte {
	t.Helper()
	buf := make([]byte, 65535)
	off := 0
	for _, rr := range rrs {
		var err error
		if off, err = dns.PackRR(rr, buf, off, nil, false); err != nil {
			t.Fatalf("packing %v: %v", rr, err)
		}
	}
	return buf[:off]
}

func denialRRText(rrs []dns.RR) string {
	var b strings.Builder
	for _, rr := range rrs {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// denialFuzzRecords reads records from wire (concatenated resource records)
// and text (one record a line), up to denialFuzzRecordLimit.
func denialFuzzRecords(wire []byte, text string) []dns.RR {
	var rrs []dns.RR
	for off := 0; off < len(wire) && len(rrs) < denialFuzzRecordLimit; {
		rr, next, err := dns.UnpackRR(wire, off)
		if err != nil || next <= off {
			break
		}
		rrs = append(rrs, rr)
		off = next
	}
	for _, line := range strings.Split(text, "\n") {
		if len(rrs) >= denialFuzzRecordLimit {
			break
		}
		if strings.HasPrefix(strings.TrimSpace(line), "$") {
			continue // no $INCLUDE or $GENERATE in a record line
		}
		if rr, err := dns.NewRR(line); err == nil && rr != nil {
			rrs = append(rrs, rr)
		}
	}
	return rrs
}

func FuzzDenial(f *testing.F) {
	for _, s := range denialFuzzSeeds(f) {
		f.Add(s.qname, s.zone, s.qtype, s.wire, s.text)
	}
	f.Fuzz(func(t *testing.T, qname, zone string, qtype uint16, wire []byte, text string) {
		rrs := denialFuzzRecords(wire, text)
		lim := DenialLimits{MaxNSEC3Hashes: 8}
		ce := qname
		if off, end := dns.NextLabel(qname, 0); !end {
			ce = qname[off:]
		}
		check := func(what string, p DenialProof, mayDelegate bool) {
			t.Helper()
			if p.Status < Indeterminate || p.Status > Bogus {
				t.Fatalf("%s: status %d", what, p.Status)
			}
			if p.Reason == "" {
				t.Fatalf("%s: %v without a reason", what, p.Status)
			}
			if p.NSEC3Hashes < 0 || p.NSEC3Hashes > lim.MaxNSEC3Hashes {
				t.Fatalf("%s: %d hashes, budget %d", what, p.NSEC3Hashes, lim.MaxNSEC3Hashes)
			}
			if p.Delegation && !mayDelegate {
				t.Fatalf("%s: Delegation set", what)
			}
			if p.Status == Indeterminate && p.NSEC3Hashes != lim.MaxNSEC3Hashes {
				t.Fatalf("%s: indeterminate with budget left: %s", what, p.Reason)
			}
		}
		check("ProveNXDomain", ProveNXDomain(qname, zone, rrs, lim), false)
		check("ProveNoData", ProveNoData(qname, qtype, zone, rrs, lim), false)
		check("ProveWildcardAnswer", ProveWildcardAnswer(qname, ce, zone, rrs, lim), false)
		check("ProveNoDS", ProveNoDS(qname, zone, rrs, lim), true)
	})
}

func TestFuzzDenialSeeds(t *testing.T) {
	seeds := denialFuzzSeeds(t)
	if len(seeds) == 0 {
		t.Fatal("FuzzDenial has no seeds")
	}
	// The seeds carry real proofs through the wire and text formats: the
	// records read back must prove what the originals proved.
	for i, want := range []Status{Secure, Secure} {
		s := seeds[i]
		rrs := denialFuzzRecords(s.wire, s.text)
		if len(rrs) == 0 {
			t.Fatalf("seed %d: no records read back", i)
		}
		if p := ProveNXDomain(s.qname, s.zone, rrs, DenialLimits{}); p.Status != want {
			t.Errorf("seed %d: %v, want %v: %s", i, p.Status, want, p.Reason)
		}
	}
	if p := ProveNoDS("e.example.test.", exampleTest, denialFuzzRecords(seeds[4].wire, ""), DenialLimits{}); p.Status != Insecure || !p.Delegation {
		t.Errorf("opt-out seed: %v (delegation %v): %s", p.Status, p.Delegation, p.Reason)
	}
}
