package dnssec

import (
	"context"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// What the chain walk learns about a name, cached per name.
type factKind int

const (
	// factZone: the name is a zone apex; status says whether its DNSKEY
	// RRset is proven (Secure, keys set), proven unsigned or unsupported
	// (Insecure), or wrong (Bogus).
	factZone factKind = iota
	// factInside: the name is not a zone cut; it belongs to the zone above
	// (a signed NODATA answer to its DS query without the NS bit).
	factInside
	// factAbsent: the name does not exist (a signed NXDOMAIN to its DS
	// query), so neither does anything below it.
	factAbsent
)

type zoneFact struct {
	kind    factKind
	verdict verdict
	keys    []zoneKey // factZone, Secure
}

// bogusTTL is how long a Bogus result (and a name the walk proved absent)
// is remembered, like Unbound's val-bogus-ttl: long enough not to hammer
// the resolver, short enough to recover from a fixed zone. Bogus zone
// facts are not cached at all (storeFact).
const bogusTTL = 60

// factTTL is the cache lifetime of a fact.
func factTTL(v verdict) uint32 {
	if v.status == Bogus {
		return bogusTTL
	}
	return v.ttl
}

// chainResult is where a walk towards a name stopped.
type chainResult struct {
	zone string // the deepest zone apex reached, or where the walk stopped
	fact zoneFact
}

// chainTo walks the chain of trust from the trust anchor that covers
// scope down to target, one label at a time, asking for the DS RRset of
// each name below the last proven zone (RFC 4035 §5: the validator finds
// zone cuts itself). It stops at the first zone that is not Secure, at a
// name proven absent, or at target. Facts are cached, so a warm walk
// costs no query.
//
// scope is the name whose data is being judged (the name asked for, or
// the name a CNAME or DNAME chain has reached); target is an ancestor of
// scope, or scope itself, that the answer names: an RRSIG's signer, the
// owner of a negative answer's SOA, a DNAME's owner. The anchor is the
// deepest one at or above scope, never one chosen by target: with an
// island of security (an anchor below an insecure delegation), a target
// above the island's anchor would otherwise start the walk at a higher
// anchor and find the insecure delegation above the island, letting an
// attacker turn any answer in the island Insecure by naming such a signer
// or SOA. A target above the anchor that covers scope is Bogus. So every
// Insecure fact chainTo returns is a proven insecure delegation (or a DS
// RRset of unsupported algorithms) between that anchor and target, on the
// path from the anchor down to scope.
//
// When it returns a Secure zone fact, zone is the deepest zone apex at or
// above target and every name between zone and target is proven not to be
// a zone cut.
func (lk *lookup) chainTo(ctx context.Context, scope, target string) (chainResult, error) {
	a := lk.r.anchors.closest(scope)
	if a == nil {
		return chainResult{zone: target, fact: zoneFact{verdict: indeterminate(dns.ExtendedErrorCodeDNSSECIndeterminate, "no trust anchor covers %s", scope)}}, nil
	}
	if !isAtOrBelow(scope, target) {
		return chainResult{zone: target, fact: zoneFact{verdict: bogus(dns.ExtendedErrorCodeDNSBogus, "%s is not an ancestor of %s", target, scope)}}, nil
	}
	if !isAtOrBelow(target, a.zone) {
		return chainResult{zone: target, fact: zoneFact{verdict: bogus(dns.ExtendedErrorCodeDNSBogus,
			"the answer for %s points to %s, above the trust anchor %s that covers it", scope, target, a.zone)}}, nil
	}
	cur, ok := lk.fact(a.zone)
	if !ok {
		var err error
		cur, err = lk.fetchKeys(ctx, a.zone, a.ds, a.keys, true)
		if err != nil {
			return chainResult{}, err
		}
		lk.storeFact(a.zone, cur)
	}
	zone := a.zone
	if cur.verdict.status != Secure {
		return chainResult{zone: zone, fact: cur}, nil
	}
	// The names from just below the anchor down to target.
	var path []string
	for n := target; n != a.zone; n = parentName(n) {
		path = append(path, n)
		if n == "." {
			break
		}
	}
	for i := len(path) - 1; i >= 0; i-- {
		n := path[i]
		f, ok := lk.fact(n)
		if !ok {
			var err error
			f, err = lk.probeCut(ctx, n, zone, cur)
			if err != nil {
				return chainResult{}, err
			}
			lk.storeFact(n, f)
		}
		switch {
		case f.kind == factInside:
			continue
		case f.kind == factZone && f.verdict.status == Secure:
			zone, cur = n, f
		default:
			return chainResult{zone: n, fact: f}, nil
		}
	}
	return chainResult{zone: zone, fact: cur}, nil
}

// fact returns the cached fact about name, its TTL aged to the time left
// until the entry expires, so that a result derived from it may be kept
// no longer than the fact itself.
func (lk *lookup) fact(name string) (zoneFact, bool) {
	f, expires, ok := lk.r.facts.get(name, lk.now)
	if !ok {
		return f, false
	}
	f.verdict.ttl = uint32(max(expires.Sub(lk.now)/time.Second, 0))
	return f, true
}

// storeFact caches what a walk learnt about name. Indeterminate facts
// (no verdict) and Bogus zone facts are not kept: a Bogus fact is derived
// from an answer that failed its proof, which anyone on the path can
// forge, and keeping it would let one forged answer deny a whole zone
// after the forger has gone. The Bogus results themselves are kept for
// bogusTTL by Lookup; a proven absence (factAbsent) is a fact like any
// other.
func (lk *lookup) storeFact(name string, f zoneFact) {
	switch {
	case f.verdict.status == Indeterminate:
		return
	case f.verdict.status == Bogus && f.kind != factAbsent:
		return
	}
	ttl := factTTL(f.verdict)
	if ttl == noTTL {
		ttl = lk.r.maxTTL
	}
	lk.r.facts.put(name, f, lk.now, lk.now.Add(time.Duration(min(ttl, lk.r.maxTTL))*time.Second))
}

// probeCut asks for the DS RRset of name, whose closest proven ancestor
// zone is parent, and tells what name is: a signed zone (then its DNSKEY
// RRset is fetched and proven), an insecure delegation, a name inside
// parent, or a name that does not exist.
func (lk *lookup) probeCut(ctx context.Context, name, parent string, pf zoneFact) (zoneFact, error) {
	resp, err := lk.query(ctx, name, dns.TypeDS)
	if err != nil {
		return zoneFact{}, err
	}
	if v, ok := rcodeVerdict(resp, name, dns.TypeDS); !ok {
		return zoneFact{verdict: v}, nil
	}
	m := splitMsg(resp)
	if ds := m.answer[rrKey{name, dns.TypeDS}]; len(ds) > 0 {
		sc := lk.verifyRRset(ds, m.answerSigs[rrKey{name, dns.TypeDS}], parent, pf.keys)
		if sc.status != Secure {
			sc.reason = "DS of " + name + ": " + sc.reason
			return zoneFact{verdict: sc.verdict}, nil
		}
		if _, ok := wildcardEncloser(name, sc.sig); ok {
			// A DS RRset lives at a delegation, which a wildcard cannot
			// synthesise (RFC 4592 §4.2): this is another name's answer.
			return zoneFact{verdict: bogus(dns.ExtendedErrorCodeDNSBogus, "the DS RRset of %s was synthesised from a wildcard (RRSIG labels %d)", name, sc.sig.Labels)}, nil
		}
		dsSet := make([]*dns.DS, 0, len(ds))
		for _, rr := range ds {
			dsSet = append(dsSet, rr.(*dns.DS))
		}
		f, err := lk.fetchKeys(ctx, name, dsSet, nil, false)
		if err != nil {
			return zoneFact{}, err
		}
		f.verdict = combine(f.verdict, sc.verdict)
		return f, nil
	}
	if cn := m.answer[rrKey{name, dns.TypeCNAME}]; len(cn) > 0 {
		// A name with a CNAME cannot be a zone cut (RFC 2181 §10.1).
		sc := lk.verifyRRset(cn, m.answerSigs[rrKey{name, dns.TypeCNAME}], parent, pf.keys)
		if sc.status != Secure {
			sc.reason = "CNAME of " + name + ": " + sc.reason
			return zoneFact{verdict: sc.verdict}, nil
		}
		v := sc.verdict
		if ce, ok := wildcardEncloser(name, sc.sig); ok {
			// Synthesised from a wildcard: it says something about name
			// only with the proof that name itself does not exist, as for
			// any other answer (validatePositive). Without it, it may be
			// the expansion for another name, replayed to hide the DS of
			// a secure delegation.
			wv := lk.wildcardProof(m, name, ce, parent, pf.keys)
			switch wv.status {
			case Secure:
				v = combine(v, wv)
			case Insecure:
				// Opt-out: an unsigned delegation may exist there.
				return zoneFact{verdict: combine(v, wv)}, nil
			default:
				wv.reason = "DS query for " + name + ": " + wv.reason
				return zoneFact{verdict: wv}, nil
			}
		}
		return zoneFact{kind: factInside, verdict: v}, nil
	}
	proof, v := lk.denialRecords(m, parent, pf.keys)
	if v.status != Secure {
		v.reason = "proof of no DS for " + name + ": " + v.reason
		return zoneFact{verdict: v}, nil
	}
	if len(proof) == 0 {
		return zoneFact{verdict: bogus(dns.ExtendedErrorCodeNSECMissing, "no DS for %s and no NSEC or NSEC3 proof from %s that there is none", name, parent)}, nil
	}
	if resp.Rcode == dns.RcodeNameError {
		p := lk.prove(func(l DenialLimits) DenialProof { return ProveNXDomain(name, parent, proof, l) })
		switch p.Status {
		case Secure:
			return zoneFact{kind: factAbsent, verdict: combine(v, bogus(dns.ExtendedErrorCodeDNSBogus, "%s does not exist (proven by %s)", name, parent))}, nil
		case Insecure:
			return zoneFact{verdict: combine(v, insecure(denialEDE(proof), "%s: %s", name, p.Reason))}, nil
		}
		return zoneFact{verdict: bogus(dns.ExtendedErrorCodeNSECMissing, "NXDOMAIN for DS %s not proven: %s", name, p.Reason)}, nil
	}
	p := lk.prove(func(l DenialLimits) DenialProof { return ProveNoDS(name, parent, proof, l) })
	switch p.Status {
	case Secure:
		if p.Delegation {
			return zoneFact{verdict: combine(v, insecure(dns.ExtendedErrorCodeOther, "insecure delegation: %s proves that %s has no DS", parent, name))}, nil
		}
		return zoneFact{kind: factInside, verdict: v}, nil
	case Insecure:
		return zoneFact{verdict: combine(v, insecure(denialEDE(proof), "%s: %s", name, p.Reason))}, nil
	case Indeterminate:
		return zoneFact{verdict: indeterminate(dns.ExtendedErrorCodeDNSSECIndeterminate, "proof of no DS for %s: %s", name, p.Reason)}, nil
	}
	return zoneFact{verdict: bogus(dns.ExtendedErrorCodeNSECMissing, "proof of no DS for %s fails: %s", name, p.Reason)}, nil
}

// fetchKeys asks for the DNSKEY RRset of zone and proves it by dsSet or
// anchorKeys. For the zone of a trust anchor (anchor), an answer with no
// DNSKEY and no signature at all is Indeterminate rather than Bogus: the
// resolver asked does not do DNSSEC (or something on the way strips it),
// which makes every answer unjudgeable, not forged.
func (lk *lookup) fetchKeys(ctx context.Context, zone string, dsSet []*dns.DS, anchorKeys []*dns.DNSKEY, anchor bool) (zoneFact, error) {
	resp, err := lk.query(ctx, zone, dns.TypeDNSKEY)
	if err != nil {
		return zoneFact{}, err
	}
	if v, ok := rcodeVerdict(resp, zone, dns.TypeDNSKEY); !ok {
		if v.status == Bogus || resp.Rcode == dns.RcodeNameError {
			v = bogus(dns.ExtendedErrorCodeDNSKEYMissing, "%s has a DS record but its DNSKEY query gives %s", zone, dns.RcodeToString[resp.Rcode])
		}
		return zoneFact{verdict: v}, nil
	}
	m := splitMsg(resp)
	var keys []*dns.DNSKEY
	for _, rr := range m.answer[rrKey{zone, dns.TypeDNSKEY}] {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	if anchor && len(keys) == 0 && len(m.answerSigs[rrKey{zone, dns.TypeDNSKEY}]) == 0 {
		return zoneFact{verdict: indeterminate(dns.ExtendedErrorCodeDNSKEYMissing,
			"the resolver returned no DNSKEY records for the trust anchor's zone %s: it does not seem to support DNSSEC", zone)}, nil
	}
	v, trusted := lk.verifyDNSKEYs(zone, keys, m.answerSigs[rrKey{zone, dns.TypeDNSKEY}], dsSet, anchorKeys)
	if v.status == Secure {
		if len(trusted) == 0 {
			return zoneFact{verdict: bogus(dns.ExtendedErrorCodeDNSKEYMissing, "no usable DNSKEY in %s", zone)}, nil
		}
	} else if v.status == Bogus {
		v.reason = "DNSKEY of " + zone + ": " + v.reason
	}
	return zoneFact{kind: factZone, verdict: v, keys: trusted}, nil
}

// denialRecords returns the NSEC and NSEC3 records of the authority
// section, each RRset verified against the keys of zone; the SOA RRset, if
// signed, is verified too. Any RRset that fails makes the answer bogus, as
// Unbound does (an attacker must not be able to add a forged proof next to
// a real one). Records of other signers are ignored.
func (lk *lookup) denialRecords(m *splitResp, zone string, keys []zoneKey) ([]dns.RR, verdict) {
	v := secure()
	var proof []dns.RR
	for _, k := range m.authorityOrder {
		if k.t != dns.TypeNSEC && k.t != dns.TypeNSEC3 && k.t != dns.TypeSOA {
			continue
		}
		rrs, sigs := m.authority[k], m.authoritySigs[k]
		if !isAtOrBelow(k.name, zone) {
			continue
		}
		if k.t == dns.TypeSOA && len(sigs) == 0 {
			continue
		}
		sc := lk.verifyRRset(rrs, sigs, zone, keys)
		if sc.status != Secure {
			return nil, sc.verdict
		}
		v = combine(v, sc.verdict)
		if ce, ok := wildcardEncloser(k.name, sc.sig); ok && k.t != dns.TypeSOA {
			// A denial record synthesised from a wildcard goes to the
			// proofs under the wildcard's own name, as they expect.
			wild := "*." + ce
			if ce == "." {
				wild = "*."
			}
			renamed := make([]dns.RR, len(rrs))
			for i, rr := range rrs {
				renamed[i] = dns.Copy(rr)
				renamed[i].Header().Name = wild
			}
			rrs = renamed
		}
		if k.t == dns.TypeSOA {
			if soa, ok := rrs[0].(*dns.SOA); ok {
				v.ttl = min(v.ttl, soa.Minttl)
			}
			continue
		}
		proof = append(proof, rrs...)
	}
	return proof, v
}

// denialEDE classifies an insecure denial: NSEC3 with too many iterations
// (RFC 9276 §3.2: EDE 27) or opt-out (no code).
func denialEDE(proof []dns.RR) uint16 {
	for _, rr := range proof {
		if n, ok := rr.(*dns.NSEC3); ok && n.Flags&1 != 0 {
			return dns.ExtendedErrorCodeOther
		}
	}
	for _, rr := range proof {
		if _, ok := rr.(*dns.NSEC3); ok {
			return dns.ExtendedErrorCodeUnsupportedNSEC3IterValue
		}
	}
	return dns.ExtendedErrorCodeOther
}

// prove runs one denial proof within what is left of the lookup's NSEC3
// hash budget (S48, CVE-2023-50868) and charges what it used.
func (lk *lookup) prove(proof func(DenialLimits) DenialProof) DenialProof {
	left := lk.lim.MaxNSEC3HashesPerLookup - lk.nsec3Hashes
	if left <= 0 {
		return DenialProof{Status: Indeterminate, Reason: "work limit: " + strconv.Itoa(lk.lim.MaxNSEC3HashesPerLookup) + " NSEC3 hashes in one lookup"}
	}
	perProof := lk.lim.MaxNSEC3Hashes
	if perProof <= 0 {
		perProof = DefaultMaxNSEC3Hashes
	}
	p := proof(DenialLimits{MaxNSEC3Iterations: lk.lim.MaxNSEC3Iterations, MaxNSEC3Hashes: min(perProof, left)})
	lk.nsec3Hashes += p.NSEC3Hashes
	return p
}
