package dnssec

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The chains in these tests are built from a zone description, the way a
// signer builds them: NSEC chains in canonical order, NSEC3 chains hashed
// with miekg's dns.HashName (an implementation independent of ours),
// sorted, with empty non-terminals, delegations, glue and opt-out handled
// as RFC 4034 §4.1 and RFC 5155 §7.1 say. A "server" then picks the
// records a response would carry for the names it has to prove, so each
// case is a real response, not hand-typed hashes.

// denialZone describes a zone: each owner name and its RR types.
type denialZone struct {
	apex  string
	types map[string][]uint16 // absolute, lower-case owner → types
}

// newDenialZone reads lines "owner TYPE TYPE…", owner relative to apex
// ("@" is the apex itself).
func newDenialZone(t testing.TB, apex string, lines ...string) *denialZone {
	t.Helper()
	z := &denialZone{apex: dns.CanonicalName(apex), types: map[string][]uint16{}}
	for _, line := range lines {
		f := strings.Fields(line)
		owner := z.apex
		if f[0] != "@" {
			owner = dns.CanonicalName(f[0] + "." + z.apex)
		}
		if _, ok := z.types[owner]; !ok {
			z.types[owner] = nil
		}
		for _, s := range f[1:] {
			typ, ok := dns.StringToType[s]
			if !ok {
				t.Fatalf("zone description: unknown type %q", s)
			}
			z.types[owner] = append(z.types[owner], typ)
		}
	}
	return z
}

// exampleTestZone is the zone most S46 cases use.
//
//	example.test.          SOA NS DNSKEY MX
//	a                      A
//	alias                  CNAME
//	b.c                    A          (c is an empty non-terminal)
//	d                      NS DS      (signed delegation; ns.d is glue)
//	e                      NS         (unsigned delegation; ns.e is glue)
//	mail                   A AAAA
//	*.w                    TXT        (w is an empty non-terminal)
//	x.w                    A
//	z                      A          (last in canonical order)
//
// Its NSEC chain, in canonical order: example.test → a → alias → b.c → d →
// e → mail → *.w → x.w → z → (back to) example.test.
func exampleTestZone(t testing.TB) *denialZone {
	return newDenialZone(t, "example.test.",
		"@ SOA NS DNSKEY MX",
		"a A",
		"alias CNAME",
		"b.c A",
		"d NS DS",
		"ns.d A",
		"e NS",
		"ns.e A",
		"mail A AAAA",
		"*.w TXT",
		"x.w A",
		"z A",
	)
}

func denialTestParent(n string) string {
	i := strings.IndexByte(n, '.')
	if i < 0 || i == len(n)-1 {
		return "."
	}
	return n[i+1:]
}

func (z *denialZone) has(n string, t uint16) bool {
	return slices.Contains(z.types[n], t)
}

func (z *denialZone) isCut(n string) bool {
	return n != z.apex && z.has(n, dns.TypeNS)
}

// occluded reports whether n lies below a zone cut (glue).
func (z *denialZone) occluded(n string) bool {
	for p := denialTestParent(n); p != z.apex && dns.IsSubDomain(z.apex, p); p = denialTestParent(p) {
		if z.isCut(p) {
			return true
		}
	}
	return false
}

// denialTestCompare orders plain names (no escapes) canonically, written
// independently of proofName.compare: reversed lower-case labels compared
// as byte strings.
func denialTestCompare(a, b string) int {
	la := dns.SplitDomainName(strings.ToLower(a))
	lb := dns.SplitDomainName(strings.ToLower(b))
	slices.Reverse(la)
	slices.Reverse(lb)
	return slices.Compare(la, lb)
}

func sortedTypes(types []uint16, extra ...uint16) []uint16 {
	out := slices.Concat(types, extra)
	slices.Sort(out)
	return slices.Compact(out)
}

// nsecChain is the zone's NSEC chain (RFC 4034 §4.1): every authoritative
// name and delegation point, glue excluded, the last pointing to the apex.
func (z *denialZone) nsecChain() denialChain {
	var names []string
	for n := range z.types {
		if !z.occluded(n) {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, denialTestCompare)
	var chain denialChain
	for i, n := range names {
		chain = append(chain, &dns.NSEC{
			Hdr:        dns.RR_Header{Name: n, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 3600},
			NextDomain: names[(i+1)%len(names)],
			TypeBitMap: sortedTypes(z.types[n], dns.TypeNSEC, dns.TypeRRSIG),
		})
	}
	return chain
}

// nsec3Chain is the zone's NSEC3 chain (RFC 5155 §7.1): authoritative names,
// delegation points and empty non-terminals, hashed with miekg's HashName.
// With optOut, unsigned delegations (and empty non-terminals that exist only
// because of them) get no record, and every record has the opt-out flag.
func (z *denialZone) nsec3Chain(salt string, iterations uint16, optOut bool) denialChain {
	base := map[string]bool{}
	for n := range z.types {
		if z.occluded(n) || (optOut && z.isCut(n) && !z.has(n, dns.TypeDS)) {
			continue
		}
		base[n] = true
	}
	all := map[string]bool{}
	for n := range base {
		all[n] = true
		for p := denialTestParent(n); p != z.apex && dns.IsSubDomain(z.apex, p); p = denialTestParent(p) {
			all[p] = true // an empty non-terminal, unless it owns records too
		}
	}
	type hashed struct {
		hash  string
		types []uint16
	}
	var hs []hashed
	for n := range all {
		var types []uint16
		if base[n] {
			types = z.types[n]
			if !(z.isCut(n) && !z.has(n, dns.TypeDS)) {
				types = sortedTypes(types, dns.TypeRRSIG)
			}
			if n == z.apex {
				types = sortedTypes(types, dns.TypeNSEC3PARAM)
			}
		}
		hs = append(hs, hashed{dns.HashName(n, dns.SHA1, iterations, salt), types})
	}
	slices.SortFunc(hs, func(a, b hashed) int { return strings.Compare(a.hash, b.hash) })
	var flags uint8
	if optOut {
		flags = 1
	}
	var chain denialChain
	for i, h := range hs {
		chain = append(chain, &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: strings.ToLower(h.hash) + "." + z.apex, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: 3600},
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: iterations,
			SaltLength: uint8(len(salt) / 2),
			Salt:       salt,
			HashLength: 20,
			NextDomain: hs[(i+1)%len(hs)].hash,
			TypeBitMap: sortedTypes(h.types),
		})
	}
	return chain
}

// denialChain is a zone's NSEC or NSEC3 chain.
type denialChain []dns.RR

// pick returns the records a server puts in a response to prove something
// about names: for each, the record matching it or covering it.
func (c denialChain) pick(t testing.TB, names ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, name := range names {
		found := false
		for _, rr := range c {
			if c.matchesOrCovers(rr, name) {
				found = true
				if !slices.Contains(out, rr) {
					out = append(out, rr)
				}
				break
			}
		}
		if !found {
			t.Fatalf("test chain has no record matching or covering %s", name)
		}
	}
	return out
}

func (c denialChain) matchesOrCovers(rr dns.RR, name string) bool {
	var owner, next, target string
	var cmp func(a, b string) int
	switch r := rr.(type) {
	case *dns.NSEC:
		owner, next, target, cmp = r.Hdr.Name, r.NextDomain, name, denialTestCompare
	case *dns.NSEC3:
		owner = strings.ToUpper(strings.SplitN(r.Hdr.Name, ".", 2)[0])
		next, target, cmp = r.NextDomain, dns.HashName(name, r.Hash, r.Iterations, r.Salt), strings.Compare
	default:
		return false
	}
	if cmp(owner, target) == 0 {
		return true
	}
	if cmp(owner, next) < 0 {
		return cmp(owner, target) < 0 && cmp(target, next) < 0
	}
	return cmp(owner, target) < 0 || cmp(target, next) < 0
}

type denialCase struct {
	name       string
	prove      func() DenialProof
	want       Status
	delegation bool
}

func runDenialCases(t *testing.T, cases []denialCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.prove()
			if p.Status != tc.want || p.Delegation != tc.delegation {
				t.Fatalf("got %v (delegation %v): %s\nwant %v (delegation %v)", p.Status, p.Delegation, p.Reason, tc.want, tc.delegation)
			}
			if p.Reason == "" {
				t.Fatal("verdict without a reason")
			}
			t.Logf("%v: %s", p.Status, p.Reason)
		})
	}
}

const exampleTest = "example.test."

func TestS46_NSECNXDomain(t *testing.T) {
	chain := exampleTestZone(t).nsecChain()
	nx := func(q string, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveNXDomain(q, exampleTest, rrs, DenialLimits{}) }
	}
	runDenialCases(t, []denialCase{
		{"covered, no wildcard at the apex", nx("nope.example.test.", chain.pick(t, "nope.example.test.", "*.example.test.")), Secure, false},
		{"names compare case-insensitively", nx("NoPe.Example.TEST", chain.pick(t, "nope.example.test.", "*.example.test.")), Secure, false},
		{"wrap-around: after the last name", nx("zz.example.test.", chain.pick(t, "zz.example.test.", "*.example.test.")), Secure, false},
		{"wrap-around: below the last name", nx("y.z.example.test.", chain.pick(t, "y.z.example.test.")), Secure, false},
		{"whole chain as the authority section", nx("nope.example.test.", chain), Secure, false},
		{"wildcard exists at the closest encloser", nx("q.w.example.test.", chain.pick(t, "q.w.example.test.", "*.w.example.test.")), Bogus, false},
		{"wildcard denial missing", nx("nope.example.test.", chain.pick(t, "nope.example.test.")), Bogus, false},
		{"qname denial missing", nx("nope.example.test.", chain.pick(t, "*.example.test.")), Bogus, false},
		{"the name exists", nx("mail.example.test.", chain.pick(t, "mail.example.test.", "*.example.test.")), Bogus, false},
		{"an empty non-terminal exists", nx("c.example.test.", chain.pick(t, "c.example.test.", "*.example.test.")), Bogus, false},
		{"the zone apex exists", nx("example.test.", chain), Bogus, false},
		{"below a delegation: the parent-side NSEC cannot deny it", nx("www.d.example.test.", chain.pick(t, "www.d.example.test.", "*.d.example.test.")), Bogus, false},
		{"below an unsigned delegation", nx("www.e.example.test.", chain.pick(t, "www.e.example.test.", "*.e.example.test.")), Bogus, false},
		{"no records at all", nx("nope.example.test.", nil), Bogus, false},
	})
}

func TestS46_NSECWildcardEmptyNonTerminal(t *testing.T) {
	// *.w is an empty non-terminal here (only x.*.w owns records): it
	// exists, so q.w is answered from it (RFC 4592 §2.2.2).
	z := newDenialZone(t, exampleTest, "@ SOA NS", "x.*.w A", "z A")
	chain := z.nsecChain()
	rrs := chain.pick(t, "q.w.example.test.", "*.w.example.test.")
	if p := ProveNXDomain("q.w.example.test.", exampleTest, rrs, DenialLimits{}); p.Status != Bogus {
		t.Errorf("NXDOMAIN under an empty non-terminal wildcard: got %v: %s", p.Status, p.Reason)
	}
	if p := ProveNoData("q.w.example.test.", dns.TypeA, exampleTest, rrs, DenialLimits{}); p.Status != Secure {
		t.Errorf("NODATA from an empty non-terminal wildcard: got %v: %s", p.Status, p.Reason)
	}
}

func TestS46_NSECNoData(t *testing.T) {
	chain := exampleTestZone(t).nsecChain()
	nodata := func(q string, qtype uint16, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveNoData(q, qtype, exampleTest, rrs, DenialLimits{}) }
	}
	runDenialCases(t, []denialCase{
		{"type absent", nodata("a.example.test.", dns.TypeMX, chain.pick(t, "a.example.test.")), Secure, false},
		{"type absent at the apex", nodata(exampleTest, dns.TypeTXT, chain.pick(t, exampleTest)), Secure, false},
		{"type present", nodata("a.example.test.", dns.TypeA, chain.pick(t, "a.example.test.")), Bogus, false},
		{"CNAME bit set", nodata("alias.example.test.", dns.TypeA, chain.pick(t, "alias.example.test.")), Bogus, false},
		{"empty non-terminal", nodata("c.example.test.", dns.TypeA, chain.pick(t, "c.example.test.")), Secure, false},
		{"empty non-terminal above a wildcard", nodata("w.example.test.", dns.TypeA, chain.pick(t, "w.example.test.")), Secure, false},
		{"wildcard NODATA", nodata("q.w.example.test.", dns.TypeA, chain.pick(t, "q.w.example.test.", "*.w.example.test.")), Secure, false},
		{"wildcard NODATA, but the wildcard has the type", nodata("q.w.example.test.", dns.TypeTXT, chain.pick(t, "q.w.example.test.", "*.w.example.test.")), Bogus, false},
		{"wildcard NODATA, qname covered by another record", nodata("zz.w.example.test.", dns.TypeA, chain.pick(t, "zz.w.example.test.", "*.w.example.test.")), Secure, false},
		{"wildcard NODATA without the wildcard's record", nodata("zz.w.example.test.", dns.TypeA, chain.pick(t, "zz.w.example.test.")), Bogus, false},
		{"nonexistent name, no wildcard: NXDOMAIN is not NODATA", nodata("nope.example.test.", dns.TypeA, chain.pick(t, "nope.example.test.", "*.example.test.")), Bogus, false},
		{"parent-side NSEC denies A at a signed child apex", nodata("d.example.test.", dns.TypeA, chain.pick(t, "d.example.test.")), Bogus, false},
		{"parent-side NSEC denies A at an unsigned child apex", nodata("e.example.test.", dns.TypeA, chain.pick(t, "e.example.test.")), Bogus, false},
		{"parent-side NSEC denies DS", nodata("e.example.test.", dns.TypeDS, chain.pick(t, "e.example.test.")), Secure, false},
		{"a DS denial from the zone itself", nodata(exampleTest, dns.TypeDS, chain.pick(t, exampleTest)), Bogus, false},
	})
}

func TestS46_NSECWildcardAnswer(t *testing.T) {
	chain := exampleTestZone(t).nsecChain()
	wild := func(q, ce string, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveWildcardAnswer(q, ce, exampleTest, rrs, DenialLimits{}) }
	}
	runDenialCases(t, []denialCase{
		{"qname covered, closest encloser right", wild("q.w.example.test.", "w.example.test.", chain.pick(t, "q.w.example.test.")), Secure, false},
		{"deeper qname", wild("p.q.w.example.test.", "w.example.test.", chain.pick(t, "p.q.w.example.test.")), Secure, false},
		{"the wildcard name itself is no expansion", wild("*.w.example.test.", "w.example.test.", nil), Secure, false},
		{"qname exists", wild("x.w.example.test.", "w.example.test.", chain.pick(t, "x.w.example.test.")), Bogus, false},
		{"a closer encloser exists: the wrong wildcard answered", wild("a.x.w.example.test.", "w.example.test.", chain.pick(t, "a.x.w.example.test.")), Bogus, false},
		{"claimed closest encloser too short", wild("q.w.example.test.", exampleTest, chain.pick(t, "q.w.example.test.")), Bogus, false},
		{"no denial of qname", wild("q.w.example.test.", "w.example.test.", chain.pick(t, "a.example.test.")), Bogus, false},
		{"closest encloser outside the zone", wild("q.w.example.test.", "test.", chain), Bogus, false},
		{"qname not below the closest encloser", wild("q.w.example.test.", "z.example.test.", chain), Bogus, false},
	})
}

func TestS46_NSECNoDS(t *testing.T) {
	z := exampleTestZone(t)
	chain := z.nsecChain()
	child := newDenialZone(t, "e.example.test.", "@ SOA NS DNSKEY", "www A").nsecChain()
	nods := func(c, zone string, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveNoDS(c, zone, rrs, DenialLimits{}) }
	}
	runDenialCases(t, []denialCase{
		{"unsigned delegation", nods("e.example.test.", exampleTest, chain.pick(t, "e.example.test.")), Secure, true},
		{"no delegation here", nods("a.example.test.", exampleTest, chain.pick(t, "a.example.test.")), Secure, false},
		{"empty non-terminal", nods("c.example.test.", exampleTest, chain.pick(t, "c.example.test.")), Secure, false},
		{"nonexistent name under a wildcard", nods("q.w.example.test.", exampleTest, chain.pick(t, "q.w.example.test.", "*.w.example.test.")), Secure, false},
		{"DS bit set", nods("d.example.test.", exampleTest, chain.pick(t, "d.example.test.")), Bogus, false},
		{"CNAME bit set", nods("alias.example.test.", exampleTest, chain.pick(t, "alias.example.test.")), Bogus, false},
		{"child's apex NSEC (SOA bit) instead of the parent's", nods("e.example.test.", exampleTest, child.pick(t, "e.example.test.")), Bogus, false},
		{"signed by the child itself", nods("e.example.test.", "e.example.test.", child.pick(t, "e.example.test.")), Bogus, false},
		{"nonexistent child: that is NXDOMAIN", nods("nope.example.test.", exampleTest, chain.pick(t, "nope.example.test.", "*.example.test.")), Bogus, false},
		{"no proof", nods("e.example.test.", exampleTest, chain.pick(t, "a.example.test.")), Bogus, false},
	})
}

func TestS46_NSECOutsideZoneIgnored(t *testing.T) {
	other := newDenialZone(t, "other.test.", "@ SOA NS", "a A").nsecChain()
	chain := exampleTestZone(t).nsecChain()
	rrs := chain.pick(t, "nope.example.test.", "*.example.test.")

	// Records of another zone cover nothing here.
	if p := ProveNXDomain("nope.example.test.", exampleTest, other, DenialLimits{}); p.Status != Bogus {
		t.Errorf("another zone's NSEC chain: got %v: %s", p.Status, p.Reason)
	}
	// An in-zone owner whose next name leaves the zone proves nothing.
	leak := &dns.NSEC{
		Hdr:        dns.RR_Header{Name: "mail.example.test.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET},
		NextDomain: "zzz.other.test.",
		TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC},
	}
	if p := ProveNXDomain("nope.example.test.", exampleTest, []dns.RR{leak, rrs[1]}, DenialLimits{}); p.Status != Bogus {
		t.Errorf("NSEC whose next name is outside the zone: got %v: %s", p.Status, p.Reason)
	}
	// A backward link that is not to the apex is malformed.
	back := &dns.NSEC{
		Hdr:        dns.RR_Header{Name: "zz.example.test.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET},
		NextDomain: "a.example.test.",
		TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC},
	}
	if p := ProveNXDomain("zzz.example.test.", exampleTest, []dns.RR{back, rrs[1]}, DenialLimits{}); p.Status != Bogus {
		t.Errorf("NSEC pointing backwards, not to the apex: got %v: %s", p.Status, p.Reason)
	}
	// The parent zone's delegation NSEC, presented as the signer's proof
	// for a name below the cut, is cut off (RFC 6840 §4.1).
	parent := newDenialZone(t, "test.", "@ SOA NS", "example NS DS", "zzz A").nsecChain()
	if p := ProveNXDomain("nope.example.test.", "test.", parent, DenialLimits{}); p.Status != Bogus {
		t.Errorf("parent-side delegation NSEC used below the cut: got %v: %s", p.Status, p.Reason)
	}
	// Other record types are ignored, the rest of the proof still works.
	mixed := append([]dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "nope.example.test.", Rrtype: dns.TypeA}}, nil, (*dns.NSEC)(nil), (*dns.NSEC3)(nil)}, rrs...)
	if p := ProveNXDomain("nope.example.test.", exampleTest, mixed, DenialLimits{}); p.Status != Secure {
		t.Errorf("proof among other records: got %v: %s", p.Status, p.Reason)
	}
}

const (
	exampleSalt  = "aabbccdd"
	exampleIters = 5
)

func TestS46_NSEC3NXDomain(t *testing.T) {
	z := exampleTestZone(t)
	chain := z.nsec3Chain(exampleSalt, exampleIters, false)
	optOut := z.nsec3Chain(exampleSalt, exampleIters, true)
	nx := func(q string, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveNXDomain(q, exampleTest, rrs, DenialLimits{}) }
	}
	// A qname whose proof needs three different records, so that leaving
	// one out breaks it.
	q := chain.distinct(t, "nope%d.example.test.", exampleTest, "*.example.test.")
	runDenialCases(t, []denialCase{
		{"closest encloser proof and wildcard denial", nx(q, chain.pick(t, exampleTest, q, "*.example.test.")), Secure, false},
		{"deeper qname, closest encloser below the apex", nx("p.q.x.w.example.test.", chain.pick(t, "x.w.example.test.", "q.x.w.example.test.", "*.x.w.example.test.")), Secure, false},
		{"closest encloser is an empty non-terminal", nx("q.c.example.test.", chain.pick(t, "c.example.test.", "q.c.example.test.", "*.c.example.test.")), Secure, false},
		{"whole chain", nx(q, chain), Secure, false},
		{"wildcard exists", nx("q.w.example.test.", chain.pick(t, "w.example.test.", "q.w.example.test.", "*.w.example.test.")), Bogus, false},
		{"wildcard denial missing", nx(q, chain.pick(t, exampleTest, q)), Bogus, false},
		{"closest encloser record missing", nx(q, chain.pick(t, q, "*.example.test.")), Bogus, false},
		{"next closer record missing", nx(q, chain.pick(t, exampleTest, "*.example.test.")), Bogus, false},
		{"the name exists", nx("a.example.test.", chain), Bogus, false},
		{"an empty non-terminal exists", nx("c.example.test.", chain), Bogus, false},
		{"closest encloser is a signed delegation", nx("www.d.example.test.", chain.pick(t, "d.example.test.", "www.d.example.test.", "*.d.example.test.")), Bogus, false},
		{"closest encloser is an unsigned delegation", nx("www.e.example.test.", chain.pick(t, "e.example.test.", "www.e.example.test.", "*.e.example.test.")), Bogus, false},
		{"opt-out covers the next closer name", nx(q, optOut.pick(t, exampleTest, q, "*.example.test.")), Insecure, false},
		{"opt-out, but the wildcard exists", nx("q.w.example.test.", optOut.pick(t, "w.example.test.", "q.w.example.test.", "*.w.example.test.")), Bogus, false},
	})
}

// distinct returns the first name from pattern (with %d) such that it
// and others each need a record of their own, so that a test leaving one
// out really leaves out part of the proof. (NSEC3 hashes put names
// anywhere; two of them may share a span.)
func (c denialChain) distinct(t *testing.T, pattern string, others ...string) string {
	t.Helper()
	for i := range 100 {
		q := fmt.Sprintf(pattern, i)
		var seen []dns.RR
		ok := true
		for _, n := range append([]string{q}, others...) {
			rr := c.pick(t, n)[0]
			if slices.Contains(seen, rr) {
				ok = false
				break
			}
			seen = append(seen, rr)
		}
		if ok {
			return q
		}
	}
	t.Fatalf("no name of the form %s needs records apart from %q", pattern, others)
	return ""
}

// without returns the chain minus the records matching or covering names.
func (c denialChain) without(names ...string) []dns.RR {
	var out []dns.RR
	for _, rr := range c {
		drop := false
		for _, n := range names {
			if c.matchesOrCovers(rr, n) {
				drop = true
			}
		}
		if !drop {
			out = append(out, rr)
		}
	}
	return out
}

func TestS46_NSEC3NoData(t *testing.T) {
	z := exampleTestZone(t)
	chain := z.nsec3Chain(exampleSalt, exampleIters, false)
	optOut := z.nsec3Chain(exampleSalt, exampleIters, true)
	nodata := func(q string, qtype uint16, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveNoData(q, qtype, exampleTest, rrs, DenialLimits{}) }
	}
	qw := chain.distinct(t, "q%d.w.example.test.", "w.example.test.", "*.w.example.test.")
	runDenialCases(t, []denialCase{
		{"type absent", nodata("a.example.test.", dns.TypeMX, chain.pick(t, "a.example.test.")), Secure, false},
		{"type absent at the apex", nodata(exampleTest, dns.TypeTXT, chain.pick(t, exampleTest)), Secure, false},
		{"type present", nodata("a.example.test.", dns.TypeA, chain.pick(t, "a.example.test.")), Bogus, false},
		{"CNAME bit set", nodata("alias.example.test.", dns.TypeA, chain.pick(t, "alias.example.test.")), Bogus, false},
		{"empty non-terminal has its own NSEC3", nodata("c.example.test.", dns.TypeA, chain.pick(t, "c.example.test.")), Secure, false},
		{"wildcard NODATA", nodata("q.w.example.test.", dns.TypeA, chain.pick(t, "w.example.test.", "q.w.example.test.", "*.w.example.test.")), Secure, false},
		{"wildcard NODATA, but the wildcard has the type", nodata("q.w.example.test.", dns.TypeTXT, chain.pick(t, "w.example.test.", "q.w.example.test.", "*.w.example.test.")), Bogus, false},
		{"wildcard NODATA without the wildcard's record", nodata(qw, dns.TypeA, chain.pick(t, "w.example.test.", qw)), Bogus, false},
		{"nonexistent name: NXDOMAIN is not NODATA", nodata("nope.example.test.", dns.TypeA, chain.pick(t, exampleTest, "nope.example.test.", "*.example.test.")), Bogus, false},
		{"parent-side NSEC3 denies A at a signed child apex", nodata("d.example.test.", dns.TypeA, chain.pick(t, "d.example.test.")), Bogus, false},
		{"parent-side NSEC3 denies A at an unsigned child apex", nodata("e.example.test.", dns.TypeA, chain.pick(t, "e.example.test.")), Bogus, false},
		{"DS at a signed delegation", nodata("d.example.test.", dns.TypeDS, chain.pick(t, "d.example.test.")), Bogus, false},
		{"DS at an unsigned delegation", nodata("e.example.test.", dns.TypeDS, chain.pick(t, "e.example.test.")), Secure, false},
		{"opt-out: DS at an unsigned delegation without a record", nodata("e.example.test.", dns.TypeDS, optOut.pick(t, exampleTest, "e.example.test.")), Insecure, false},
		{"opt-out: other types there (RFC 5155 erratum 3441)", nodata("e.example.test.", dns.TypeA, optOut.pick(t, exampleTest, "e.example.test.")), Insecure, false},
		{"opt-out record matching qname is still Secure", nodata("a.example.test.", dns.TypeMX, optOut.pick(t, "a.example.test.")), Secure, false},
	})
}

func TestS46_NSEC3WildcardAnswer(t *testing.T) {
	z := exampleTestZone(t)
	chain := z.nsec3Chain(exampleSalt, exampleIters, false)
	optOut := z.nsec3Chain(exampleSalt, exampleIters, true)
	wild := func(q, ce string, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveWildcardAnswer(q, ce, exampleTest, rrs, DenialLimits{}) }
	}
	runDenialCases(t, []denialCase{
		{"next closer name covered", wild("q.w.example.test.", "w.example.test.", chain.pick(t, "q.w.example.test.")), Secure, false},
		{"deeper qname", wild("p.q.w.example.test.", "w.example.test.", chain.pick(t, "q.w.example.test.")), Secure, false},
		{"next closer name exists", wild("a.x.w.example.test.", "w.example.test.", chain.pick(t, "x.w.example.test.")), Bogus, false},
		{"no record covers the next closer name", wild("q.w.example.test.", "w.example.test.", chain.without("q.w.example.test.")), Bogus, false},
		{"opt-out covers the next closer name", wild("q.w.example.test.", "w.example.test.", optOut.pick(t, "q.w.example.test.")), Insecure, false},
	})
}

func TestS46_NSEC3NoDS(t *testing.T) {
	z := exampleTestZone(t)
	chain := z.nsec3Chain(exampleSalt, exampleIters, false)
	optOut := z.nsec3Chain(exampleSalt, exampleIters, true)
	child := newDenialZone(t, "e.example.test.", "@ SOA NS DNSKEY", "www A").nsec3Chain(exampleSalt, exampleIters, false)
	nods := func(c, zone string, rrs []dns.RR) func() DenialProof {
		return func() DenialProof { return ProveNoDS(c, zone, rrs, DenialLimits{}) }
	}
	runDenialCases(t, []denialCase{
		{"unsigned delegation with its own record", nods("e.example.test.", exampleTest, chain.pick(t, "e.example.test.")), Secure, true},
		{"no delegation here", nods("a.example.test.", exampleTest, chain.pick(t, "a.example.test.")), Secure, false},
		{"empty non-terminal", nods("c.example.test.", exampleTest, chain.pick(t, "c.example.test.")), Secure, false},
		{"DS bit set", nods("d.example.test.", exampleTest, chain.pick(t, "d.example.test.")), Bogus, false},
		{"opt-out covers the unsigned delegation", nods("e.example.test.", exampleTest, optOut.pick(t, exampleTest, "e.example.test.")), Insecure, true},
		{"opt-out span, closest encloser record missing", nods("e.example.test.", exampleTest, optOut.without(exampleTest)), Bogus, false},
		{"covered without opt-out: that is NXDOMAIN", nods("nope.example.test.", exampleTest, chain.pick(t, exampleTest, "nope.example.test.", "*.example.test.")), Bogus, false},
		{"child's apex NSEC3", nods("e.example.test.", "e.example.test.", child.pick(t, "e.example.test.")), Bogus, false},
		{"the root has no parent to deny its DS from", nods(".", ".", nil), Bogus, false},
	})
}

func TestS46_NSEC3Parameters(t *testing.T) {
	z := exampleTestZone(t)
	q := "nope.example.test."
	names := []string{exampleTest, q, "*.example.test."}
	nx := func(rrs []dns.RR, lim DenialLimits) func() DenialProof {
		return func() DenialProof { return ProveNXDomain(q, exampleTest, rrs, lim) }
	}
	saltA := z.nsec3Chain("aabbccdd", 5, false)
	saltB := z.nsec3Chain("0011", 5, false)
	iter6 := z.nsec3Chain("aabbccdd", 6, false)
	mix := func(a, b denialChain) []dns.RR {
		return slices.Concat(a.pick(t, names[0]), b.pick(t, names[1:]...))
	}
	unknown := func(c denialChain, hash, flags uint8) []dns.RR {
		var out []dns.RR
		for _, rr := range c.pick(t, names...) {
			r := dns.Copy(rr).(*dns.NSEC3)
			r.Hash, r.Flags = hash, flags
			out = append(out, r)
		}
		return out
	}
	twoBelow := func(c denialChain) []dns.RR {
		var out []dns.RR
		for _, rr := range c.pick(t, names...) {
			r := dns.Copy(rr).(*dns.NSEC3)
			r.Hdr.Name = strings.Replace(r.Hdr.Name, ".example.test.", ".sub.example.test.", 1)
			out = append(out, r)
		}
		return out
	}
	other := newDenialZone(t, "other.test.", "@ SOA NS", "a A").nsec3Chain("aabbccdd", 5, false)
	runDenialCases(t, []denialCase{
		{"empty salt, no iterations (RFC 9276)", nx(z.nsec3Chain("", 0, false).pick(t, names...), DenialLimits{}), Secure, false},
		{"mixed salts", nx(mix(saltA, saltB), DenialLimits{}), Bogus, false},
		{"mixed iterations", nx(mix(saltA, iter6), DenialLimits{}), Bogus, false},
		{"iterations at the default limit", nx(z.nsec3Chain("", 150, false).pick(t, names...), DenialLimits{}), Secure, false},
		{"iterations above the default limit", nx(z.nsec3Chain("", 151, false).pick(t, names...), DenialLimits{}), Insecure, false},
		{"500 iterations", nx(z.nsec3Chain("aabbccdd", 500, false).pick(t, names...), DenialLimits{}), Insecure, false},
		{"500 iterations under a limit of 600", nx(z.nsec3Chain("aabbccdd", 500, false).pick(t, names...), DenialLimits{MaxNSEC3Iterations: 600}), Secure, false},
		{"a negative limit allows no extra iteration", nx(z.nsec3Chain("", 1, false).pick(t, names...), DenialLimits{MaxNSEC3Iterations: -1}), Insecure, false},
		{"a negative limit allows 0 iterations", nx(z.nsec3Chain("", 0, false).pick(t, names...), DenialLimits{MaxNSEC3Iterations: -1}), Secure, false},
		{"unknown hash algorithm only", nx(unknown(saltA, 2, 0), DenialLimits{}), Bogus, false},
		{"unknown flags only", nx(unknown(saltA, dns.SHA1, 0x80), DenialLimits{}), Bogus, false},
		{"unknown hash algorithm beside a valid chain", nx(slices.Concat(unknown(saltB, 2, 0), saltA.pick(t, names...)), DenialLimits{}), Secure, false},
		{"another zone's chain is ignored", nx(other, DenialLimits{}), Bogus, false},
		{"owners two labels below the zone are ignored", nx(twoBelow(saltA), DenialLimits{}), Bogus, false},
		{"another zone's chain beside a valid one", nx(slices.Concat(other, saltA.pick(t, names...)), DenialLimits{}), Secure, false},
	})
}

func TestS46_NSECAndNSEC3Together(t *testing.T) {
	z := exampleTestZone(t)
	q := "nope.example.test."
	nsec := z.nsecChain().pick(t, q) // no wildcard denial: the NSEC proof fails
	nsec3 := z.nsec3Chain("", 0, false).pick(t, exampleTest, q, "*.example.test.")
	if p := ProveNXDomain(q, exampleTest, slices.Concat(nsec, nsec3), DenialLimits{}); p.Status != Secure {
		t.Errorf("failed NSEC proof beside a good NSEC3 proof: got %v: %s", p.Status, p.Reason)
	}
	if p := ProveNXDomain(q, exampleTest, nsec, DenialLimits{}); p.Status != Bogus {
		t.Errorf("failed NSEC proof alone: got %v: %s", p.Status, p.Reason)
	}
}

func TestS48_NSEC3HashBudget(t *testing.T) {
	z := exampleTestZone(t)
	// A large zone: many NSEC3 records, each hashed name still costs one
	// hash whatever their number.
	lines := []string{"@ SOA NS"}
	for i := range 2000 {
		lines = append(lines, fmt.Sprintf("host%d A", i))
	}
	big := newDenialZone(t, exampleTest, lines...).nsec3Chain("aabbccdd", 10, false)

	deep := strings.Repeat("l.", 40) + exampleTest // 40 labels below the apex
	p := ProveNXDomain(deep, exampleTest, big, DenialLimits{})
	if p.Status != Indeterminate || p.NSEC3Hashes != DefaultMaxNSEC3Hashes {
		t.Errorf("deep name, default budget: got %v after %d hashes: %s", p.Status, p.NSEC3Hashes, p.Reason)
	}
	p = ProveNXDomain(deep, exampleTest, big, DenialLimits{MaxNSEC3Hashes: 64})
	if p.Status != Secure || p.NSEC3Hashes != 42 {
		t.Errorf("deep name, budget 64: got %v after %d hashes (want 40 labels + apex + wildcard = 42): %s", p.Status, p.NSEC3Hashes, p.Reason)
	}

	chain := z.nsec3Chain(exampleSalt, exampleIters, false)
	q := "nope.example.test."
	rrs := chain.pick(t, exampleTest, q, "*.example.test.")
	p = ProveNXDomain(q, exampleTest, rrs, DenialLimits{})
	if p.Status != Secure || p.NSEC3Hashes != 3 {
		t.Errorf("qname, apex, wildcard: got %v after %d hashes, want 3: %s", p.Status, p.NSEC3Hashes, p.Reason)
	}
	p = ProveNXDomain(q, exampleTest, rrs, DenialLimits{MaxNSEC3Hashes: 2})
	if p.Status != Indeterminate || p.NSEC3Hashes != 2 {
		t.Errorf("budget of 2 for a 3-hash proof: got %v after %d hashes: %s", p.Status, p.NSEC3Hashes, p.Reason)
	}
	p = ProveNoData("a.example.test.", dns.TypeMX, exampleTest, chain.pick(t, "a.example.test."), DenialLimits{MaxNSEC3Hashes: 1})
	if p.Status != Secure || p.NSEC3Hashes != 1 {
		t.Errorf("NODATA needs one hash: got %v after %d hashes: %s", p.Status, p.NSEC3Hashes, p.Reason)
	}
	// Repeated names are hashed once: the closest encloser search, the
	// next closer name and the wildcard share the cache.
	p = ProveNoData("q.w.example.test.", dns.TypeA, exampleTest, chain, DenialLimits{MaxNSEC3Hashes: 3})
	if p.Status != Secure || p.NSEC3Hashes != 3 {
		t.Errorf("wildcard NODATA: got %v after %d hashes, want 3 (q.w, w, *.w): %s", p.Status, p.NSEC3Hashes, p.Reason)
	}
}

func TestS48_NSEC3IterationsCheckedBeforeHashing(t *testing.T) {
	lines := []string{"@ SOA NS"}
	for i := range 1000 {
		lines = append(lines, fmt.Sprintf("host%d A", i))
	}
	// 65535 iterations: building the chain is the expensive part, so
	// build it with few names and copy the parameters onto a big one.
	cheap := newDenialZone(t, exampleTest, lines...).nsec3Chain("", 0, false)
	var costly []dns.RR
	for _, rr := range cheap {
		r := dns.Copy(rr).(*dns.NSEC3)
		r.Iterations = 65535
		costly = append(costly, r)
	}
	start := time.Now()
	deep := strings.Repeat("l.", 100) + exampleTest
	for _, p := range []DenialProof{
		ProveNXDomain(deep, exampleTest, costly, DenialLimits{}),
		ProveNoData(deep, dns.TypeA, exampleTest, costly, DenialLimits{}),
		ProveWildcardAnswer(deep, exampleTest, exampleTest, costly, DenialLimits{}),
		ProveNoDS("host1.example.test.", exampleTest, costly, DenialLimits{}),
	} {
		if p.Status != Insecure || p.NSEC3Hashes != 0 {
			t.Errorf("65535 iterations: got %v after %d hashes: %s", p.Status, p.NSEC3Hashes, p.Reason)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing 65535 iterations took %v", d)
	}
}

func TestS48_DefaultLimits(t *testing.T) {
	var zero DenialLimits
	if zero.iterations() != DefaultMaxNSEC3Iterations || zero.hashes() != DefaultMaxNSEC3Hashes {
		t.Errorf("zero limits: %d iterations, %d hashes", zero.iterations(), zero.hashes())
	}
	if DefaultMaxNSEC3Iterations != 150 {
		t.Errorf("DefaultMaxNSEC3Iterations = %d; Unbound 1.17 and our comparisons use 150", DefaultMaxNSEC3Iterations)
	}
	neg := DenialLimits{MaxNSEC3Iterations: -5, MaxNSEC3Hashes: -5}
	if neg.iterations() != 0 || neg.hashes() != DefaultMaxNSEC3Hashes {
		t.Errorf("negative limits: %d iterations, %d hashes", neg.iterations(), neg.hashes())
	}
}

// rfc5155Zone is the example zone of RFC 5155 Appendix A (salt aabbccdd,
// 12 iterations, opt-out).
func rfc5155Zone(t testing.TB) *denialZone {
	return newDenialZone(t, "example.",
		"@ SOA NS MX DNSKEY",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr A",
		"a NS DS",
		"ns1.a A",
		"ns2.a A",
		"ai A HINFO AAAA",
		"c NS",
		"ns1.c A",
		"ns2.c A",
		"ns1 A",
		"ns2 A",
		"*.w MX",
		"x.w MX",
		"x.y.w MX",
		"xx A HINFO AAAA",
	)
}

func TestNSEC3Hash_RFC5155AppendixA(t *testing.T) {
	vectors := map[string]string{
		"example.":       "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom",
		"a.example.":     "35mthgpgcu1qg68fab165klnsnk3dpvl",
		"ai.example.":    "gjeqe526plbf1g8mklp59enfd789njgi",
		"ns1.example.":   "2t7b4g4vsa5smi47k61mv5bv1a22bojr",
		"ns2.example.":   "q04jkcevqvmu85r014c7dkba38o0ji5r",
		"w.example.":     "k8udemvp1j2f7eg6jebps17vp3n8i58h",
		"*.w.example.":   "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
		"x.w.example.":   "b4um86eghhds6nea196smvmlo4ors995",
		"y.w.example.":   "ji6neoaepv8b5o6k4ev33abha8ht9fgc",
		"x.y.w.example.": "2vptu5timamqttgl4luu9kg21e0aor3s",
		"xx.example.":    "t644ebqk9bibcna874givr6joj62mlhv",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.": "kohar7mbb8dc2ce8a9qvl8hon4k53uhi",
		// Case and escapes do not change the hash (RFC 4034 §6.2).
		"X.W.Example.":     "b4um86eghhds6nea196smvmlo4ors995",
		`\120.w.example`:   "b4um86eghhds6nea196smvmlo4ors995",
		`\088.\w.EXAMPLE.`: "b4um86eghhds6nea196smvmlo4ors995",
		`\*.w.example.`:    "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
		`\042.w.example.`:  "r53bq7cc2uvmubfu5ocmm6pers9tk9en",
		"x.w.example":      "b4um86eghhds6nea196smvmlo4ors995",
		"NS2.EXAMPLE.":     "q04jkcevqvmu85r014c7dkba38o0ji5r",
	}
	for name, want := range vectors {
		n, ok := parseProofName(name)
		if !ok {
			t.Errorf("%s: not parsed", name)
			continue
		}
		c := &nsec3Chain{salt: []byte{0xaa, 0xbb, 0xcc, 0xdd}, iterations: 12, budget: 1, cache: map[string][]byte{}}
		got, ok := decodeBase32Hex(want)
		if !ok {
			t.Fatalf("%s: vector does not decode", want)
		}
		if h := c.hash(n); string(h) != string(got) {
			t.Errorf("%s: hash %x, want %s (RFC 5155 Appendix A)", name, h, want)
		}
	}
	// The same with miekg's HashName, which the test chains rely on.
	for name, want := range vectors {
		if strings.Contains(name, `\`) || !dns.IsFqdn(name) {
			continue // miekg lower-cases before unescaping, and wants a trailing dot
		}
		if got := dns.HashName(name, dns.SHA1, 12, "aabbccdd"); !strings.EqualFold(got, want) {
			t.Errorf("dns.HashName(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestS46_RFC5155AppendixB(t *testing.T) {
	z := rfc5155Zone(t)
	chain := z.nsec3Chain("aabbccdd", 12, true)
	var owners []string
	for _, rr := range chain {
		owners = append(owners, rr.Header().Name)
	}
	slices.Sort(owners)
	wantOwners := []string{
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.",
		"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example.",
		"2vptu5timamqttgl4luu9kg21e0aor3s.example.",
		"35mthgpgcu1qg68fab165klnsnk3dpvl.example.",
		"b4um86eghhds6nea196smvmlo4ors995.example.",
		"gjeqe526plbf1g8mklp59enfd789njgi.example.",
		"ji6neoaepv8b5o6k4ev33abha8ht9fgc.example.",
		"k8udemvp1j2f7eg6jebps17vp3n8i58h.example.",
		"kohar7mbb8dc2ce8a9qvl8hon4k53uhi.example.",
		"q04jkcevqvmu85r014c7dkba38o0ji5r.example.",
		"r53bq7cc2uvmubfu5ocmm6pers9tk9en.example.",
		"t644ebqk9bibcna874givr6joj62mlhv.example.",
	}
	if !slices.Equal(owners, wantOwners) {
		t.Fatalf("the test chain of the RFC 5155 zone differs from Appendix A:\n got %q\nwant %q", owners, wantOwners)
	}
	secure := z.nsec3Chain("aabbccdd", 12, false) // the same zone without opt-out
	const ex = "example."
	runDenialCases(t, []denialCase{
		{"B.1 name error, opt-out", func() DenialProof {
			return ProveNXDomain("a.c.x.w.example.", ex, chain.pick(t, "x.w.example.", "c.x.w.example.", "*.x.w.example."), DenialLimits{})
		}, Insecure, false},
		{"B.1 name error, no opt-out", func() DenialProof {
			return ProveNXDomain("a.c.x.w.example.", ex, secure.pick(t, "x.w.example.", "c.x.w.example.", "*.x.w.example."), DenialLimits{})
		}, Secure, false},
		{"B.2 no data", func() DenialProof {
			return ProveNoData("ns1.example.", dns.TypeMX, ex, chain.pick(t, "ns1.example."), DenialLimits{})
		}, Secure, false},
		{"B.2.1 no data, empty non-terminal", func() DenialProof {
			return ProveNoData("y.w.example.", dns.TypeA, ex, chain.pick(t, "y.w.example."), DenialLimits{})
		}, Secure, false},
		{"B.3 referral to an opt-out unsigned zone", func() DenialProof {
			return ProveNoDS("c.example.", ex, chain.pick(t, "example.", "c.example."), DenialLimits{})
		}, Insecure, true},
		{"B.4 wildcard expansion, opt-out", func() DenialProof {
			return ProveWildcardAnswer("a.z.w.example.", "w.example.", ex, chain.pick(t, "z.w.example."), DenialLimits{})
		}, Insecure, false},
		{"B.4 wildcard expansion, no opt-out", func() DenialProof {
			return ProveWildcardAnswer("a.z.w.example.", "w.example.", ex, secure.pick(t, "z.w.example."), DenialLimits{})
		}, Secure, false},
		{"B.5 wildcard no data, opt-out", func() DenialProof {
			return ProveNoData("a.z.w.example.", dns.TypeAAAA, ex, chain.pick(t, "w.example.", "z.w.example.", "*.w.example."), DenialLimits{})
		}, Insecure, false},
		{"B.5 wildcard no data, no opt-out", func() DenialProof {
			return ProveNoData("a.z.w.example.", dns.TypeAAAA, ex, secure.pick(t, "w.example.", "z.w.example.", "*.w.example."), DenialLimits{})
		}, Secure, false},
		{"B.6 DS child zone no data: the child's own record", func() DenialProof {
			return ProveNoDS("example.", ex, chain.pick(t, "example."), DenialLimits{})
		}, Bogus, false},
		{"signed delegation a.example has DS", func() DenialProof {
			return ProveNoDS("a.example.", ex, chain.pick(t, "a.example."), DenialLimits{})
		}, Bogus, false},
	})
	// The records the server picks are the ones RFC 5155 Appendix B.1
	// shows: the closest encloser x.w, and the spans covering the next
	// closer name and the wildcard.
	var b1 []string
	for _, rr := range chain.pick(t, "x.w.example.", "c.x.w.example.", "*.x.w.example.") {
		b1 = append(b1, rr.Header().Name)
	}
	want := []string{
		"b4um86eghhds6nea196smvmlo4ors995.example.",
		"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.",
		"35mthgpgcu1qg68fab165klnsnk3dpvl.example.",
	}
	if !slices.Equal(b1, want) {
		t.Errorf("B.1 records %q, want %q", b1, want)
	}
}

func TestCanonicalOrder_RFC4034Section6_1(t *testing.T) {
	// The example of RFC 4034 §6.1, in canonical order.
	names := []string{
		"example.",
		"a.example.",
		"yljkjljk.a.example.",
		"Z.a.example.",
		"zABC.a.EXAMPLE.",
		"z.example.",
		`\001.z.example.`,
		"*.z.example.",
		`\200.z.example.`,
	}
	parsed := make([]proofName, len(names))
	for i, s := range names {
		n, ok := parseProofName(s)
		if !ok {
			t.Fatalf("%s: not parsed", s)
		}
		parsed[i] = n
	}
	for i := range parsed {
		for j := range parsed {
			got := parsed[i].compare(parsed[j])
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", names[i], names[j], got, want)
			}
		}
	}
	// Canonical ordering is by octets, not by text: "\." inside a label
	// and the escape of a letter.
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"A.example.", `\097.example.`, 0},
		{"a.b.", `a\.b.`, 1},
		{"a.", "a", 0},
		{".", "a.", -1},
		{"ab.example.", "a.example.", 1},
		{"a-.example.", "a.example.", 1},
		{"\\000.example.", "example.", 1},
	} {
		a, _ := parseProofName(tc.a)
		b, _ := parseProofName(tc.b)
		if got := a.compare(b); got != tc.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseProofName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string
	}{
		{".", true, "."},
		{"Example.TEST", true, "example.test."},
		{`a\.b.example.`, true, `a\.b.example.`},
		{`\065\066.example.`, true, "ab.example."},
		{`\255.x.`, true, `\255.x.`},
		{"*.w.example.", true, "*.w.example."},
		{"", false, ""},
		{"..", false, ""},
		{"a..b.", false, ""},
		{".a.", false, ""},
		{`a\`, false, ""},
		{`a\25`, false, ""},
		{`\256.x.`, false, ""},
		{`\2a5.x.`, false, ""},
		{strings.Repeat("a", 63) + ".", true, strings.Repeat("a", 63) + "."},
		{strings.Repeat("a", 64) + ".", false, ""},
		{strings.Repeat("abc.", 63), true, strings.Repeat("abc.", 63)}, // 253 octets
		{strings.Repeat("abc.", 64), false, ""},                        // 257 octets
	} {
		n, ok := parseProofName(tc.in)
		if ok != tc.ok || (ok && n.String() != tc.want) {
			t.Errorf("parseProofName(%q) = %v, %v; want %v, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
}

func TestDenialBadInput(t *testing.T) {
	chain := exampleTestZone(t).nsecChain()
	chain3 := exampleTestZone(t).nsec3Chain("", 0, false)
	all := slices.Concat(chain, chain3)
	garbage := []dns.RR{
		nil,
		(*dns.NSEC)(nil),
		(*dns.NSEC3)(nil),
		&dns.NSEC{},
		&dns.NSEC3{},
		&dns.NSEC{Hdr: dns.RR_Header{Name: `bad\`}, NextDomain: "a."},
		&dns.NSEC3{Hdr: dns.RR_Header{Name: "zz.example.test."}, Hash: 1, NextDomain: "!!"},
		&dns.NSEC3{Hdr: dns.RR_Header{Name: "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.test."}, Hash: 1, Salt: "xyz", NextDomain: "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"},
		&dns.NSEC3{Hdr: dns.RR_Header{Name: "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example.test."}, Hash: 1, NextDomain: "0p9mhaveqvm6t7vbl5lop2u3"},
		&dns.RRSIG{},
	}
	names := []string{"", ".", "..", "example.test.", "nope.example.test.", `\`, `a\.b.example.test.`, strings.Repeat("a.", 130), "*.example.test.", "\x00.example.test."}
	for _, rrs := range [][]dns.RR{nil, garbage, all, slices.Concat(garbage, all)} {
		for _, q := range names {
			for _, zone := range []string{"", ".", "test.", exampleTest, "EXAMPLE.test", "a.example.test."} {
				for _, p := range []DenialProof{
					ProveNXDomain(q, zone, rrs, DenialLimits{}),
					ProveNoData(q, dns.TypeA, zone, rrs, DenialLimits{}),
					ProveNoData(q, dns.TypeDS, zone, rrs, DenialLimits{}),
					ProveWildcardAnswer(q, zone, zone, rrs, DenialLimits{}),
					ProveWildcardAnswer(q, "", zone, rrs, DenialLimits{}),
					ProveNoDS(q, zone, rrs, DenialLimits{}),
				} {
					if p.Status < Indeterminate || p.Status > Bogus || p.Reason == "" {
						t.Fatalf("q %q zone %q: %+v", q, zone, p)
					}
				}
			}
		}
	}
	// The root zone: a one-record NSEC chain denies everything below it.
	root := &dns.NSEC{
		Hdr:        dns.RR_Header{Name: ".", Rrtype: dns.TypeNSEC, Class: dns.ClassINET},
		NextDomain: ".",
		TypeBitMap: []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY},
	}
	if p := ProveNXDomain("nope.", ".", []dns.RR{root}, DenialLimits{}); p.Status != Secure {
		t.Errorf("root zone with a single NSEC: got %v: %s", p.Status, p.Reason)
	}
	if p := ProveNoData(".", dns.TypeDS, ".", []dns.RR{root}, DenialLimits{}); p.Status != Secure {
		t.Errorf("no DS at the root, from the root: got %v: %s", p.Status, p.Reason)
	}
	if p := ProveNoData(".", dns.TypeNS, ".", []dns.RR{root}, DenialLimits{}); p.Status != Bogus {
		t.Errorf("NS at the root denied: got %v: %s", p.Status, p.Reason)
	}
}

func TestS46_EscapedNames(t *testing.T) {
	// Names with escapes go through the same canonical comparisons: a
	// label holding a dot, and letters written as \DDD.
	z := newDenialZone(t, exampleTest, "@ SOA NS", `a\.b A`, "m A")
	nsec := z.nsecChain()
	if p := ProveNoData(`A\.B.example.test.`, dns.TypeMX, exampleTest, nsec.pick(t, `a\.b.example.test.`), DenialLimits{}); p.Status != Secure {
		t.Errorf(`NODATA at a\.b: got %v: %s`, p.Status, p.Reason)
	}
	if p := ProveNoData(`\097\.\098.example.test.`, dns.TypeMX, exampleTest, nsec.pick(t, `a\.b.example.test.`), DenialLimits{}); p.Status != Secure {
		t.Errorf(`NODATA at \097\.\098: got %v: %s`, p.Status, p.Reason)
	}
	// b.a is below a, which does not exist; a\.b is a single label.
	rrs := nsec.pick(t, "b.a.example.test.", "*.example.test.")
	if p := ProveNXDomain("b.a.example.test.", exampleTest, rrs, DenialLimits{}); p.Status != Secure {
		t.Errorf("NXDOMAIN b.a beside a\\.b: got %v: %s", p.Status, p.Reason)
	}
}

func TestS46_ChainEnds(t *testing.T) {
	z := exampleTestZone(t)
	chain := z.nsec3Chain(exampleSalt, exampleIters, false)
	// The last record of an NSEC3 chain (by hash) wraps around: it covers
	// hashes above its owner and below the first owner.
	last := chain[len(chain)-1]
	for _, wantAbove := range []bool{true, false} {
		var q string
		for i := 0; q == "" && i < 1000; i++ {
			n := fmt.Sprintf("wrap%d.example.test.", i)
			h := dns.HashName(n, dns.SHA1, exampleIters, exampleSalt)
			above := strings.Compare(h, strings.ToUpper(strings.SplitN(last.Header().Name, ".", 2)[0])) > 0
			if chain.pick(t, n)[0] == last && above == wantAbove {
				q = n
			}
		}
		if q == "" {
			t.Fatalf("no name hashes into the wrap-around span (above the last owner: %v)", wantAbove)
		}
		rrs := chain.pick(t, exampleTest, q, "*.example.test.")
		if p := ProveNXDomain(q, exampleTest, rrs, DenialLimits{}); p.Status != Secure {
			t.Errorf("NSEC3 wrap-around (above the last owner: %v) for %s: got %v: %s", wantAbove, q, p.Status, p.Reason)
		}
	}

	// A zone holding only its apex: one record, whose next name is its own
	// owner, covers every other name.
	lone := newDenialZone(t, exampleTest, "@ SOA NS")
	for _, c := range []denialChain{lone.nsecChain(), lone.nsec3Chain("", 0, false)} {
		if len(c) != 1 {
			t.Fatalf("one-name zone has %d records", len(c))
		}
		if p := ProveNXDomain("x.y.example.test.", exampleTest, c, DenialLimits{}); p.Status != Secure {
			t.Errorf("lone %T covers a name: got %v: %s", c[0], p.Status, p.Reason)
		}
		if p := ProveNoData(exampleTest, dns.TypeA, exampleTest, c, DenialLimits{}); p.Status != Secure {
			t.Errorf("lone %T denies A at the apex: got %v: %s", c[0], p.Status, p.Reason)
		}
		if p := ProveNoData(exampleTest, dns.TypeNS, exampleTest, c, DenialLimits{}); p.Status != Bogus {
			t.Errorf("lone %T denies NS at the apex: got %v: %s", c[0], p.Status, p.Reason)
		}
	}
}

// denialHugeSection returns n NSEC and n NSEC3 records of zone example.test
// with made-up names, none of which proves anything.
func denialHugeSection(n int) []dns.RR {
	rrs := make([]dns.RR, 0, 2*n)
	for i := range n {
		rrs = append(rrs, &dns.NSEC{
			Hdr:        dns.RR_Header{Name: fmt.Sprintf("h%08d.example.test.", i), Rrtype: dns.TypeNSEC, Class: dns.ClassINET},
			NextDomain: fmt.Sprintf("h%08d.example.test.", i+1),
			TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC},
		})
		h := fmt.Sprintf("%032d", i) // decimal digits are base32hex too
		rrs = append(rrs, &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: h + ".example.test.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
			Hash:       dns.SHA1,
			Iterations: 0,
			NextDomain: fmt.Sprintf("%032d", i+1),
			TypeBitMap: []uint16{dns.TypeA, dns.TypeRRSIG},
		})
	}
	return rrs
}

func TestS48_HugeAuthoritySection(t *testing.T) {
	rrs := denialHugeSection(20000)
	deep := strings.Repeat("l.", 100) + exampleTest
	start := time.Now()
	for _, p := range []DenialProof{
		ProveNXDomain(deep, exampleTest, rrs, DenialLimits{}),
		ProveNoData(deep, dns.TypeA, exampleTest, rrs, DenialLimits{}),
		ProveWildcardAnswer(deep, "l.l.example.test.", exampleTest, rrs, DenialLimits{}),
		ProveNoDS("l.example.test.", exampleTest, rrs, DenialLimits{}),
	} {
		if p.Status != Bogus && p.Status != Indeterminate {
			t.Errorf("made-up records: got %v: %s", p.Status, p.Reason)
		}
		if p.NSEC3Hashes > DefaultMaxNSEC3Hashes {
			t.Errorf("%d hashes", p.NSEC3Hashes)
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("four proofs over %d records took %v", len(rrs), d)
	}
}

func BenchmarkProveNXDomain(b *testing.B) {
	z := exampleTestZone(b)
	q := "nope.example.test."
	for _, bc := range []struct {
		name string
		rrs  []dns.RR
	}{
		{"NSEC", z.nsecChain().pick(b, q, "*.example.test.")},
		{"NSEC3-0-iterations", z.nsec3Chain("", 0, false).pick(b, exampleTest, q, "*.example.test.")},
		{"NSEC3-150-iterations", z.nsec3Chain(exampleSalt, 150, false).pick(b, exampleTest, q, "*.example.test.")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if p := ProveNXDomain(q, exampleTest, bc.rrs, DenialLimits{}); p.Status != Secure {
					b.Fatalf("%v: %s", p.Status, p.Reason)
				}
			}
		})
	}
}

// BenchmarkProveNXDomainWorstCase is the most work one proof may do under
// the default limits: 150 iterations and the whole hash budget.
func BenchmarkProveNXDomainWorstCase(b *testing.B) {
	chain := exampleTestZone(b).nsec3Chain(exampleSalt, DefaultMaxNSEC3Iterations, false)
	deep := strings.Repeat("l.", 60) + exampleTest
	for b.Loop() {
		if p := ProveNXDomain(deep, exampleTest, chain, DenialLimits{}); p.Status != Indeterminate || p.NSEC3Hashes != DefaultMaxNSEC3Hashes {
			b.Fatalf("%v after %d hashes: %s", p.Status, p.NSEC3Hashes, p.Reason)
		}
	}
}
