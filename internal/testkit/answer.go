package testkit

import "github.com/miekg/dns"

// maxChase bounds the CNAMEs followed for one answer.
const maxChase = 20

// Answer builds the response to req as the hierarchy's server would send
// it (before truncation to the transport's size). With RD set it answers
// as a recursive resolver that returns everything a validating stub needs
// (CNAMEs followed across zones, RA set, AA clear); with RD clear, as the
// authoritative server of every zone (AA set, CNAMEs followed within the
// zone only). RRSIGs and denial records are included when the query has
// EDNS0 with the DO bit.
func (h *Hierarchy) Answer(req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Compress = true
	opt := req.IsEdns0()
	if opt != nil {
		resp.SetEdns0(udpSize, opt.Do())
		if opt.Version() != 0 {
			resp.Rcode = dns.RcodeBadVers
			return resp
		}
	}
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		resp.Rcode = dns.RcodeFormatError
		return resp
	}
	q := req.Question[0]
	switch {
	case q.Qclass != dns.ClassINET:
		resp.Rcode = dns.RcodeRefused
		return resp
	case q.Qtype == dns.TypeANY || q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		resp.Rcode = dns.RcodeNotImplemented
		return resp
	case !h.signed:
		resp.Rcode = dns.RcodeServerFailure
		return resp
	}
	do := opt != nil && opt.Do()
	recursive := req.RecursionDesired
	resp.RecursionAvailable = recursive
	name := canonical(q.Name)
	seen := map[string]bool{name: true}
	for i := 0; ; i++ {
		z := h.zoneFor(name, q.Qtype)
		a := z.lookup(name, q.Qtype, do)
		resp.Answer = append(resp.Answer, a.answer...)
		if i == 0 {
			resp.Authoritative = !recursive && a.authoritative
		}
		if a.target != "" && i < maxChase && !seen[a.target] {
			next := h.zoneFor(a.target, q.Qtype)
			if recursive || next == z {
				seen[a.target] = true
				name = a.target
				continue
			}
		}
		if a.target == "" {
			resp.Ns, resp.Extra = a.authority, append(a.additional, resp.Extra...)
			resp.Rcode = a.rcode
		}
		break
	}
	return resp
}

// zoneFor returns the zone that answers for name: the deepest one at or
// above it, except that a DS query at a zone apex goes to the parent.
func (h *Hierarchy) zoneFor(name string, qtype uint16) *Zone {
	z := h.zoneAbove(name)
	if qtype == dns.TypeDS && z.name == name && z.parent != nil {
		return z.parent
	}
	return z
}

// zoneAnswer is what one zone says about one name.
type zoneAnswer struct {
	answer, authority, additional []dns.RR
	rcode                         int
	authoritative                 bool
	target                        string // a CNAME (or wildcard CNAME) to follow
}

// lookup answers name/qtype from z's data, RFC 1034 §4.3.2 with the
// DNSSEC additions of RFC 4035 §3.1.
func (z *Zone) lookup(name string, qtype uint16, do bool) zoneAnswer {
	out := zoneAnswer{authoritative: true}
	// A delegation at or above name (below the apex) makes a referral,
	// except for the DS RRset, which lives on this side of the cut.
	if cut := z.cutAbove(name); cut != "" && !(cut == name && qtype == dns.TypeDS) {
		return z.referral(cut, do)
	}
	types, hasData := z.data[name]
	switch {
	case hasData && len(types[qtype]) > 0:
		out.answer = z.withSigs(types[qtype], name, qtype, do, true)
		return out
	case hasData && qtype != dns.TypeCNAME && len(types[dns.TypeCNAME]) > 0:
		out.answer = z.withSigs(types[dns.TypeCNAME], name, dns.TypeCNAME, do, true)
		out.target = canonical(types[dns.TypeCNAME][0].(*dns.CNAME).Target)
		return out
	case z.exists[name]:
		// NODATA, at a name with records or at an empty non-terminal.
		out.authority = z.soa(do)
		if do && !z.cfg.omitDenial {
			out.authority = append(out.authority, z.noDataProof(name)...)
		}
		return out
	}
	ce := z.closestEncloser(name)
	wild := "*." + ce
	if ce == "." {
		wild = "*."
	}
	if wt, ok := z.data[wild]; ok {
		var rrs []dns.RR
		t := qtype
		if len(wt[qtype]) == 0 && qtype != dns.TypeCNAME && len(wt[dns.TypeCNAME]) > 0 {
			t = dns.TypeCNAME
		}
		rrs = wt[t]
		if len(rrs) > 0 {
			// RFC 4592 §3.3.1 synthesis; the RRSIGs keep the wildcard's
			// Labels count, so a validator can tell (RFC 4035 §5.3.4).
			for _, rr := range z.withSigs(rrs, wild, t, do, true) {
				c := dns.Copy(rr)
				c.Header().Name = name
				out.answer = append(out.answer, c)
			}
			if t == dns.TypeCNAME {
				out.target = canonical(rrs[0].(*dns.CNAME).Target)
			}
			if do && !z.cfg.omitDenial {
				out.authority = z.wildcardProof(name, ce)
			}
			return out
		}
		// Wildcard NODATA.
		out.authority = z.soa(do)
		if do && !z.cfg.omitDenial {
			out.authority = append(out.authority, z.wildcardNoDataProof(name, ce, wild)...)
		}
		return out
	}
	out.rcode = dns.RcodeNameError
	out.authority = z.soa(do)
	if do && !z.cfg.omitDenial {
		out.authority = append(out.authority, z.nxProof(name, wild)...)
	}
	return out
}

// cutAbove returns the highest delegation point at or above name, below
// the apex, or "".
func (z *Zone) cutAbove(name string) string {
	cut := ""
	for n := name; n != z.name && n != "."; n = parentOf(n) {
		if z.cuts[n] {
			cut = n
		}
	}
	return cut
}

// referral is the answer for a name at or below a delegation whose child
// zone the hierarchy does not serve from here.
func (z *Zone) referral(cut string, do bool) zoneAnswer {
	out := zoneAnswer{}
	out.authority = append(out.authority, z.data[cut][dns.TypeNS]...)
	if ds := z.data[cut][dns.TypeDS]; len(ds) > 0 {
		out.authority = append(out.authority, z.withSigs(ds, cut, dns.TypeDS, do, false)...)
	} else if do {
		out.authority = append(out.authority, z.noDataProof(cut)...)
	}
	for _, ns := range z.data[cut][dns.TypeNS] {
		out.additional = append(out.additional, z.data[ns.(*dns.NS).Ns][dns.TypeA]...)
	}
	return out
}

// withSigs returns rrs followed by their RRSIGs when do is set. answer
// marks the answer section, where a stripping variant drops them.
func (z *Zone) withSigs(rrs []dns.RR, owner string, t uint16, do, answer bool) []dns.RR {
	out := append([]dns.RR(nil), rrs...)
	if !do || (answer && z.cfg.stripRRSIGs && t != dns.TypeDNSKEY) {
		return out
	}
	return append(out, z.sigs[rrKey{owner, t}]...)
}

func (z *Zone) soa(do bool) []dns.RR {
	return z.withSigs(z.data[z.name][dns.TypeSOA], z.name, dns.TypeSOA, do, false)
}

// closestEncloser returns the deepest existing ancestor of name.
func (z *Zone) closestEncloser(name string) string {
	for n := parentOf(name); ; n = parentOf(n) {
		if z.exists[n] || n == z.name || n == "." {
			return n
		}
	}
}

// nextCloser returns the ancestor of name one label below ce.
func nextCloser(name, ce string) string {
	want := dns.CountLabel(ce) + 1
	n := name
	for dns.CountLabel(n) > want {
		n = parentOf(n)
	}
	return n
}

// proof collects denial records and their RRSIGs without repeats.
type proof struct {
	z    *Zone
	out  []dns.RR
	seen map[string]bool
}

func (z *Zone) newProof() *proof { return &proof{z: z, seen: map[string]bool{}} }

func (p *proof) addNSEC(r *dns.NSEC) {
	if r == nil || p.seen[r.Hdr.Name] {
		return
	}
	p.seen[r.Hdr.Name] = true
	p.out = append(p.out, r)
	p.out = append(p.out, p.z.sigs[rrKey{r.Hdr.Name, dns.TypeNSEC}]...)
}

func (p *proof) addNSEC3(r *dns.NSEC3) {
	if r == nil || p.seen[r.Hdr.Name] {
		return
	}
	p.seen[r.Hdr.Name] = true
	p.out = append(p.out, r)
	p.out = append(p.out, p.z.sigs[rrKey{r.Hdr.Name, dns.TypeNSEC3}]...)
}

// closestEncloserProof adds, for NSEC3, the record matching the closest
// provable encloser of name and the one covering the next closer name
// (RFC 5155 §7.2.1), and returns the closest encloser.
func (p *proof) closestEncloserProof(name string) string {
	c := p.z.nsec3
	for n := parentOf(name); ; n = parentOf(n) {
		if m := c.match(n); m != nil {
			p.addNSEC3(m)
			p.addNSEC3(c.cover(nextCloser(name, n)))
			return n
		}
		if n == p.z.name || n == "." {
			return n
		}
	}
}

func (z *Zone) noDataProof(name string) []dns.RR {
	p := z.newProof()
	if z.nsec3 != nil {
		if m := z.nsec3.match(name); m != nil {
			p.addNSEC3(m)
		} else {
			// Opt-out: the name (an unsigned delegation) has no record;
			// the closest encloser proof shows the opt-out span.
			p.closestEncloserProof(name)
		}
		return p.out
	}
	if z.nsec != nil {
		p.addNSEC(z.nsec.covering(name))
	}
	return p.out
}

func (z *Zone) nxProof(name, wild string) []dns.RR {
	p := z.newProof()
	if z.nsec3 != nil {
		// The closest provable encloser can differ from the closest
		// encloser when opt-out leaves names out of the chain.
		ce := p.closestEncloserProof(name)
		w := "*." + ce
		if ce == "." {
			w = "*."
		}
		p.addNSEC3(z.nsec3.cover(w))
		return p.out
	}
	if z.nsec != nil {
		p.addNSEC(z.nsec.covering(name))
		p.addNSEC(z.nsec.covering(wild))
	}
	return p.out
}

func (z *Zone) wildcardProof(name, ce string) []dns.RR {
	p := z.newProof()
	if z.nsec3 != nil {
		p.addNSEC3(z.nsec3.cover(nextCloser(name, ce)))
		return p.out
	}
	if z.nsec != nil {
		p.addNSEC(z.nsec.covering(name))
	}
	return p.out
}

func (z *Zone) wildcardNoDataProof(name, ce, wild string) []dns.RR {
	p := z.newProof()
	if z.nsec3 != nil {
		p.addNSEC3(z.nsec3.match(ce))
		p.addNSEC3(z.nsec3.cover(nextCloser(name, ce)))
		p.addNSEC3(z.nsec3.match(wild))
		return p.out
	}
	if z.nsec != nil {
		p.addNSEC(z.nsec.covering(name))
		p.addNSEC(z.nsec.covering(wild))
	}
	return p.out
}
