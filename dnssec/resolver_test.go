package dnssec

import (
	"context"
	"crypto"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/securemail/securemail/internal/testkit"
)

// lookupVariant asks a fresh resolver for the variant called name.
func lookupVariant(t *testing.T, name string, edit ...func(*Options)) (*Result, error) {
	t.Helper()
	h, _ := kit(t)
	for _, v := range h.Variants() {
		if v.Name == name {
			return kitResolver(t, edit...).Lookup(context.Background(), v.QName, v.QType)
		}
	}
	t.Fatalf("no variant %q", name)
	return nil, nil
}

// mustStatus checks the verdict and, for a verdict that is not Secure,
// the EDE code (ede < 0: any).
func mustStatus[E int | uint16](t *testing.T, res *Result, err error, want Status, ede E) {
	t.Helper()
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if res.Status != want {
		t.Fatalf("status %v, want %v: %v", res.Status, want, res)
	}
	if want != Secure && int(ede) >= 0 && res.EDE != uint16(ede) {
		t.Errorf("EDE %d (%s), want %d: %v", res.EDE, dns.ExtendedErrorCodeToString[res.EDE], ede, res)
	}
	if want == Secure && res.Reason != "" {
		t.Errorf("secure result with a reason: %q", res.Reason)
	}
	if (want == Bogus || want == Indeterminate) && (len(res.Answer) > 0 || len(res.Chain) > 0) {
		t.Errorf("a %v result carries data: %v", want, res.Answer)
	}
}

// TestVariants asks every case of the hierarchy and checks the verdict
// the variant documents (the same table TestUnboundAgrees compares with
// Unbound).
func TestVariants(t *testing.T) {
	h, _ := kit(t)
	r := kitResolver(t) // one resolver: the cache must not change verdicts
	for _, v := range h.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			res, err := r.Lookup(context.Background(), v.QName, v.QType)
			got := ourVerdict(res, err)
			if got != v.Want {
				t.Fatalf("%s %s: got %s (%v, %v), want %s", v.QName, typeName(v.QType), got, res, err, v.Want)
			}
			if err != nil {
				return
			}
			if v.Want == "secure" || v.Want == "insecure" {
				if res.Rcode != v.Rcode {
					t.Errorf("rcode %s, want %s", dns.RcodeToString[res.Rcode], dns.RcodeToString[v.Rcode])
				}
				if res.NXDomain != (v.Rcode == dns.RcodeNameError) || res.NoData != v.NoData {
					t.Errorf("NXDomain %v NoData %v, want rcode %d nodata %v", res.NXDomain, res.NoData, v.Rcode, v.NoData)
				}
				empty := v.Rcode == dns.RcodeNameError || v.NoData
				if empty != (len(res.Answer) == 0) {
					t.Errorf("answer %v", res.Answer)
				}
			}
		})
	}
}

// S40: a secure answer carries its data and a TTL; insecure data is
// marked insecure; bogus never carries data.
func TestS40_SecureAnswerIsUsable(t *testing.T) {
	res, err := lookupVariant(t, "secure-smimea-3-zones")
	mustStatus(t, res, err, Secure, -1)
	if len(res.Answer) != 1 || res.Answer[0].Header().Rrtype != dns.TypeSMIMEA {
		t.Fatalf("answer %v", res.Answer)
	}
	if res.Target != testkit.SampleSMIMEA || res.Name != testkit.SampleSMIMEA {
		t.Errorf("name %s target %s", res.Name, res.Target)
	}
	if res.TTL == 0 || res.TTL > 3600 {
		t.Errorf("TTL %d", res.TTL)
	}
	for _, rr := range res.Answer {
		if _, ok := rr.(*dns.RRSIG); ok {
			t.Errorf("RRSIG in the answer: %v", rr)
		}
	}
	if !strings.HasPrefix(res.String(), "secure: ") {
		t.Errorf("String %q", res.String())
	}
}

func TestS40_InsecureIsMarked(t *testing.T) {
	res, err := lookupVariant(t, "insecure-delegation")
	mustStatus(t, res, err, Insecure, -1)
	if len(res.Answer) != 1 {
		t.Errorf("insecure data should be returned for display: %v", res.Answer)
	}
	if !strings.Contains(res.Reason, "unsigned.test.") {
		t.Errorf("reason %q does not name the delegation", res.Reason)
	}
}

func TestS40_NoTrustAnchorIsIndeterminate(t *testing.T) {
	h, _ := kit(t)
	anchors, _ := h.AnchorRRs()
	// An anchor for a zone that does not cover the name asked.
	ds := dns.Copy(anchors[0]).(*dns.DS)
	ds.Hdr.Name = "example.test."
	r := kitResolver(t, func(o *Options) { o.Anchors = []dns.RR{ds} })
	res, err := r.Lookup(context.Background(), "www.rsasha256.test.", dns.TypeA)
	mustStatus(t, res, err, Indeterminate, dns.ExtendedErrorCodeDNSSECIndeterminate)
}

// S41: validity windows are judged by the clock of the options.
func TestS41_ExpiredSignatureIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "expired")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeSignatureExpired)
}

func TestS41_NotYetValidSignatureIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "not-yet-valid")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeSignatureNotYetValid)
}

func TestS41_ClockComesFromOptions(t *testing.T) {
	h, _ := kit(t)
	// Three days on, the not-yet-valid zone's signatures are valid (and
	// the rest of the chain still is).
	later := h.Now().Add(3 * 24 * time.Hour)
	res, err := lookupVariant(t, "not-yet-valid", func(o *Options) { o.Now = func() time.Time { return later } })
	mustStatus(t, res, err, Secure, -1)
	// Thirty-one days on, everything has expired.
	muchLater := h.Now().Add(31 * 24 * time.Hour)
	res, err = lookupVariant(t, "secure", func(o *Options) { o.Now = func() time.Time { return muchLater } })
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeSignatureExpired)
}

func TestS41_SerialArithmetic(t *testing.T) {
	now := time.Date(2106, 2, 7, 6, 0, 0, 0, time.UTC) // after the 32-bit wrap of 2106-02-07T06:28:15Z
	sig := &dns.RRSIG{
		Inception:  uint32(now.Add(-time.Hour).Unix()),
		Expiration: uint32(now.Add(2 * time.Hour).Unix()), // wraps past 2^32
	}
	inc, exp := sigWindow(sig, now)
	if !inc.Equal(now.Add(-time.Hour)) || !exp.Equal(now.Add(2*time.Hour)) {
		t.Errorf("window %v – %v around %v", inc, exp, now)
	}
}

// S42: signer names are compared label by label, and a signer must be a
// zone apex.
func TestS42_SiblingSignerIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "sibling-signer")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSBogus)
	if !strings.Contains(res.Reason, "not an ancestor") {
		t.Errorf("reason %q", res.Reason)
	}
	if res.Verifications != 0 {
		t.Errorf("%d signatures tried; the signer name alone rules it out", res.Verifications)
	}
}

// The same records pass miekg's RRSIG.Verify, whose signer check is a
// string suffix: the label-aware check is what stops them.
func TestS42_MiekgSuffixCheckWouldAccept(t *testing.T) {
	_, s := kit(t)
	ask := func(name string, qtype uint16) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		q.SetEdns0(udpSize, true)
		resp, err := dns.Exchange(q, s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	keys := ask("example.test.", dns.TypeDNSKEY)
	data := ask("www.badexample.test.", dns.TypeA)
	var rrset []dns.RR
	var sig *dns.RRSIG
	for _, rr := range data.Answer {
		if s, ok := rr.(*dns.RRSIG); ok {
			sig = s
		} else {
			rrset = append(rrset, rr)
		}
	}
	if sig == nil || sig.SignerName != "example.test." {
		t.Fatalf("the variant should be signed by example.test.: %v", sig)
	}
	verified := false
	for _, rr := range keys.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok && sig.Verify(k, rrset) == nil {
			verified = true
		}
	}
	if !verified {
		t.Fatal("miekg's Verify rejects the sibling signature; the variant no longer shows S42")
	}
	if isAtOrBelow("www.badexample.test.", "example.test.") {
		t.Error("isAtOrBelow compares strings, not labels")
	}
}

func TestS42_LabelAwareNames(t *testing.T) {
	for _, c := range []struct {
		name, ancestor string
		want           bool
	}{
		{"example.test.", "example.test.", true},
		{"www.example.test.", "example.test.", true},
		{"WWW.Example.TEST", "example.test.", true},
		{"badexample.test.", "example.test.", false},
		{"www.badexample.test.", "example.test.", false},
		{"a\\.example.test.", "example.test.", false},    // one label "a.example"
		{"x.a\\\\.example.test.", "example.test.", true}, // an escaped backslash, then a real dot
		{"x.bad\\.example.test.", "bad.example.test.", false},
		{"anything.", ".", true},
		{"test.", "example.test.", false},
	} {
		if got := isAtOrBelow(c.name, c.ancestor); got != c.want {
			t.Errorf("isAtOrBelow(%q, %q) = %v", c.name, c.ancestor, got)
		}
	}
}

// rewriting returns a transport that asks the shared hierarchy and lets
// edit change each answer.
func rewriting(t testing.TB, edit func(q, resp *dns.Msg)) Transport {
	_, s := kit(t)
	inner := NewNetTransport(s.Addr(), 2*time.Second, 0)
	return TransportFunc(func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		resp, err := inner.Exchange(ctx, q)
		if err == nil {
			edit(q, resp)
		}
		return resp, err
	})
}

func TestS42_SignerInsideTheZoneIsBogus(t *testing.T) {
	// The RRSIG claims a signer below the zone apex (a name that is not a
	// zone cut): the chain walk finds no DS there.
	tr := rewriting(t, func(q, resp *dns.Msg) {
		for _, rr := range resp.Answer {
			if s, ok := rr.(*dns.RRSIG); ok && q.Question[0].Name == "www.example.test." {
				s.SignerName = "www.example.test."
			}
		}
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, -1)
	if !strings.Contains(res.Reason, "not a zone apex") {
		t.Errorf("reason %q", res.Reason)
	}
}

// S43: DS and DNSKEY rules.
func TestS43_DSMatchingNoKeyIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "ds-matches-no-key")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSKEYMissing)
}

func TestS43_DNSKEYWithoutZoneBitIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "dnskey-no-zone-bit")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeNoZoneKeyBitSet)
}

func TestS43_DNSKEYProtocolNot3IsBogus(t *testing.T) {
	k := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "p.test.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 2, Algorithm: dns.ECDSAP256SHA256}
	priv, err := k.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Ttl: 3600}, Algorithm: k.Algorithm, KeyTag: k.KeyTag(), SignerName: "p.test.",
		Inception: uint32(now.Add(-time.Hour).Unix()), Expiration: uint32(now.Add(time.Hour).Unix())}
	if err := sig.Sign(priv.(crypto.Signer), []dns.RR{k}); err != nil {
		t.Fatal(err)
	}
	lk := &lookup{lim: Limits{}.withDefaults(), now: now}
	v, keys := lk.verifyDNSKEYs("p.test.", []*dns.DNSKEY{k}, []*dns.RRSIG{sig}, []*dns.DS{k.ToDS(dns.SHA256)}, nil)
	if v.status != Bogus || v.ede != dns.ExtendedErrorCodeNoZoneKeyBitSet || keys != nil {
		t.Errorf("protocol 2 key: %v %q", v.status, v.reason)
	}
	// The same key with protocol 3 passes: the test is about the field.
	k.Protocol = 3
	sig.KeyTag = k.KeyTag()
	if err := sig.Sign(priv.(crypto.Signer), []dns.RR{k}); err != nil {
		t.Fatal(err)
	}
	v, keys = lk.verifyDNSKEYs("p.test.", []*dns.DNSKEY{k}, []*dns.RRSIG{sig}, []*dns.DS{k.ToDS(dns.SHA256)}, nil)
	if v.status != Secure || len(keys) != 1 {
		t.Errorf("protocol 3 key: %v %q", v.status, v.reason)
	}
}

// S44: algorithm and digest policy.
func TestS44_DigestDowngradeIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "ds-downgrade")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSKEYMissing)
	if !strings.Contains(res.Reason, "RFC 4509") {
		t.Errorf("reason %q", res.Reason)
	}
}

func TestS44_UnsupportedAlgorithmOnlyIsInsecure(t *testing.T) {
	res, err := lookupVariant(t, "unsupported-algorithm")
	mustStatus(t, res, err, Insecure, dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm)
}

func TestS44_SupportedAlgorithms(t *testing.T) {
	for _, name := range []string{"alg8-rsasha256", "alg10-rsasha512", "alg14-ecdsap384", "alg15-ed25519", "secure"} {
		t.Run(name, func(t *testing.T) {
			res, err := lookupVariant(t, name)
			mustStatus(t, res, err, Secure, -1)
		})
	}
}

// S45: stripped signatures in a signed zone.
func TestS45_StrippedRRSIGIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "stripped-rrsig")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeRRSIGsMissing)
}

func TestS45_StrippedOnTheWayIsBogus(t *testing.T) {
	// An attacker between us and the resolver drops the RRSIGs of a
	// secure answer.
	tr := rewriting(t, func(q, resp *dns.Msg) {
		if q.Question[0].Qtype != dns.TypeSMIMEA {
			return
		}
		var keep []dns.RR
		for _, rr := range resp.Answer {
			if _, ok := rr.(*dns.RRSIG); !ok {
				keep = append(keep, rr)
			}
		}
		resp.Answer = keep
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), testkit.SampleSMIMEA, dns.TypeSMIMEA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeRRSIGsMissing)
}

// S46: denial of existence, end to end through Lookup.
func TestS46_NXDomainAndNoData(t *testing.T) {
	for _, name := range []string{"nxdomain-nsec", "nxdomain-nsec3", "nxdomain-tld", "nsec3-salted-nxdomain",
		"nodata-nsec", "nodata-nsec3", "nodata-ent-nsec", "nodata-ent-nsec3", "wildcard", "wildcard-nodata", "nsec3-wildcard"} {
		t.Run(name, func(t *testing.T) {
			res, err := lookupVariant(t, name)
			mustStatus(t, res, err, Secure, -1)
			if (res.NXDomain || res.NoData) && res.TTL != 300 {
				t.Errorf("negative TTL %d, want the SOA minimum 300", res.TTL)
			}
		})
	}
}

func TestS46_MissingProofIsBogus(t *testing.T) {
	for _, name := range []string{"nsec-missing", "wildcard-proof-missing"} {
		t.Run(name, func(t *testing.T) {
			res, err := lookupVariant(t, name)
			mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeNSECMissing)
		})
	}
}

func TestS46_IncompleteProofIsBogus(t *testing.T) {
	// Drop the NSEC3 record that proves there is no wildcard: the
	// remaining records, all correctly signed, do not prove NXDOMAIN.
	tr := rewriting(t, func(q, resp *dns.Msg) {
		if q.Question[0].Name != "nope.example.test." {
			return
		}
		var nsec3 []string
		for _, rr := range resp.Ns {
			if n, ok := rr.(*dns.NSEC3); ok {
				nsec3 = append(nsec3, n.Hdr.Name)
			}
		}
		if len(nsec3) < 2 {
			t.Errorf("want 2 or 3 NSEC3 records, got %v", nsec3)
			return
		}
		last := nsec3[len(nsec3)-1]
		var keep []dns.RR
		for _, rr := range resp.Ns {
			if rr.Header().Name != last {
				keep = append(keep, rr)
			}
		}
		resp.Ns = keep
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "nope.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeNSECMissing)
}

func TestS46_ForgedNXDomainIsBogus(t *testing.T) {
	// An NXDOMAIN for a name that exists, with the proof of another name.
	tr := rewriting(t, func(q, resp *dns.Msg) {
		if q.Question[0].Name == "www.sub.example.test." {
			m := new(dns.Msg)
			m.SetQuestion("nope.sub.example.test.", dns.TypeA)
			m.SetEdns0(udpSize, true)
			m.CheckingDisabled = true
			other, err := dns.Exchange(m, kitS.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			resp.Rcode, resp.Answer, resp.Ns = dns.RcodeNameError, nil, other.Ns
		}
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "www.sub.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, -1)
}

func TestS46_OptOutAndIterationsAreInsecure(t *testing.T) {
	res, err := lookupVariant(t, "nsec3-opt-out")
	mustStatus(t, res, err, Insecure, -1)
	res, err = lookupVariant(t, "nsec3-500-iterations")
	mustStatus(t, res, err, Insecure, dns.ExtendedErrorCodeUnsupportedNSEC3IterValue)
	if !res.NXDomain {
		t.Error("NXDomain not set")
	}
	res, err = lookupVariant(t, "nsec3-500-iterations-positive")
	mustStatus(t, res, err, Secure, -1)
}

// S47: insecure delegations, and CNAME chains.
func TestS47_InsecureDelegationIsInsecure(t *testing.T) {
	for _, name := range []string{"insecure-delegation", "insecure-delegation-nxdomain", "nsec3-insecure-delegation"} {
		t.Run(name, func(t *testing.T) {
			res, err := lookupVariant(t, name)
			mustStatus(t, res, err, Insecure, -1)
		})
	}
}

func TestS47_BadNoDSSignatureIsBogus(t *testing.T) {
	res, err := lookupVariant(t, "bad-nods-signature")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSBogus)
}

func TestS47_ForgedInsecureDelegationIsBogus(t *testing.T) {
	// Strip the DS (and its RRSIG) from the answer about example.test.
	// and claim NODATA: without a signed proof, the delegation stays
	// secure and the answer below it must be signed.
	tr := rewriting(t, func(q, resp *dns.Msg) {
		if q.Question[0].Name == "example.test." && q.Question[0].Qtype == dns.TypeDS {
			resp.Answer = nil
		}
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeNSECMissing)
}

func TestS47_CNAMEChain(t *testing.T) {
	res, err := lookupVariant(t, "secure-cname")
	mustStatus(t, res, err, Secure, -1)
	if len(res.Chain) != 1 || res.Target != "www.sub.example.test." || len(res.Answer) != 1 {
		t.Errorf("chain %v target %s answer %v", res.Chain, res.Target, res.Answer)
	}
}

func TestS47_CNAMELoopIsAnError(t *testing.T) {
	_, err := lookupVariant(t, "cname-loop")
	var ce *CNAMEError
	if !errors.As(err, &ce) || !ce.Loop {
		t.Fatalf("err %v, want a CNAME loop", err)
	}
}

func TestS47_LongCNAMEChainIsAnError(t *testing.T) {
	_, err := lookupVariant(t, "cname-long")
	var ce *CNAMEError
	if !errors.As(err, &ce) || ce.Loop || len(ce.Chain) != 10 {
		t.Fatalf("err %v, want a chain over 8 links", err)
	}
	// With a higher limit the same chain resolves.
	res, err := lookupVariant(t, "cname-long", func(o *Options) { o.Limits.MaxCNAMEs = 16 })
	mustStatus(t, res, err, Secure, -1)
	if len(res.Chain) != 12 {
		t.Errorf("chain of %d", len(res.Chain))
	}
}

// S48: work limits.
func TestS48_KeyTrapIsBoundedAndBogus(t *testing.T) {
	res, err := lookupVariant(t, "keytrap")
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSBogus)
	if !strings.Contains(res.Reason, "KeyTrap") {
		t.Errorf("reason %q", res.Reason)
	}
	// The chain costs one verification per RRset; the trapped RRset
	// stops at the cap of 8.
	if res.Verifications > 8+8 {
		t.Errorf("%d verifications", res.Verifications)
	}
}

func TestS48_LookupBudgets(t *testing.T) {
	res, err := lookupVariant(t, "secure-smimea-3-zones", func(o *Options) { o.Limits.MaxVerifications = 3 })
	mustStatus(t, res, err, Indeterminate, dns.ExtendedErrorCodeDNSSECIndeterminate)
	if res.Verifications > 3 {
		t.Errorf("%d verifications", res.Verifications)
	}
	res, err = lookupVariant(t, "secure-smimea-3-zones", func(o *Options) { o.Limits.MaxQueries = 4 })
	mustStatus(t, res, err, Indeterminate, dns.ExtendedErrorCodeDNSSECIndeterminate)
	if res.Queries > 4 {
		t.Errorf("%d queries", res.Queries)
	}
	res, err = lookupVariant(t, "nxdomain-nsec3", func(o *Options) { o.Limits.MaxNSEC3HashesPerLookup = 1 })
	mustStatus(t, res, err, Indeterminate, dns.ExtendedErrorCodeDNSSECIndeterminate)
}

func TestLookupRefusesBadQueries(t *testing.T) {
	r := kitResolver(t)
	for _, c := range []struct {
		name  string
		qtype uint16
	}{
		{"", dns.TypeA},
		{"a..b.", dns.TypeA},
		{strings.Repeat("a", 64) + ".test.", dns.TypeA},
		{strings.Repeat("abcdefghi.", 26), dns.TypeA},
		{"example.test.", dns.TypeANY},
		{"example.test.", dns.TypeRRSIG},
		{"example.test.", dns.TypeAXFR},
	} {
		if _, err := r.Lookup(context.Background(), c.name, c.qtype); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("Lookup(%q, %d): %v", c.name, c.qtype, err)
		}
	}
}

func TestLookupCanonicalisesTheName(t *testing.T) {
	r := kitResolver(t)
	res, err := r.Lookup(context.Background(), "WWW.Example.Test", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)
	if res.Name != "www.example.test." {
		t.Errorf("name %q", res.Name)
	}
}

func TestSERVFAILIsIndeterminate(t *testing.T) {
	tr := TransportFunc(func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeServerFailure)
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNoReachableAuthority, ExtraText: "upstream\x07down"})
		m.Extra = append(m.Extra, opt)
		return m, nil
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Indeterminate, dns.ExtendedErrorCodeNoReachableAuthority)
	if strings.ContainsRune(res.Reason, 7) {
		t.Errorf("control character from the network in the reason: %q", res.Reason)
	}
}

func TestQueryErrors(t *testing.T) {
	cases := map[string]func(q *dns.Msg) (*dns.Msg, error){
		"transport": func(q *dns.Msg) (*dns.Msg, error) { return nil, errors.New("no route") },
		"nil":       func(q *dns.Msg) (*dns.Msg, error) { return nil, nil },
		"id": func(q *dns.Msg) (*dns.Msg, error) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Id++
			return m, nil
		},
		"question": func(q *dns.Msg) (*dns.Msg, error) {
			m := new(dns.Msg)
			m.SetReply(q)
			m.Question[0].Name = "other.test."
			return m, nil
		},
		"not a response": func(q *dns.Msg) (*dns.Msg, error) { return q.Copy(), nil },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			r := kitResolver(t, func(o *Options) {
				o.Transport = TransportFunc(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) { return f(q) })
			})
			_, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Name != "www.example.test." {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := kitResolver(t).Lookup(ctx, "www.example.test.", dns.TypeA)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestConcurrentLookups(t *testing.T) {
	h, _ := kit(t)
	r := kitResolver(t)
	vs := h.Variants()
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			for j := range vs {
				v := vs[(i+j)%len(vs)]
				res, err := r.Lookup(context.Background(), v.QName, v.QType)
				if got := ourVerdict(res, err); got != v.Want {
					t.Errorf("%s: %s, want %s", v.Name, got, v.Want)
				}
			}
		}(i)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
}

func TestNewRejectsBadAnchors(t *testing.T) {
	for _, anchors := range [][]dns.RR{
		{},
		{&dns.A{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeA, Class: dns.ClassINET}}},
		{&dns.DNSKEY{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET}, Flags: 1, Protocol: 3, Algorithm: 13, PublicKey: "AAAA"}},
		{nil},
	} {
		if _, err := New(&Options{Server: "127.0.0.1:53", Anchors: anchors}); err == nil {
			t.Errorf("New accepted anchors %v", anchors)
		}
	}
}

func TestS46_ParentNSECCannotDenyChildNames(t *testing.T) {
	// test.'s signed NSEC at the delegation example.test. spans
	// www.example.test. in canonical order; replayed as an NXDOMAIN for
	// that name it must not prove anything below the cut (RFC 6840 §4.1).
	m := new(dns.Msg)
	m.SetQuestion("examplea.test.", dns.TypeA)
	m.SetEdns0(udpSize, true)
	_, s := kit(t)
	other, err := dns.Exchange(m, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rr := range other.Ns {
		if n, ok := rr.(*dns.NSEC); ok && n.Hdr.Name == "example.test." {
			found = true
		}
	}
	if !found {
		t.Fatalf("no NSEC at example.test. in %v", other)
	}
	tr := rewriting(t, func(q, resp *dns.Msg) {
		if q.Question[0].Name == "www.example.test." {
			resp.Rcode, resp.Answer, resp.Ns = dns.RcodeNameError, nil, other.Ns
		}
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeNSECMissing)
}

func TestHandBuiltAnswersDoNotPanic(t *testing.T) {
	// A Transport may build answers by hand: a header type that
	// disagrees with the record's Go type is dropped, not trusted.
	tr := TransportFunc(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetReply(q)
		a := &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}}
		ds := &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: 60}}
		key := &dns.TXT{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 60}}
		m.Answer = []dns.RR{a, ds, key, nil}
		return m, nil
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	if err != nil || res.Status == Secure {
		t.Fatalf("%v %v", res, err)
	}
}

func TestAnchorsOfEitherKindAndAnyZone(t *testing.T) {
	h, s := kit(t)
	both, _ := h.AnchorRRs()
	q := new(dns.Msg)
	q.SetQuestion("example.test.", dns.TypeDS)
	q.SetEdns0(udpSize, true)
	resp, err := dns.Exchange(q, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	var exampleDS []dns.RR
	for _, rr := range resp.Answer {
		if ds, ok := rr.(*dns.DS); ok {
			exampleDS = append(exampleDS, ds)
		}
	}
	for name, anchors := range map[string][]dns.RR{
		"root DS":             {both[0]},
		"root DNSKEY":         {both[1]},
		"example.test. DS":    exampleDS,
		"root and example DS": append([]dns.RR{both[0]}, exampleDS...),
	} {
		t.Run(name, func(t *testing.T) {
			r := kitResolver(t, func(o *Options) { o.Anchors = anchors })
			res, err := r.Lookup(context.Background(), "www.sub.example.test.", dns.TypeA)
			mustStatus(t, res, err, Secure, -1)
		})
	}
	// A root anchor that matches no key makes everything bogus.
	wrong := dns.Copy(both[0]).(*dns.DS)
	wrong.Digest = strings.Repeat("00", 32)
	r := kitResolver(t, func(o *Options) { o.Anchors = []dns.RR{wrong} })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSKEYMissing)
}

// A resolver that does not do DNSSEC (no DNSKEY, no RRSIG for the anchor's
// zone) makes every answer indeterminate, not bogus: nothing says the
// answer was forged, only that it cannot be judged through this resolver.
func TestNonDNSSECResolverIsIndeterminate(t *testing.T) {
	h, _ := kit(t)
	stripping := TransportFunc(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		q2 := q.Copy()
		q2.RecursionDesired = true
		resp := h.Answer(q2).Copy() // the resolver may change what it is given
		resp.Id = q.Id
		keep := func(rrs []dns.RR) []dns.RR {
			var out []dns.RR
			for _, rr := range rrs {
				switch rr.Header().Rrtype {
				case dns.TypeRRSIG, dns.TypeDNSKEY, dns.TypeDS, dns.TypeNSEC, dns.TypeNSEC3:
				default:
					out = append(out, rr)
				}
			}
			return out
		}
		resp.Answer, resp.Ns = keep(resp.Answer), keep(resp.Ns)
		return resp, nil
	})
	r := kitResolver(t, func(o *Options) { o.Transport = stripping })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Indeterminate || !strings.Contains(res.Reason, "does not seem to support DNSSEC") || len(res.Answer) != 0 {
		t.Fatalf("through a DNSSEC-stripping resolver: %v", res)
	}
}
