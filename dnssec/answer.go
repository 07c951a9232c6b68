package dnssec

import (
	"context"
	"strings"

	"github.com/miekg/dns"
)

// run answers qname/qtype: it asks, judges each link of the CNAME/DNAME
// chain in turn (reusing the answer while it covers the next name, asking
// again when it does not), and judges the end of the chain: an RRset, or a
// proof that there is none.
func (lk *lookup) run(ctx context.Context, qname string, qtype uint16) (*Result, error) {
	res := &Result{Name: qname, Type: qtype}
	total := secure()
	name := qname
	visited := []string{qname}
	var resp *dns.Msg
	var m *splitResp
	for {
		if resp == nil {
			var err error
			if resp, err = lk.query(ctx, name, qtype); err != nil {
				return nil, err
			}
			res.Rcode = resp.Rcode
			if v, ok := rcodeVerdict(resp, name, qtype); !ok {
				total = combine(total, v)
				break
			}
			m = splitMsg(resp)
		}
		st, err := lk.step(ctx, resp, m, name, qtype)
		if err != nil {
			return nil, err
		}
		total = combine(total, st.verdict)
		if st.next == "" || badness(total.status) >= badness(Indeterminate) {
			res.Answer, res.NXDomain, res.NoData = st.answer, st.nxdomain, st.nodata
			if st.nxdomain {
				res.Rcode = dns.RcodeNameError
			} else {
				res.Rcode = dns.RcodeSuccess
			}
			break
		}
		res.Chain = append(res.Chain, st.link)
		for _, v := range visited {
			if v == st.next {
				return nil, &CNAMEError{Name: qname, Chain: append(visited, st.next), Loop: true}
			}
		}
		visited = append(visited, st.next)
		if len(res.Chain) > lk.lim.MaxCNAMEs {
			return nil, &CNAMEError{Name: qname, Chain: visited}
		}
		name = st.next
		if !m.mentions(name) {
			resp = nil
		}
	}
	res.Target = name
	res.Status, res.Reason, res.EDE = total.status, total.reason, total.ede
	if res.Status == Secure {
		res.Reason, res.EDE = "", 0
	}
	ttl := total.ttl
	for _, rr := range res.Answer {
		ttl = min(ttl, rr.Header().Ttl)
	}
	for _, rr := range res.Chain {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if ttl == noTTL {
		ttl = 0
	}
	res.TTL = ttl
	if res.Status == Bogus || res.Status == Indeterminate {
		// Never used (S40): the data goes with the verdict.
		res.Answer, res.Chain = nil, nil
	}
	return res, nil
}

// stepResult is the judgement of one name of the chain within one answer.
type stepResult struct {
	verdict
	answer   []dns.RR // the RRset of qtype, at the end of the chain
	link     dns.RR   // the CNAME or DNAME followed
	next     string   // where it leads, or "" at the end of the chain
	nxdomain bool
	nodata   bool
}

// judgedUnder returns the name whose trust anchor judges the RRset of
// qtype at name, or its absence: name itself, except for DS, which lives
// on the parent side of the cut (RFC 4035 §2.4, §5.2). The DS RRset of an
// island's apex is the insecure parent's to publish or deny, not the
// island's.
func judgedUnder(name string, qtype uint16) string {
	if qtype == dns.TypeDS && name != "." {
		return parentName(name)
	}
	return name
}

func (lk *lookup) step(ctx context.Context, resp *dns.Msg, m *splitResp, name string, qtype uint16) (stepResult, error) {
	scope := judgedUnder(name, qtype)
	if rrs := m.answer[rrKey{name, qtype}]; len(rrs) > 0 {
		v, err := lk.validatePositive(ctx, m, scope, name, qtype, rrs)
		return stepResult{verdict: v, answer: rrs}, err
	}
	if qtype != dns.TypeCNAME {
		if cn := m.answer[rrKey{name, dns.TypeCNAME}]; len(cn) > 0 {
			if len(cn) != 1 {
				return stepResult{verdict: bogus(dns.ExtendedErrorCodeDNSBogus, "%s has %d CNAME records", name, len(cn))}, nil
			}
			v, err := lk.validatePositive(ctx, m, name, name, dns.TypeCNAME, cn)
			target := canonicalName(cn[0].(*dns.CNAME).Target)
			return stepResult{verdict: v, link: cn[0], next: target}, err
		}
	}
	// A DNAME above name redirects its whole subtree (RFC 6672 §2.2); the
	// CNAME synthesised from it is unsigned and not used. It is judged
	// under the trust anchor of name, not of its own owner: a DNAME above
	// the anchor that covers name (an island of security) is Bogus, not
	// Insecure for want of a signed zone above the island.
	for _, k := range m.answerOrder {
		if k.t != dns.TypeDNAME || k.name == name || !isAtOrBelow(name, k.name) {
			continue
		}
		d := m.answer[k]
		if len(d) != 1 {
			return stepResult{verdict: bogus(dns.ExtendedErrorCodeDNSBogus, "%s has %d DNAME records", k.name, len(d))}, nil
		}
		v, err := lk.validatePositive(ctx, m, name, k.name, dns.TypeDNAME, d)
		if err != nil {
			return stepResult{}, err
		}
		prefix := strings.TrimSuffix(name, k.name)
		target := canonicalName(prefix + dns.Fqdn(d[0].(*dns.DNAME).Target))
		if d[0].(*dns.DNAME).Target == "." {
			target = canonicalName(strings.TrimSuffix(prefix, "."))
		}
		if !validName(target) {
			return stepResult{verdict: combine(v, bogus(dns.ExtendedErrorCodeDNSBogus, "DNAME %s makes %s too long", k.name, name))}, nil
		}
		return stepResult{verdict: v, link: d[0], next: target}, nil
	}
	nx := resp.Rcode == dns.RcodeNameError
	v, err := lk.validateNegative(ctx, m, scope, name, qtype, nx)
	return stepResult{verdict: v, nxdomain: nx, nodata: !nx}, err
}

// maxSigners bounds how many distinct signer names of one RRset (each an
// ancestor of its owner) are followed: each costs a walk down the chain of
// trust. Unbound follows only the first.
const maxSigners = 2

// validatePositive judges the RRset rrs of type qtype at owner, in the
// answer for scope: owner itself, the name a DNAME at owner redirects, or
// the parent of a DS RRset's owner (judgedUnder). The chain of trust is
// walked from the anchor that covers scope (chainTo), so no signer name
// can move the judgement under another anchor.
func (lk *lookup) validatePositive(ctx context.Context, m *splitResp, scope, owner string, qtype uint16, rrs []dns.RR) (verdict, error) {
	sigs := m.answerSigs[rrKey{owner, qtype}]
	if len(sigs) == 0 {
		hint := owner
		if !isAtOrBelow(scope, owner) {
			hint = scope // a DS RRset: its zone is at or above scope
		}
		return lk.unsigned(ctx, scope, hint, "the answer for "+owner)
	}
	fail := bogus(dns.ExtendedErrorCodeDNSBogus, "no usable RRSIG over %s %s", owner, typeName(qtype))
	var signers []string
	tried := 0
	for _, sig := range sigs {
		s := canonicalName(sig.SignerName)
		seen := false
		for _, x := range signers {
			seen = seen || x == s
		}
		if seen {
			continue
		}
		signers = append(signers, s)
		if !isAtOrBelow(owner, s) {
			// S42: a signer that is not the owner's zone or an ancestor,
			// like "example.test." signing "www.badexample.test.", is
			// never tried, whatever miekg's suffix check would say.
			fail = bogus(dns.ExtendedErrorCodeDNSBogus, "RRSIG over %s %s names signer %s, which is not an ancestor of the owner", owner, typeName(qtype), s)
			continue
		}
		if a := lk.r.anchors.closest(scope); a != nil && !isAtOrBelow(s, a.zone) {
			// Nor is a signer above the trust anchor that covers scope
			// (an island's insecure ancestor): no walk from that anchor
			// reaches it, and no other anchor judges scope (chainTo).
			fail = bogus(dns.ExtendedErrorCodeDNSBogus, "RRSIG over %s %s names signer %s, above the trust anchor %s that covers %s", owner, typeName(qtype), s, a.zone, scope)
			continue
		}
		if tried++; tried > maxSigners {
			break
		}
		cr, err := lk.chainTo(ctx, scope, s)
		if err != nil {
			return verdict{}, err
		}
		f := cr.fact
		switch {
		case f.verdict.status == Insecure:
			// An insecure delegation between the anchor that covers
			// scope and the signer, so above owner: nothing vouches for
			// the data, whatever its signatures.
			return f.verdict, nil
		case f.kind != factZone || f.verdict.status != Secure:
			fail = f.verdict
			if f.verdict.status == Secure {
				fail = bogus(dns.ExtendedErrorCodeDNSBogus, "RRSIG over %s %s names signer %s, which is not a zone apex", owner, typeName(qtype), s)
			}
			continue
		case cr.zone != s:
			fail = bogus(dns.ExtendedErrorCodeDNSBogus, "RRSIG over %s %s names signer %s, which is not a zone apex (it lies in %s)", owner, typeName(qtype), s, cr.zone)
			continue
		}
		var mine []*dns.RRSIG
		for _, sig := range sigs {
			if canonicalName(sig.SignerName) == s {
				mine = append(mine, sig)
			}
		}
		sc := lk.verifyRRset(rrs, mine, s, f.keys)
		if sc.status != Secure {
			fail = sc.verdict
			continue
		}
		v := combine(f.verdict, sc.verdict)
		if ce, ok := wildcardEncloser(owner, sc.sig); ok {
			v = combine(v, lk.wildcardProof(m, owner, ce, s, f.keys))
		}
		return v, nil
	}
	return fail, nil
}

// wildcardProof judges an answer synthesised from the wildcard at
// *.encloser: the authority section must prove that owner itself does not
// exist (RFC 4035 §5.3.4, RFC 5155 §8.8).
func (lk *lookup) wildcardProof(m *splitResp, owner, encloser, zone string, keys []zoneKey) verdict {
	proof, v := lk.denialRecords(m, zone, keys)
	if v.status != Secure {
		return v
	}
	if len(proof) == 0 {
		return bogus(dns.ExtendedErrorCodeNSECMissing, "%s was synthesised from the wildcard *.%s without a proof that %s does not exist", owner, encloser, owner)
	}
	p := lk.prove(func(l DenialLimits) DenialProof { return ProveWildcardAnswer(owner, encloser, zone, proof, l) })
	return combine(v, proofVerdict(p, proof, "wildcard answer for "+owner))
}

// validateNegative judges an NXDOMAIN (nx) or NODATA answer for
// name/qtype by the NSEC or NSEC3 records of the authority section, under
// the trust anchor of scope (judgedUnder): the signer of the proof and
// the SOA owner only say where the walk from that anchor goes.
func (lk *lookup) validateNegative(ctx context.Context, m *splitResp, scope, name string, qtype uint16, nx bool) (verdict, error) {
	what := "NODATA for " + name + " " + typeName(qtype)
	if nx {
		what = "NXDOMAIN for " + name
	}
	signer, soa := "", ""
	for _, k := range m.authorityOrder {
		switch k.t {
		case dns.TypeSOA:
			if soa == "" && isAtOrBelow(scope, k.name) {
				soa = k.name
			}
		case dns.TypeNSEC, dns.TypeNSEC3:
		default:
			continue
		}
		for _, sig := range m.authoritySigs[k] {
			if s := canonicalName(sig.SignerName); signer == "" && isAtOrBelow(name, s) {
				signer = s
			}
		}
	}
	if signer == "" {
		hint := scope
		if soa != "" {
			hint = soa
		}
		v, err := lk.unsigned(ctx, scope, hint, "the negative answer for "+name)
		if v.status == Bogus && v.ede == dns.ExtendedErrorCodeRRSIGsMissing {
			v = bogus(dns.ExtendedErrorCodeNSECMissing, "%s comes without NSEC or NSEC3 proof, but the zone is signed", what)
		}
		return v, err
	}
	cr, err := lk.chainTo(ctx, scope, signer)
	if err != nil {
		return verdict{}, err
	}
	f := cr.fact
	switch {
	case f.verdict.status == Insecure:
		return f.verdict, nil
	case f.kind != factZone || f.verdict.status != Secure:
		if f.verdict.status == Secure {
			return bogus(dns.ExtendedErrorCodeDNSBogus, "the proof of %s names signer %s, which is not a zone apex", what, signer), nil
		}
		return f.verdict, nil
	case cr.zone != signer:
		return bogus(dns.ExtendedErrorCodeDNSBogus, "the proof of %s names signer %s, which is not a zone apex (it lies in %s)", what, signer, cr.zone), nil
	}
	proof, v := lk.denialRecords(m, signer, f.keys)
	if v.status != Secure {
		v.reason = what + ": " + v.reason
		return v, nil
	}
	if len(proof) == 0 {
		return bogus(dns.ExtendedErrorCodeNSECMissing, "%s comes without NSEC or NSEC3 proof", what), nil
	}
	p := lk.prove(func(l DenialLimits) DenialProof {
		if nx {
			return ProveNXDomain(name, signer, proof, l)
		}
		return ProveNoData(name, qtype, signer, proof, l)
	})
	return combine(combine(f.verdict, v), proofVerdict(p, proof, what)), nil
}

// proofVerdict turns a denial proof into a verdict.
func proofVerdict(p DenialProof, proof []dns.RR, what string) verdict {
	switch p.Status {
	case Secure:
		return secure()
	case Insecure:
		return insecure(denialEDE(proof), "%s: %s", what, p.Reason)
	case Indeterminate:
		return indeterminate(dns.ExtendedErrorCodeDNSSECIndeterminate, "%s: %s", what, p.Reason)
	}
	return bogus(dns.ExtendedErrorCodeNSECMissing, "%s: proof fails: %s", what, p.Reason)
}

// unsigned judges data (or a negative answer), described by what, that
// came without any signature in the answer for scope: fine if an insecure
// delegation or unsupported algorithm is proven on the path from the
// anchor that covers scope, bogus if its zone is signed (S45). The walk
// goes towards hint, an ancestor of scope or scope itself (the SOA owner
// of a negative answer, the owner of the data); a hint above that anchor
// is bogus (chainTo).
func (lk *lookup) unsigned(ctx context.Context, scope, hint, what string) (verdict, error) {
	cr, err := lk.chainTo(ctx, scope, hint)
	if err != nil {
		return verdict{}, err
	}
	f := cr.fact
	switch {
	case f.verdict.status == Insecure:
		return f.verdict, nil
	case f.kind == factZone && f.verdict.status == Secure:
		return bogus(dns.ExtendedErrorCodeRRSIGsMissing, "%s has no RRSIG, but zone %s is signed", what, cr.zone), nil
	}
	return f.verdict, nil
}
