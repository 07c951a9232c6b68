package dnssec

import (
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// rrKey names an RRset: owner (canonical) and type. For RRSIGs the type
// is the type covered.
type rrKey struct {
	name string
	t    uint16
}

// splitResp is an answer cut into RRsets, with the RRSIGs that claim to
// cover each, for the answer and authority sections. The additional
// section is never used: nothing there is validated.
type splitResp struct {
	answer         map[rrKey][]dns.RR
	answerSigs     map[rrKey][]*dns.RRSIG
	answerOrder    []rrKey
	authority      map[rrKey][]dns.RR
	authoritySigs  map[rrKey][]*dns.RRSIG
	authorityOrder []rrKey
}

func splitMsg(m *dns.Msg) *splitResp {
	s := &splitResp{
		answer:        map[rrKey][]dns.RR{},
		answerSigs:    map[rrKey][]*dns.RRSIG{},
		authority:     map[rrKey][]dns.RR{},
		authoritySigs: map[rrKey][]*dns.RRSIG{},
	}
	s.answerOrder = group(m.Answer, s.answer, s.answerSigs)
	s.authorityOrder = group(m.Ns, s.authority, s.authoritySigs)
	return s
}

// group sorts one section into RRsets. Owner names are lower-cased in
// place (the section belongs to the resolver), so that the records of one
// RRset compare equal as miekg's IsRRset wants; records of other classes
// are dropped.
func group(section []dns.RR, sets map[rrKey][]dns.RR, sigs map[rrKey][]*dns.RRSIG) []rrKey {
	var order []rrKey
	for _, rr := range section {
		if rr == nil {
			continue
		}
		h := rr.Header()
		if h.Class != dns.ClassINET || !typeConsistent(rr) {
			continue
		}
		h.Name = strings.ToLower(h.Name)
		if sig, ok := rr.(*dns.RRSIG); ok {
			k := rrKey{h.Name, sig.TypeCovered}
			sigs[k] = append(sigs[k], sig)
			continue
		}
		k := rrKey{h.Name, h.Rrtype}
		if _, seen := sets[k]; !seen {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	return order
}

// typeConsistent reports whether the Go type of rr agrees with the type
// in its header, for the types this package looks inside. Unpacked
// messages always agree; a Transport that builds its answers by hand
// might not, and the type assertions that follow must not panic.
func typeConsistent(rr dns.RR) bool {
	t := rr.Header().Rrtype
	switch rr.(type) {
	case *dns.CNAME:
		return t == dns.TypeCNAME
	case *dns.DNAME:
		return t == dns.TypeDNAME
	case *dns.DS:
		return t == dns.TypeDS
	case *dns.DNSKEY:
		return t == dns.TypeDNSKEY
	case *dns.RRSIG:
		return t == dns.TypeRRSIG
	case *dns.SOA:
		return t == dns.TypeSOA
	case *dns.NSEC:
		return t == dns.TypeNSEC
	case *dns.NSEC3:
		return t == dns.TypeNSEC3
	}
	switch t {
	case dns.TypeCNAME, dns.TypeDNAME, dns.TypeDS, dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3:
		return false
	}
	return true
}

// mentions reports whether the answer speaks about name: records owned by
// it, a DNAME above it, or (for the last name of a chain) a negative
// answer's SOA or proof.
func (s *splitResp) mentions(name string) bool {
	for _, k := range s.answerOrder {
		if k.name == name || (k.t == dns.TypeDNAME && isAtOrBelow(name, k.name)) {
			return true
		}
	}
	for _, k := range s.authorityOrder {
		switch k.t {
		case dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3:
			if isAtOrBelow(name, k.name) || k.t != dns.TypeSOA {
				return true
			}
		}
	}
	return false
}

// upstreamEDE returns the first RFC 8914 extended error in m, if any.
func upstreamEDE(m *dns.Msg) (uint16, string, bool) {
	opt := m.IsEdns0()
	if opt == nil {
		return 0, "", false
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok {
			return e.InfoCode, e.ExtraText, true
		}
	}
	return 0, "", false
}

// rcodeVerdict accepts NOERROR and NXDOMAIN; any other RCODE (SERVFAIL,
// REFUSED, ...) leaves the answer indeterminate.
func rcodeVerdict(m *dns.Msg, name string, qtype uint16) (verdict, bool) {
	switch m.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return secure(), true
	}
	rc := dns.RcodeToString[m.Rcode]
	if rc == "" {
		rc = "RCODE " + strconv.Itoa(m.Rcode)
	}
	v := indeterminate(dns.ExtendedErrorCodeNoReachableAuthority, "the resolver answered %s to %s %s", rc, name, typeName(qtype))
	if code, text, ok := upstreamEDE(m); ok {
		v.ede = code
		if text != "" {
			v.reason += " (" + sanitize(text) + ")"
		}
	}
	return v, false
}

func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// sanitize keeps text from the network printable: control characters and
// anything outside ASCII are replaced, and the length is capped.
func sanitize(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
