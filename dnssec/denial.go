package dnssec

// Denial of existence (RFC 4035 §5.4, RFC 5155 §8, RFC 4592, RFC 6840
// §4.1, RFC 9276): pure functions over NSEC and NSEC3 records whose
// signatures the caller has already verified. This file holds the API,
// the dispatch between NSEC and NSEC3 and the canonical domain names both
// proofs compare; nsec.go and nsec3.go hold the proofs themselves.

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// DefaultMaxNSEC3Iterations is the NSEC3 iteration count above which a
// proof is Insecure when [DenialLimits.MaxNSEC3Iterations] is 0.
//
// RFC 9276 §3.2 lets a validator treat NSEC3 records with more iterations
// than it is willing to compute as insecure, and asks validators to lower
// that limit over time. Unbound 1.17 does exactly this with
// val-nsec3-keysize-iterations "1024 150 2048 150 4096 150": above 150
// iterations, whatever the key size, the answer is insecure. We use the
// same number so that our verdicts match Unbound's.
const DefaultMaxNSEC3Iterations = 150

// DefaultMaxNSEC3Hashes is the number of NSEC3 name hashes one proof may
// compute when [DenialLimits.MaxNSEC3Hashes] is 0 (S48, CVE-2023-50868).
//
// A proof hashes each name at most once (hashes are cached per call, and
// all records of a proof must share salt and iterations), so an honest
// NXDOMAIN proof costs one hash per label from the queried name up to its
// closest encloser, plus one for the wildcard: an SMIMEA name
// <hash>._smimecert.example.org in the zone example.org needs at most four. 32 leaves room for any
// name up to 30 labels below its closest encloser (far deeper than any
// mail domain), while bounding the worst case at the iteration limit to
// 32 × 151 SHA-1 computations, about a millisecond. Unbound computes 8
// hashes at a time and resumes a suspended validation up to 16 times
// (MAX_NSEC3_CALCULATIONS, MAX_VALIDATION_SUSPENDS); this package has no
// suspension, so its single budget is larger than one of Unbound's slices.
const DefaultMaxNSEC3Hashes = 32

// DenialLimits bounds the work of one proof (S48, CVE-2023-50868).
// The zero value selects the defaults.
type DenialLimits struct {
	// MaxNSEC3Iterations is the largest NSEC3 iteration count a proof
	// computes; records with more make the proof Insecure (RFC 9276 §3.2),
	// decided before any hashing. 0 means [DefaultMaxNSEC3Iterations]; a
	// negative value accepts only 0 iterations, the value RFC 9276 §3.1
	// asks zones to use.
	MaxNSEC3Iterations int

	// MaxNSEC3Hashes is the number of NSEC3 name hashes one proof may
	// compute (cached hashes are free); a proof that needs more is
	// abandoned as Indeterminate. 0 or less means [DefaultMaxNSEC3Hashes].
	MaxNSEC3Hashes int
}

func (l DenialLimits) iterations() int {
	switch {
	case l.MaxNSEC3Iterations == 0:
		return DefaultMaxNSEC3Iterations
	case l.MaxNSEC3Iterations < 0:
		return 0
	}
	return l.MaxNSEC3Iterations
}

func (l DenialLimits) hashes() int {
	if l.MaxNSEC3Hashes <= 0 {
		return DefaultMaxNSEC3Hashes
	}
	return l.MaxNSEC3Hashes
}

// DenialProof is the verdict on a denial of existence.
type DenialProof struct {
	// Status is Secure when the records prove the denial; Insecure when
	// the proof rests on an NSEC3 record with the opt-out flag covering
	// the name (RFC 5155 §9.2) or on NSEC3 records with more iterations
	// than the limit (RFC 9276 §3.2); Bogus when the proof is missing,
	// wrong or contradictory; Indeterminate when the hash budget ran out
	// before a verdict.
	Status Status

	// Reason says why, for a person: which record proved what, or which
	// proof is missing.
	Reason string

	// Delegation is set by ProveNoDS only: the record matching the child
	// has the NS bit (the child is a zone cut), or an opt-out NSEC3
	// record leaves room for an unsigned delegation there.
	Delegation bool

	// NSEC3Hashes is the number of NSEC3 name hashes the proof computed,
	// so that a caller can charge them to a budget for the whole answer.
	NSEC3Hashes int
}

// ProveNXDomain proves that qname does not exist in zone (RFC 4035 §5.4,
// RFC 5155 §8.4): with NSEC, a record covering qname and one proving that
// no wildcard exists at its closest encloser; with NSEC3, the closest
// encloser proof (a record matching the closest encloser, one covering
// the next closer name) and a record covering the wildcard at the closest
// encloser. An opt-out NSEC3 record covering the next closer name makes
// the proof Insecure.
//
// rrs is the authority section: its NSEC and NSEC3 records, whose RRSIGs
// the caller has verified, signed by zone; other types are ignored, and so
// are records whose owner or next name lies outside zone. A record the
// caller found to be wildcard-expanded (RRSIG labels below the owner's)
// must be passed under its wildcard owner name, or not at all. Names are
// compared case-insensitively in canonical order (RFC 4034 §6.1).
func ProveNXDomain(qname, zone string, rrs []dns.RR, lim DenialLimits) DenialProof {
	d, fail := newDenialInput(qname, zone, rrs, lim)
	if fail != nil {
		return *fail
	}
	if len(d.q) == len(d.zone) {
		return denialBogus("the zone apex %s exists; it cannot be NXDOMAIN", d.q)
	}
	return d.run(d.nsecNXDomain, (*nsec3Chain).nxdomain)
}

// ProveNoData proves that qname exists in zone but has no records of type
// qtype (RFC 4035 §5.4, RFC 5155 §8.5–8.7): a record matching qname
// whose type bitmap lacks qtype and CNAME, an empty non-terminal, or the
// wildcard NODATA case (qname does not exist, the wildcard at its closest
// encloser does, without qtype). The record matching qname must not be
// the parent side of a delegation unless qtype is DS, and must not be a
// zone apex when qtype is DS (RFC 6840 §4.1). Without a matching NSEC3
// record, an opt-out record covering the next closer name makes the proof
// Insecure (RFC 5155 §8.5 as corrected by erratum 3441, §8.6, §9.2).
//
// rrs and zone are as for [ProveNXDomain]. Delegation is always false.
func ProveNoData(qname string, qtype uint16, zone string, rrs []dns.RR, lim DenialLimits) DenialProof {
	p := proveNoDataOrDS(qname, qtype, zone, rrs, lim)
	p.Delegation = false
	return p
}

// ProveWildcardAnswer proves that an answer the caller found to be
// synthesised from a wildcard (its RRSIG has fewer labels than its owner
// name) was the right one: that qname itself does not exist below
// closestEncloser, the owner name truncated to the RRSIG's Labels field
// (RFC 4035 §5.3.4, RFC 5155 §8.8). With NSEC, a record covering qname
// whose closest encloser is closestEncloser; with NSEC3, a record covering
// the next closer name, Insecure if it has the opt-out flag.
//
// When qname is the wildcard name itself (`*.<closestEncloser>`), the
// answer is not an expansion and the proof is trivially Secure. rrs and
// zone are as for [ProveNXDomain].
func ProveWildcardAnswer(qname, closestEncloser, zone string, rrs []dns.RR, lim DenialLimits) DenialProof {
	d, fail := newDenialInput(qname, zone, rrs, lim)
	if fail != nil {
		return *fail
	}
	ce, ok := parseProofName(closestEncloser)
	if !ok {
		return denialBogus("invalid closest encloser name %q", closestEncloser)
	}
	if !ce.isAtOrBelow(d.zone) {
		return denialBogus("the closest encloser %s is not in zone %s", ce, d.zone)
	}
	if !d.q.isBelow(ce) {
		return denialBogus("%s is not below the closest encloser %s; it cannot come from its wildcard", d.q, ce)
	}
	if len(d.q) == len(ce)+1 && d.q[0] == "*" {
		return DenialProof{Status: Secure, Reason: fmt.Sprintf("%s is the wildcard name itself, not an expansion of it", d.q)}
	}
	return d.run(
		func() DenialProof { return d.nsecWildcardAnswer(ce) },
		func(c *nsec3Chain) DenialProof { return c.wildcardAnswer(ce) })
}

// ProveNoDS proves that there is no DS RRset at child in its parent zone
// (RFC 4035 §5.2, RFC 5155 §8.6, RFC 6840 §4.4): a record matching child
// without the DS, CNAME and SOA bits is Secure, with Delegation set to its
// NS bit (without it, child is no zone cut: look further down). An empty
// non-terminal, or a nonexistent child under a wildcard without DS, is
// Secure without Delegation. With NSEC3 and no record matching child, an
// opt-out record covering the next closer name of a closest encloser
// proof is Insecure with Delegation set (an unsigned delegation may exist
// there). Anything else is Bogus; a child that does not exist at all is
// proven with [ProveNXDomain].
//
// rrs and zone are as for [ProveNXDomain]; child must be below zone.
func ProveNoDS(child, zone string, rrs []dns.RR, lim DenialLimits) DenialProof {
	c, okc := parseProofName(child)
	z, okz := parseProofName(zone)
	if okc && okz && !c.isBelow(z) {
		return denialBogus("%s is not below %s: only a parent zone can deny its DS", c, z)
	}
	return proveNoDataOrDS(child, dns.TypeDS, zone, rrs, lim)
}

func proveNoDataOrDS(qname string, qtype uint16, zone string, rrs []dns.RR, lim DenialLimits) DenialProof {
	d, fail := newDenialInput(qname, zone, rrs, lim)
	if fail != nil {
		return *fail
	}
	if qtype == dns.TypeDS && len(d.q) == len(d.zone) && len(d.q) > 0 {
		// The DS RRset lives on the parent side of the cut; the zone
		// whose apex this is cannot deny it (RFC 4035 §5.2).
		return denialBogus("a DS denial for %s must come from its parent zone, not from %s itself", d.q, d.zone)
	}
	return d.run(
		func() DenialProof { return d.nsecNoData(qtype) },
		func(c *nsec3Chain) DenialProof { return c.nodata(qtype) })
}

// denial is one proof's input: the queried name and the usable records.
type denialInput struct {
	q, zone proofName
	lim     DenialLimits
	nsecs   []nsecLink
	nsec3s  []nsec3Link
	// unknownNSEC3 counts NSEC3 records of the zone ignored for an
	// unknown hash algorithm or flags (RFC 5155 §8.1, §8.2).
	unknownNSEC3 int
}

func newDenialInput(qname, zone string, rrs []dns.RR, lim DenialLimits) (*denialInput, *DenialProof) {
	q, ok := parseProofName(qname)
	if !ok {
		p := denialBogus("invalid query name %q", qname)
		return nil, &p
	}
	z, ok := parseProofName(zone)
	if !ok {
		p := denialBogus("invalid zone name %q", zone)
		return nil, &p
	}
	if !q.isAtOrBelow(z) {
		p := denialBogus("%s is not in zone %s; its records prove nothing about it", q, z)
		return nil, &p
	}
	d := &denialInput{q: q, zone: z, lim: lim}
	for _, rr := range rrs {
		switch r := rr.(type) {
		case *dns.NSEC:
			if r != nil {
				d.addNSEC(r)
			}
		case *dns.NSEC3:
			if r != nil {
				d.addNSEC3(r)
			}
		}
	}
	return d, nil
}

// run tries the NSEC proof when there are NSEC records, then, if that did
// not prove the denial, the NSEC3 proof when there are NSEC3 records (as
// Unbound does for a response carrying both).
func (d *denialInput) run(withNSEC func() DenialProof, withNSEC3 func(*nsec3Chain) DenialProof) DenialProof {
	var p DenialProof
	if len(d.nsecs) > 0 {
		p = withNSEC()
		if p.Status == Secure || len(d.nsec3s) == 0 {
			return p
		}
	}
	if len(d.nsec3s) > 0 {
		return d.runNSEC3(withNSEC3)
	}
	if d.unknownNSEC3 > 0 {
		// RFC 5155 §8.1: such records are ignored, "the practical
		// result of this is that responses containing only such NSEC3
		// RRs will generally be considered bogus". Unbound agrees. A new
		// hash algorithm would come with new DNSKEY algorithm numbers
		// (RFC 5155 §2), which make the zone insecure earlier in the
		// chain, so Bogus here does not break such zones.
		return denialBogus("the only NSEC3 records of zone %s have an unknown hash algorithm or flags (RFC 5155 §8.1, §8.2)", d.zone)
	}
	return denialBogus("no NSEC or NSEC3 record of zone %s to prove the denial for %s", d.zone, d.q)
}

func denialBogus(format string, args ...any) DenialProof {
	return DenialProof{Status: Bogus, Reason: fmt.Sprintf(format, args...)}
}

func denialSecure(format string, args ...any) DenialProof {
	return DenialProof{Status: Secure, Reason: fmt.Sprintf(format, args...)}
}

func denialInsecure(format string, args ...any) DenialProof {
	return DenialProof{Status: Insecure, Reason: fmt.Sprintf(format, args...)}
}

// bitmapHasType reports whether an NSEC or NSEC3 type bitmap lists t.
func bitmapHasType(types []uint16, t uint16) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// isParentSideCut reports whether a bitmap is that of a delegation point
// seen from the parent: NS without SOA (RFC 6840 §4.1).
func isParentSideCut(types []uint16) bool {
	return bitmapHasType(types, dns.TypeNS) && !bitmapHasType(types, dns.TypeSOA)
}

// judgeNoData judges the type bitmap of the record matching the name that
// has no qtype records: qname itself, or the wildcard that would have been
// expanded for it (RFC 4035 §5.4, RFC 5155 §8.5–8.7, RFC 6840 §4.1). what
// names the record for the reason, e.g. "the NSEC record at a.example.".
// For a DS query the verdict's Delegation is the NS bit.
func judgeNoData(what string, types []uint16, qtype uint16, qnameIsRoot bool) DenialProof {
	switch {
	case bitmapHasType(types, qtype):
		return denialBogus("%s lists type %s: the records exist", what, denialTypeName(qtype))
	case bitmapHasType(types, dns.TypeCNAME):
		return denialBogus("%s lists a CNAME: the answer should have been the CNAME", what)
	case qtype != dns.TypeDS && isParentSideCut(types):
		return denialBogus("%s is the parent side of a delegation (NS without SOA); it cannot deny %s records at the child (RFC 6840 §4.1)", what, denialTypeName(qtype))
	case qtype == dns.TypeDS && bitmapHasType(types, dns.TypeSOA) && !qnameIsRoot:
		return denialBogus("%s is a zone apex (SOA): it comes from the child, and only the parent can deny DS (RFC 4035 §5.2)", what)
	}
	p := denialSecure("%s lacks %s and CNAME", what, denialTypeName(qtype))
	if qtype == dns.TypeDS {
		p.Delegation = bitmapHasType(types, dns.TypeNS)
	}
	return p
}

func denialTypeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// proofName is a domain name as its canonical wire-format labels (RFC 4034
// §6.2: ASCII upper case folded to lower case), leftmost label first. The
// root name has no labels. A suffix slice of a name is an ancestor.
type proofName []string

// maxProofNameWire is the longest domain name in wire format (RFC 1035 §2.3.4).
const maxProofNameWire = 255

// parseProofName reads a name in presentation format (`\DDD` and `\X`
// escapes, trailing dot optional; "." is the root). It reports false for
// an empty name, an empty label, a label over 63 octets, a name over 255
// octets in wire format or a malformed escape.
func parseProofName(s string) (proofName, bool) {
	if s == "" {
		return nil, false
	}
	if s == "." {
		return proofName{}, true
	}
	var (
		labels proofName
		label  []byte
		wire   = 1 // the root label's length octet
	)
	endLabel := func() bool {
		if len(label) == 0 || len(label) > 63 {
			return false
		}
		wire += 1 + len(label)
		labels = append(labels, string(label))
		label = label[:0]
		return wire <= maxProofNameWire
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '.':
			if !endLabel() {
				return nil, false
			}
			continue
		case '\\':
			if i+1 >= len(s) {
				return nil, false
			}
			if isDigitOctet(s[i+1]) {
				if i+3 >= len(s) || !isDigitOctet(s[i+2]) || !isDigitOctet(s[i+3]) {
					return nil, false
				}
				v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
				if v > 255 {
					return nil, false
				}
				c = byte(v)
				i += 3
			} else {
				c = s[i+1]
				i++
			}
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		label = append(label, c)
		if len(label) > 63 {
			return nil, false
		}
	}
	if len(label) > 0 && !endLabel() {
		return nil, false
	}
	return labels, true
}

func isDigitOctet(c byte) bool { return '0' <= c && c <= '9' }

// compare orders names canonically (RFC 4034 §6.1): label by label from
// the right, each label as an unsigned octet string in which a missing
// octet sorts before any octet; an ancestor sorts before its descendants.
func (n proofName) compare(o proofName) int {
	for i := 1; i <= len(n) && i <= len(o); i++ {
		if c := strings.Compare(n[len(n)-i], o[len(o)-i]); c != 0 {
			return c
		}
	}
	switch {
	case len(n) < len(o):
		return -1
	case len(n) > len(o):
		return 1
	}
	return 0
}

func (n proofName) equal(o proofName) bool {
	return len(n) == len(o) && n.isAtOrBelow(o)
}

// isAtOrBelow reports whether n is o or one of its descendants.
func (n proofName) isAtOrBelow(o proofName) bool {
	if len(n) < len(o) {
		return false
	}
	tail := n[len(n)-len(o):]
	for i := range o {
		if tail[i] != o[i] {
			return false
		}
	}
	return true
}

// isBelow reports whether n is a proper descendant of o.
func (n proofName) isBelow(o proofName) bool {
	return len(n) > len(o) && n.isAtOrBelow(o)
}

// ancestor returns the ancestor of n (or n itself) that has k labels.
func (n proofName) ancestor(k int) proofName {
	return n[len(n)-k:]
}

// commonAncestor returns the longest name both n and o are at or below.
func (n proofName) commonAncestor(o proofName) proofName {
	k := 0
	for k < len(n) && k < len(o) && n[len(n)-1-k] == o[len(o)-1-k] {
		k++
	}
	return n.ancestor(k)
}

// wildcard returns `*.n`.
func (n proofName) wildcard() proofName {
	w := make(proofName, 0, len(n)+1)
	return append(append(w, "*"), n...)
}

// wire returns n in canonical wire format, the input of NSEC3 hashing.
func (n proofName) wire() []byte {
	size := 1
	for _, l := range n {
		size += 1 + len(l)
	}
	b := make([]byte, 0, size)
	for _, l := range n {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// String writes n in presentation format, escaping what is not a letter,
// digit, hyphen, underscore or asterisk, with a trailing dot.
func (n proofName) String() string {
	if len(n) == 0 {
		return "."
	}
	var b strings.Builder
	for _, l := range n {
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', isDigitOctet(c), c == '-', c == '_', c == '*':
				b.WriteByte(c)
			case '!' <= c && c <= '~':
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, "\\%03d", c)
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}
