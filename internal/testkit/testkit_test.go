package testkit

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

var (
	once   sync.Once
	shared *Hierarchy
	srv    *Server
	err0   error
)

// full returns a hierarchy with every variant, served; built once.
func full(t *testing.T) (*Hierarchy, *Server) {
	t.Helper()
	once.Do(func() {
		shared, err0 = New(nil)
		if err0 == nil {
			srv, err0 = shared.Serve("127.0.0.1:0")
		}
	})
	if err0 != nil {
		t.Fatal(err0)
	}
	return shared, srv
}

func ask(t *testing.T, addr, name string, qtype uint16, rd, do bool, network string) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = rd
	if do {
		q.SetEdns0(udpSize, true)
	}
	c := &dns.Client{Net: network}
	resp, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return resp
}

func sigsOf(rrs []dns.RR) (data []dns.RR, sigs []*dns.RRSIG) {
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok {
			sigs = append(sigs, s)
		} else {
			data = append(data, rr)
		}
	}
	return data, sigs
}

// Every RRSIG of the well-formed zones verifies with its zone's keys and
// is valid at the signing clock.
func TestSignaturesVerify(t *testing.T) {
	h, _ := full(t)
	for _, name := range []string{".", "test.", "example.test.", "sub.example.test.", "rsasha256.test.",
		"rsasha512.test.", "ecdsap384.test.", "ed25519.test.", "nsec3.test.", "optout.test.", "iter500.test.", "wildcard.test."} {
		z := h.Zone(name)
		if z == nil {
			t.Fatalf("no zone %s", name)
		}
		var keys []*dns.DNSKEY
		for _, rr := range z.data[z.name][dns.TypeDNSKEY] {
			keys = append(keys, rr.(*dns.DNSKEY))
		}
		n := 0
		for k, sigs := range z.sigs {
			if name == "test." && k == (rrKey{"badnods.test.", dns.TypeNSEC}) {
				continue // broken on purpose: the bad-nods-signature variant
			}
			rrset := z.data[k.name][k.t]
			if k.t == dns.TypeNSEC {
				rrset = []dns.RR{z.nsec.recs[k.name]}
			}
			if k.t == dns.TypeNSEC3 {
				rrset = []dns.RR{z.nsec3.recs[strings.ToUpper(strings.SplitN(k.name, ".", 2)[0])]}
			}
			for _, s := range sigs {
				sig := s.(*dns.RRSIG)
				ok := false
				for _, key := range keys {
					if sig.Verify(key, rrset) == nil {
						ok = true
					}
				}
				if !ok || !sig.ValidityPeriod(h.Now()) {
					t.Errorf("%s: RRSIG over %s %s does not verify", name, k.name, dns.TypeToString[k.t])
				}
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s has no signatures", name)
		}
	}
}

func TestServerAnswersLikeAResolverAndAnAuthority(t *testing.T) {
	_, s := full(t)
	addr := s.Addr()

	r := ask(t, addr, "www.example.test.", dns.TypeA, true, true, "udp")
	if !r.RecursionAvailable || r.Authoritative || len(r.Answer) != 2 {
		t.Errorf("recursive answer: %v", r)
	}
	r = ask(t, addr, "www.example.test.", dns.TypeA, false, true, "udp")
	if r.RecursionAvailable || !r.Authoritative {
		t.Errorf("authoritative answer: %v", r)
	}
	r = ask(t, addr, "www.example.test.", dns.TypeA, true, false, "udp")
	if _, sigs := sigsOf(r.Answer); len(sigs) != 0 || r.IsEdns0() != nil {
		t.Errorf("RRSIGs without DO: %v", r)
	}

	// DS from the parent side of the cut.
	r = ask(t, addr, "example.test.", dns.TypeDS, true, true, "udp")
	if _, sigs := sigsOf(r.Answer); len(sigs) != 1 || sigs[0].SignerName != "test." {
		t.Errorf("DS answer: %v", r)
	}

	// A CNAME into another zone is followed for a stub, not by an
	// authority.
	r = ask(t, addr, "alias.example.test.", dns.TypeA, true, true, "udp")
	if len(r.Answer) != 4 {
		t.Errorf("recursive CNAME answer: %v", r)
	}
	r = ask(t, addr, "alias.example.test.", dns.TypeA, false, true, "udp")
	if len(r.Answer) != 2 {
		t.Errorf("authoritative CNAME answer: %v", r)
	}

	// NXDOMAIN with the SOA and the denial records, signed.
	r = ask(t, addr, "nope.sub.example.test.", dns.TypeA, true, true, "udp")
	data, sigs := sigsOf(r.Ns)
	if r.Rcode != dns.RcodeNameError || len(data) != 3 || len(sigs) != 3 {
		t.Errorf("NXDOMAIN: %v", r)
	}

	// Too big for UDP: truncated, whole over TCP.
	r = ask(t, addr, "big.example.test.", dns.TypeTXT, true, true, "udp")
	if !r.Truncated {
		t.Errorf("big answer over UDP not truncated: %d octets", r.Len())
	}
	r = ask(t, addr, "big.example.test.", dns.TypeTXT, true, true, "tcp")
	if r.Truncated || len(r.Answer) != 2 {
		t.Errorf("big answer over TCP: %v", r)
	}

	// Wildcard expansion keeps the wildcard's label count.
	r = ask(t, addr, "a.b.wildcard.test.", dns.TypeTXT, true, true, "udp")
	data, sigs = sigsOf(r.Answer)
	if len(data) != 1 || data[0].Header().Name != "a.b.wildcard.test." || len(sigs) != 1 || sigs[0].Labels != 2 {
		t.Errorf("wildcard answer: %v", r)
	}

	for _, q := range []struct {
		class uint16
		t     uint16
		rcode int
	}{{dns.ClassCHAOS, dns.TypeTXT, dns.RcodeRefused}, {dns.ClassINET, dns.TypeAXFR, dns.RcodeNotImplemented}} {
		m := new(dns.Msg)
		m.SetQuestion("example.test.", q.t)
		m.Question[0].Qclass = q.class
		resp, err := dns.Exchange(m, addr)
		if err != nil || resp.Rcode != q.rcode {
			t.Errorf("%v: %v %v", m.Question[0], resp, err)
		}
	}
	if s.Queries() == 0 || s.TCPQueries() == 0 {
		t.Errorf("counters %d %d", s.Queries(), s.TCPQueries())
	}
}

func TestReferralToAZoneNotServed(t *testing.T) {
	h, err := New(&Options{NoVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddText("ext.example.test. NS ns.elsewhere.\nwww.example.test. TXT \"hello\"\n"); err != nil {
		t.Fatal(err)
	}
	if err := h.Sign(); err != nil {
		t.Fatal(err)
	}
	q := new(dns.Msg)
	q.SetQuestion("www.ext.example.test.", dns.TypeA)
	q.SetEdns0(udpSize, true)
	q.RecursionDesired = false
	r := h.Answer(q)
	data, sigs := sigsOf(r.Ns)
	if r.Authoritative || len(r.Answer) != 0 || len(data) != 2 || data[0].Header().Rrtype != dns.TypeNS ||
		data[1].Header().Rrtype != dns.TypeNSEC3 || len(sigs) != 1 {
		t.Errorf("referral: %v", r)
	}
	if len(h.Variants()) == 0 {
		t.Error("the base zones have cases too")
	}
}

func TestAnchor(t *testing.T) {
	h, err := New(&Options{NoVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Anchor(); err == nil {
		t.Error("anchor of an unsigned hierarchy")
	}
	if err := h.Sign(); err != nil {
		t.Fatal(err)
	}
	text, err := h.Anchor()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 2 {
		t.Fatalf("anchor %q", text)
	}
	ds, err1 := dns.NewRR(lines[0])
	key, err2 := dns.NewRR(lines[1])
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !strings.EqualFold(key.(*dns.DNSKEY).ToDS(dns.SHA256).Digest, ds.(*dns.DS).Digest) || key.(*dns.DNSKEY).Flags != 257 {
		t.Errorf("anchor DS does not match its DNSKEY: %q", text)
	}
	if err := h.Add(&dns.A{Hdr: hdr("late.example.test.", dns.TypeA, 60), A: []byte{192, 0, 2, 1}}); !errors.Is(err, ErrSigned) {
		t.Errorf("Add after Sign: %v", err)
	}
	if _, err := h.AddZone("late.test.", nil); !errors.Is(err, ErrSigned) {
		t.Errorf("AddZone after Sign: %v", err)
	}
}

func TestAddRefusesWhatSigningMakes(t *testing.T) {
	h, err := New(&Options{NoVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range []string{"example.test. DNSKEY 256 3 13 AAAA", "x.example.test. DS 1 13 2 00", "x.example.test. CH TXT \"x\""} {
		if err := h.AddText(rr); err == nil {
			t.Errorf("%q accepted", rr)
		}
	}
	if err := h.AddText("bad line"); err == nil {
		t.Error("syntax error accepted")
	}
	// Records go to the deepest zone.
	if err := h.AddText("a.b.sub.example.test. TXT \"deep\"\nsub.example.test. MX 0 .\n"); err != nil {
		t.Fatal(err)
	}
	if z := h.Zone("sub.example.test."); len(z.data["a.b.sub.example.test."]) != 1 || len(z.data["sub.example.test."][dns.TypeMX]) != 1 {
		t.Error("records not in the deepest zone")
	}
}

func TestKeyTrapKeysCollide(t *testing.T) {
	h, _ := full(t)
	z := h.Zone("keytrap.test.")
	same := 0
	for _, rr := range z.data[z.name][dns.TypeDNSKEY] {
		if rr.(*dns.DNSKEY).KeyTag() == z.zsk.tag {
			same++
		}
	}
	if same != 25 {
		t.Errorf("%d keys share the ZSK's tag, want 25", same)
	}
	if n := len(z.sigs[rrKey{"www.keytrap.test.", dns.TypeA}]); n != 25 {
		t.Errorf("%d RRSIGs over the A RRset", n)
	}
}

func TestVariantsCoverTheSecurityItems(t *testing.T) {
	h, _ := full(t)
	seen := map[string]bool{}
	for _, v := range h.Variants() {
		for _, item := range strings.Split(v.Item, ",") {
			seen[item] = true
		}
		if z := h.zoneAbove(canonical(v.QName)); z == nil {
			t.Errorf("%s: no zone for %s", v.Name, v.QName)
		}
	}
	for _, item := range []string{"S40", "S41", "S42", "S43", "S44", "S45", "S46", "S47", "S48"} {
		if !seen[item] {
			t.Errorf("no variant for %s", item)
		}
	}
}

type fakeTB struct {
	failed  string
	cleanup []func()
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = format }
func (f *fakeTB) Cleanup(fn func())                 { f.cleanup = append(f.cleanup, fn) }

func TestMustStart(t *testing.T) {
	tb := &fakeTB{}
	h, s := MustStart(tb, &Options{NoVariants: true})
	if tb.failed != "" || h == nil || s == nil || len(tb.cleanup) != 1 {
		t.Fatalf("MustStart: %q", tb.failed)
	}
	r := ask(t, s.Addr(), ".", dns.TypeDNSKEY, true, true, "udp")
	if len(r.Answer) != 3 {
		t.Errorf("root DNSKEY: %v", r)
	}
	tb.cleanup[0]()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
