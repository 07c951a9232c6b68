package dnssec

// Tests from the security review of the chain walk: trust anchors chosen
// by the question, not by names the answer supplies (islands of
// security); wildcard answers to the DS probes of the walk; the age of
// cached zone facts.

import (
	"context"
	"crypto"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/securemail/securemail/internal/testkit"
)

// islandResolver serves root -> test. -> ins.test. (unsigned, proven
// insecure) -> isl.ins.test. (signed), and evil.test. (unsigned) beside
// them, and trusts the root anchor plus the DNSKEY of isl.ins.test. (an
// island of security), with edit applied to every answer.
func islandResolver(t *testing.T, edit func(q, resp *dns.Msg)) *Resolver {
	t.Helper()
	h, err := testkit.New(&testkit.Options{NoVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range []struct {
		name string
		cfg  *testkit.ZoneConfig
	}{
		{"ins.test.", &testkit.ZoneConfig{Unsigned: true}},
		{"isl.ins.test.", nil},
		{"evil.test.", &testkit.ZoneConfig{Unsigned: true}},
	} {
		if _, err := h.AddZone(z.name, z.cfg); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.AddText("www.isl.ins.test. A 192.0.2.1\nwww.ins.test. A 192.0.2.2\nwww.isl.evil.test. A 192.0.2.66\n"); err != nil {
		t.Fatal(err)
	}
	s, err := h.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	anchors, err := h.AnchorRRs()
	if err != nil {
		t.Fatal(err)
	}
	inner := NewNetTransport(s.Addr(), 2*time.Second, 0)
	q := new(dns.Msg)
	q.SetQuestion("isl.ins.test.", dns.TypeDNSKEY)
	q.SetEdns0(4096, true)
	resp, err := inner.Exchange(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range resp.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			anchors = append(anchors, k)
		}
	}
	now := h.Now()
	r, err := New(&Options{Anchors: anchors, Now: func() time.Time { return now },
		Transport: TransportFunc(func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
			resp, err := inner.Exchange(ctx, q)
			if err == nil && edit != nil {
				edit(q, resp)
			}
			return resp, err
		})})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// isQuestion reports whether q asks for name/qtype.
func isQuestion(q *dns.Msg, name string, qtype uint16) bool {
	return q.Question[0].Name == name && q.Question[0].Qtype == qtype
}

// S40 baseline: the island validates, and the insecure zone above it is
// insecure.
func TestS40_IslandOfSecurityValidates(t *testing.T) {
	r := islandResolver(t, nil)
	ctx := context.Background()
	res, err := r.Lookup(ctx, "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)
	res, err = r.Lookup(ctx, "nope.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)
	if !res.NXDomain {
		t.Errorf("nope.isl.ins.test.: %v", res)
	}
	res, err = r.Lookup(ctx, "www.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Insecure, -1)
	res, err = r.Lookup(ctx, "nope.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Insecure, -1)
}

// S40: a forged A record in the island, its real RRSIG left in place,
// plus a junk RRSIG naming the insecure ancestor ins.test. as signer. The
// island's anchor covers the name, so the walk must not start at the root
// anchor because of the signer's name and stop at ins.test.'s insecure
// delegation: Bogus, never Insecure with the forged data.
func TestS40_IslandAnchorForgedSignerAboveAnchorIsBogus(t *testing.T) {
	r := islandResolver(t, func(q, resp *dns.Msg) {
		if !isQuestion(q, "www.isl.ins.test.", dns.TypeA) {
			return
		}
		var junk *dns.RRSIG
		for _, rr := range resp.Answer {
			switch x := rr.(type) {
			case *dns.A:
				x.A = net.IPv4(6, 6, 6, 6)
			case *dns.RRSIG:
				junk = dns.Copy(x).(*dns.RRSIG)
			}
		}
		junk.SignerName = "ins.test."
		resp.Answer = append([]dns.RR{junk}, resp.Answer...)
	})
	res, err := r.Lookup(context.Background(), "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSBogus)
}

// S40, S45: the real answer with junk RRSIGs beside its own, naming
// signers above the anchor, is still Secure (such a signer is one more
// unusable RRSIG, never tried, like a non-ancestor's), and the data
// without its RRSIG is Bogus.
func TestS40_IslandAnchorJunkSignerBesideRealOne(t *testing.T) {
	r := islandResolver(t, func(q, resp *dns.Msg) {
		if !isQuestion(q, "www.isl.ins.test.", dns.TypeA) {
			return
		}
		for _, rr := range resp.Answer {
			if s, ok := rr.(*dns.RRSIG); ok {
				var junk []dns.RR
				for _, signer := range []string{"ins.test.", "test.", "."} {
					j := dns.Copy(s).(*dns.RRSIG)
					j.SignerName = signer
					junk = append(junk, j)
				}
				resp.Answer = append(junk, resp.Answer...)
				break
			}
		}
	})
	res, err := r.Lookup(context.Background(), "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)

	r = islandResolver(t, func(q, resp *dns.Msg) {
		if isQuestion(q, "www.isl.ins.test.", dns.TypeA) {
			var keep []dns.RR
			for _, rr := range resp.Answer {
				if _, ok := rr.(*dns.RRSIG); !ok {
					keep = append(keep, rr)
				}
			}
			resp.Answer = keep
		}
	})
	res, err = r.Lookup(context.Background(), "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeRRSIGsMissing)
}

// S46: an unsigned NXDOMAIN for a name in the island whose SOA is that of
// the insecure ancestor: the SOA owner must not choose the anchor; Bogus.
func TestS46_IslandUnsignedNXDomainWithAncestorSOAIsBogus(t *testing.T) {
	r := islandResolver(t, func(q, resp *dns.Msg) {
		if !isQuestion(q, "www.isl.ins.test.", dns.TypeA) {
			return
		}
		resp.Rcode = dns.RcodeNameError
		resp.Answer = nil
		resp.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "ins.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
			Ns: "ns1.ins.test.", Mbox: "h.ins.test.", Serial: 1, Refresh: 1, Retry: 1, Expire: 1, Minttl: 300}}
	})
	res, err := r.Lookup(context.Background(), "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSBogus)
	if !strings.Contains(res.Reason, "above the trust anchor isl.ins.test.") {
		t.Errorf("reason %q", res.Reason)
	}
}

// S46: the same NXDOMAIN with a denial record whose RRSIG names the
// insecure ancestor as signer: the signer of the proof must not choose
// the anchor either; Bogus.
func TestS46_IslandDenialSignerAboveAnchorIsBogus(t *testing.T) {
	r := islandResolver(t, func(q, resp *dns.Msg) {
		if !isQuestion(q, "www.isl.ins.test.", dns.TypeA) {
			return
		}
		var sig *dns.RRSIG
		for _, rr := range resp.Answer {
			if s, ok := rr.(*dns.RRSIG); ok {
				sig = dns.Copy(s).(*dns.RRSIG)
			}
		}
		nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: "isl.ins.test.", Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: 300},
			NextDomain: "zzz.isl.ins.test.", TypeBitMap: []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY}}
		sig.Hdr.Name, sig.TypeCovered, sig.Labels, sig.SignerName = "isl.ins.test.", dns.TypeNSEC, 3, "ins.test."
		resp.Rcode = dns.RcodeNameError
		resp.Answer = nil
		resp.Ns = []dns.RR{nsec, sig}
	})
	res, err := r.Lookup(context.Background(), "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSBogus)
}

// S47: an unsigned DNAME at the insecure ancestor ins.test., redirecting
// the island's names into another insecure zone where the forger's data
// waits. The DNAME is part of the answer for www.isl.ins.test., which the
// island's anchor covers: Bogus, not an Insecure redirect.
func TestS47_IslandDNAMEAboveAnchorIsBogus(t *testing.T) {
	r := islandResolver(t, func(q, resp *dns.Msg) {
		if !isQuestion(q, "www.isl.ins.test.", dns.TypeA) {
			return
		}
		resp.Rcode = dns.RcodeSuccess
		resp.Answer = []dns.RR{&dns.DNAME{Hdr: dns.RR_Header{Name: "ins.test.", Rrtype: dns.TypeDNAME, Class: dns.ClassINET, Ttl: 300}, Target: "evil.test."}}
		resp.Ns = nil
	})
	res, err := r.Lookup(context.Background(), "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeDNSBogus)
}

// S41: a zone fact (proven DNSKEY set) read from the cache has aged: a
// result computed just before the fact expires may be kept only until
// then, not for the fact's full TTL again, past the DNSKEY RRset's own
// lifetime (and, with a short signature window, past its RRSIG's
// expiration, RFC 4035 §5.3.3).
func TestS41_CachedZoneKeysAgeTheirTTL(t *testing.T) {
	h, _ := kit(t)
	t0 := h.Now()
	now := t0
	r := kitResolver(t, func(o *Options) { o.Now = func() time.Time { return now } })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)
	// example.test's DNSKEY/DS were proven at t0 with TTL 7200. Just
	// before they expire, ask for another name in the zone.
	now = t0.Add(7100 * time.Second)
	res, err = r.Lookup(context.Background(), "mail.example.test.", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)
	if res.TTL > 100 || res.Queries != 1 {
		t.Errorf("result relies on keys proven at t0 (TTL 7200, 100 s left) but may be cached for %d s (%d queries)", res.TTL, res.Queries)
	}
}

// S47: likewise for a cached insecure delegation: its proof (NSEC, TTL
// 300) read 250 s later has 50 s left, and so has what rests on it.
func TestS47_CachedInsecureDelegationAgesItsTTL(t *testing.T) {
	h, _ := kit(t)
	t0 := h.Now()
	now := t0
	r := kitResolver(t, func(o *Options) { o.Now = func() time.Time { return now } })
	res, err := r.Lookup(context.Background(), "www.unsigned.test.", dns.TypeA)
	mustStatus(t, res, err, Insecure, -1)
	now = t0.Add(250 * time.Second)
	res, err = r.Lookup(context.Background(), "www.unsigned.test.", dns.TypeAAAA)
	mustStatus(t, res, err, Insecure, -1)
	if res.TTL > 50 {
		t.Errorf("result relies on a no-DS proof with 50 s left but may be cached for %d s", res.TTL)
	}
}

// wildcardReplay serves a hierarchy with the secure delegation
// child.example.test. and the records of extra, and, while *attack is
// set, answers the DS query for child.example.test. with the wildcard
// expansion of qtype at nothere.example.test. renamed (with its denial
// proof when keepProof).
func wildcardReplay(t *testing.T, extra string, qtype uint16, keepProof bool, attack *bool) (tr, clean Transport, anchors []dns.RR, now time.Time) {
	t.Helper()
	h, err := testkit.New(&testkit.Options{NoVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.AddZone("child.example.test.", nil); err != nil {
		t.Fatal(err)
	}
	if err := h.AddText(extra + "www.child.example.test. A 192.0.2.7\n"); err != nil {
		t.Fatal(err)
	}
	s, err := h.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	anchors, _ = h.AnchorRRs()
	inner := NewNetTransport(s.Addr(), 2*time.Second, 0)
	tr = TransportFunc(func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		if *attack && isQuestion(q, "child.example.test.", dns.TypeDS) {
			// The expansion of the wildcard for a name that does not exist.
			w := q.Copy()
			w.Question[0].Name, w.Question[0].Qtype = "nothere.example.test.", qtype
			resp, err := inner.Exchange(ctx, w)
			if err != nil {
				return nil, err
			}
			var ans []dns.RR
			for _, rr := range resp.Answer {
				if rr.Header().Name == "nothere.example.test." {
					rr.Header().Name = "child.example.test."
					ans = append(ans, rr)
				}
			}
			if len(ans) == 0 {
				t.Fatalf("no wildcard expansion: %v", resp)
			}
			resp.Answer = ans
			if !keepProof {
				resp.Ns = nil
			}
			resp.Question = q.Question
			resp.Id = q.Id
			return resp, nil
		}
		return inner.Exchange(ctx, q)
	})
	return tr, inner, anchors, h.Now()
}

// S47: a wildcard CNAME expansion replayed as the answer to the
// walk's DS query for a secure delegation must not make it "not a zone
// cut" (validatePositive's wildcard proof applies there too), and what
// the walk learns from the forged answer must not outlive the attack.
func TestS47_ProbeCutWildcardCNAMEDoesNotPoisonTheCut(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		qtype       uint16
		keepProof   bool
	}{
		{"CNAME without proof", "*.example.test. CNAME www.example.test.\n", dns.TypeCNAME, false},
		{"CNAME with the expansion's proof", "*.example.test. CNAME www.example.test.\n", dns.TypeCNAME, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attack := true
			tr, clean, anchors, now := wildcardReplay(t, tc.extra, tc.qtype, tc.keepProof, &attack)
			r, err := New(&Options{Anchors: anchors, Now: func() time.Time { return now }, Transport: tr})
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Lookup(context.Background(), "www.child.example.test.", dns.TypeA)
			mustStatus(t, res, err, Bogus, -1)
			attack = false
			res, err = r.Lookup(context.Background(), "other.child.example.test.", dns.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			r2, _ := New(&Options{Anchors: anchors, Now: func() time.Time { return now }, Transport: clean})
			res2, err := r2.Lookup(context.Background(), "other.child.example.test.", dns.TypeA)
			mustStatus(t, res2, err, Secure, -1)
			if res.Status != res2.Status {
				t.Errorf("a wildcard expansion replayed as a DS answer poisoned the cut: %v after the attack, %v without it", res, res2)
			}
		})
	}
}

// S47: a forged answer on the walk (the DS RRset of example.test.
// stripped of its RRSIG) makes the lookup under attack Bogus; once the
// forger has gone, the next lookup in the zone is judged afresh, not by a
// fact learnt from the forgery.
func TestS47_ForgedChainAnswerDoesNotOutliveTheAttack(t *testing.T) {
	attack := true
	tr := rewriting(t, func(q, resp *dns.Msg) {
		if attack && isQuestion(q, "example.test.", dns.TypeDS) {
			var keep []dns.RR
			for _, rr := range resp.Answer {
				if _, ok := rr.(*dns.RRSIG); !ok {
					keep = append(keep, rr)
				}
			}
			resp.Answer = keep
		}
	})
	r := kitResolver(t, func(o *Options) { o.Transport = tr })
	res, err := r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, dns.ExtendedErrorCodeRRSIGsMissing)
	attack = false
	res, err = r.Lookup(context.Background(), "mail.example.test.", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)
	// The bogus result itself is still kept for its minute.
	res, err = r.Lookup(context.Background(), "www.example.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, -1)
	if !res.Cached {
		t.Error("bogus result not cached")
	}
}

// S47: a DS RRset synthesised from a wildcard (its RRSIG counts fewer
// labels than its owner; a real DS RRset lives at a delegation, never at
// a wildcard) is refused by the walk's DS probe: the child's keys are not
// even asked for. The testkit cannot serve a wildcard DS, so the probe is
// driven directly, with a key made here as the parent's.
func TestS47_ProbeCutRefusesWildcardDS(t *testing.T) {
	now := time.Now()
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: "example.test.", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := key.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	ds := &dns.DS{Hdr: dns.RR_Header{Name: "*.example.test.", Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: 3600},
		KeyTag: 1, Algorithm: dns.ECDSAP256SHA256, DigestType: dns.SHA256, Digest: strings.Repeat("AB", 32)}
	sig := &dns.RRSIG{KeyTag: key.KeyTag(), SignerName: "example.test.", Algorithm: dns.ECDSAP256SHA256,
		Inception: uint32(now.Add(-time.Hour).Unix()), Expiration: uint32(now.Add(time.Hour).Unix())}
	if err := sig.Sign(priv.(crypto.Signer), []dns.RR{ds}); err != nil {
		t.Fatal(err)
	}
	// The expansion for child.example.test.
	ds.Hdr.Name, sig.Hdr.Name = "child.example.test.", "child.example.test."
	if err := sig.Verify(key, []dns.RR{ds}); err != nil {
		t.Fatalf("the expansion does not verify: %v", err)
	}
	var asked []string
	tr := TransportFunc(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		asked = append(asked, q.Question[0].Name+" "+typeName(q.Question[0].Qtype))
		m := new(dns.Msg)
		m.SetReply(q)
		if isQuestion(q, "child.example.test.", dns.TypeDS) {
			m.Answer = []dns.RR{ds, sig}
		}
		return m, nil
	})
	r, err := New(&Options{Transport: tr, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	lk := &lookup{r: r, lim: r.lim, now: now}
	parent := zoneFact{kind: factZone, verdict: secure(), keys: []zoneKey{{key: key, tag: key.KeyTag()}}}
	f, err := lk.probeCut(context.Background(), "child.example.test.", "example.test.", parent)
	if err != nil {
		t.Fatal(err)
	}
	if f.verdict.status != Bogus || !strings.Contains(f.verdict.reason, "wildcard") {
		t.Errorf("wildcard DS: %v %q", f.verdict.status, f.verdict.reason)
	}
	if len(asked) != 1 {
		t.Errorf("queries %v: the wildcard DS was used", asked)
	}
}

// S47: a DS RRset (or its absence) lives on the parent side of a cut, so
// it is judged under the anchor that covers the parent: the DS query for
// an island's apex is answered by the insecure zone above it (Insecure,
// not Bogus), and with an anchor for example.test. alone nothing covers
// the DS RRset of example.test. itself.
func TestS47_DSIsJudgedOnTheParentSide(t *testing.T) {
	ctx := context.Background()
	r := islandResolver(t, nil)
	res, err := r.Lookup(ctx, "isl.ins.test.", dns.TypeDS)
	mustStatus(t, res, err, Insecure, -1)
	res, err = r.Lookup(ctx, "www.isl.ins.test.", dns.TypeDS)
	mustStatus(t, res, err, Secure, -1)
	if !res.NoData {
		t.Errorf("www.isl.ins.test. DS: %v", res)
	}
	// A forged DS RRset for the island's apex, unsigned as the insecure
	// parent would serve it, is at worst Insecure: it cannot touch the
	// island, whose keys come from its anchor.
	r = islandResolver(t, func(q, resp *dns.Msg) {
		if isQuestion(q, "isl.ins.test.", dns.TypeDS) {
			resp.Ns = nil
			resp.Answer = []dns.RR{&dns.DS{Hdr: dns.RR_Header{Name: "isl.ins.test.", Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: 300},
				KeyTag: 1, Algorithm: dns.ECDSAP256SHA256, DigestType: dns.SHA256, Digest: strings.Repeat("AB", 32)}}
		}
	})
	res, err = r.Lookup(ctx, "isl.ins.test.", dns.TypeDS)
	mustStatus(t, res, err, Insecure, -1)
	res, err = r.Lookup(ctx, "www.isl.ins.test.", dns.TypeA)
	mustStatus(t, res, err, Secure, -1)

	res, err = kitResolver(t).Lookup(ctx, "example.test.", dns.TypeDS)
	mustStatus(t, res, err, Secure, -1)
	if len(res.Answer) == 0 {
		t.Errorf("example.test. DS: %v", res)
	}

	_, s := kit(t)
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
	r = kitResolver(t, func(o *Options) { o.Anchors = exampleDS })
	res, err = r.Lookup(ctx, "example.test.", dns.TypeDS)
	mustStatus(t, res, err, Indeterminate, dns.ExtendedErrorCodeDNSSECIndeterminate)
	res, err = r.Lookup(ctx, "sub.example.test.", dns.TypeDS)
	mustStatus(t, res, err, Secure, -1)
}
