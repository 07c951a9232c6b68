package dnssec

// NSEC3 denial of existence: RFC 5155 §8 (with erratum 3441), RFC 6840
// §4.1, RFC 9276 (iterations), and the hash budget of S48.

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"

	"github.com/miekg/dns"
)

// nsec3OptOut is the only flag RFC 5155 §3.1.2 defines.
const nsec3OptOut = 0x01

// nsec3Link is one usable NSEC3 record: SHA-1, known flags, owner one
// label below the zone.
type nsec3Link struct {
	hash, next []byte
	optOut     bool
	iterations uint16
	salt       []byte
	types      []uint16
}

func (d *denialInput) addNSEC3(r *dns.NSEC3) {
	owner, ok := parseProofName(r.Hdr.Name)
	if !ok || len(owner) != len(d.zone)+1 || !owner.isBelow(d.zone) {
		return // another zone's chain, or no hashed owner at all
	}
	// RFC 5155 §8.1, §8.2: ignore unknown hash algorithms and flags.
	if r.Hash != dns.SHA1 || r.Flags&^nsec3OptOut != 0 {
		d.unknownNSEC3++
		return
	}
	hash, ok := decodeBase32Hex(owner[0])
	if !ok || len(hash) != sha1.Size {
		return
	}
	next, ok := decodeBase32Hex(r.NextDomain)
	if !ok || len(next) != sha1.Size {
		return
	}
	var salt []byte
	if r.Salt != "" && r.Salt != "-" {
		var err error
		if salt, err = hex.DecodeString(r.Salt); err != nil {
			return
		}
	}
	d.nsec3s = append(d.nsec3s, nsec3Link{
		hash:       hash,
		next:       next,
		optOut:     r.Flags&nsec3OptOut != 0,
		iterations: r.Iterations,
		salt:       salt,
		types:      r.TypeBitMap,
	})
}

// decodeBase32Hex decodes unpadded, case-insensitive base32hex (RFC 4648
// §7), as NSEC3 hashed owner names and Next Hashed Owner Names are
// written. Leftover bits must be zero.
func decodeBase32Hex(s string) ([]byte, bool) {
	out := make([]byte, 0, len(s)*5/8)
	var acc uint
	bits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v uint
		switch {
		case '0' <= c && c <= '9':
			v = uint(c - '0')
		case 'a' <= c && c <= 'v':
			v = uint(c-'a') + 10
		case 'A' <= c && c <= 'V':
			v = uint(c-'A') + 10
		default:
			return nil, false
		}
		acc = acc<<5 | v
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	if acc != 0 {
		return nil, false
	}
	return out, true
}

// covers reports whether h lies strictly between the owner hash and the
// next hash, the last record of the chain wrapping around the end of the
// hash space (and a lone record covering every hash but its own).
func (l *nsec3Link) covers(h []byte) bool {
	if bytes.Compare(l.hash, l.next) < 0 {
		return bytes.Compare(l.hash, h) < 0 && bytes.Compare(h, l.next) < 0
	}
	return bytes.Compare(h, l.hash) > 0 || bytes.Compare(h, l.next) < 0
}

// nsec3Chain is the NSEC3 side of one proof: records sharing one salt and
// iteration count, and the hashes computed so far.
type nsec3Chain struct {
	d          *denialInput
	links      []nsec3Link
	salt       []byte
	iterations uint16
	budget     int
	used       int
	// exhausted is set once a hash was refused; the verdict is then
	// Indeterminate whatever the proof concluded without it.
	exhausted bool
	cache     map[string][]byte
}

func (d *denialInput) runNSEC3(prove func(*nsec3Chain) DenialProof) DenialProof {
	first := &d.nsec3s[0]
	for i := range d.nsec3s[1:] {
		l := &d.nsec3s[i+1]
		if l.iterations != first.iterations || !bytes.Equal(l.salt, first.salt) {
			// RFC 5155 §8.2 allows this; Unbound does it too
			// (param_set_same), before the iteration check.
			return denialBogus("the NSEC3 records of zone %s come from different chains: their salt or iterations differ", d.zone)
		}
	}
	if limit := d.lim.iterations(); int(first.iterations) > limit {
		return denialInsecure("the NSEC3 records of zone %s have an iteration count of %d, above the limit of %d (RFC 9276 §3.2)", d.zone, first.iterations, limit)
	}
	c := &nsec3Chain{
		d:          d,
		links:      d.nsec3s,
		salt:       first.salt,
		iterations: first.iterations,
		budget:     d.lim.hashes(),
		cache:      make(map[string][]byte),
	}
	p := prove(c)
	if c.exhausted {
		p = DenialProof{
			Status: Indeterminate,
			Reason: fmt.Sprintf("the proof for %s needs more than %d NSEC3 hashes; abandoned (S48)", d.q, c.budget),
		}
	}
	p.NSEC3Hashes = c.used
	return p
}

// hash returns the NSEC3 hash of n (RFC 5155 §5), or nil once the budget
// is spent. Each name is hashed at most once per proof.
func (c *nsec3Chain) hash(n proofName) []byte {
	w := n.wire()
	if h, ok := c.cache[string(w)]; ok {
		return h
	}
	if c.used >= c.budget {
		c.exhausted = true
		return nil
	}
	c.used++
	h := sha1.New()
	h.Write(w)
	h.Write(c.salt)
	sum := h.Sum(nil)
	for i := 0; i < int(c.iterations); i++ {
		h.Reset()
		h.Write(sum)
		h.Write(c.salt)
		sum = h.Sum(sum[:0])
	}
	c.cache[string(w)] = sum
	return sum
}

// match returns the record whose owner is the hash of n.
func (c *nsec3Chain) match(n proofName) *nsec3Link {
	h := c.hash(n)
	if h == nil {
		return nil
	}
	for i := range c.links {
		if bytes.Equal(c.links[i].hash, h) {
			return &c.links[i]
		}
	}
	return nil
}

// cover returns a record whose span covers the hash of n.
func (c *nsec3Chain) cover(n proofName) *nsec3Link {
	h := c.hash(n)
	if h == nil {
		return nil
	}
	for i := range c.links {
		if c.links[i].covers(h) {
			return &c.links[i]
		}
	}
	return nil
}

// closestEncloserProof is RFC 5155 §7.2.1: a record matching the closest
// encloser, and one covering the next closer name.
type closestEncloserProof struct {
	ce, nextCloser proofName
	ncLink         *nsec3Link
}

// proveClosestEncloser finds the longest ancestor of q with a matching
// record, scanning from q towards the apex (RFC 5155 §8.3), and checks it
// is neither q itself nor a delegation or DNAME (whose children are not
// this zone's to deny), and that the next closer name is covered. On
// failure it returns the reason.
func (c *nsec3Chain) proveClosestEncloser(q proofName) (closestEncloserProof, string) {
	var (
		p  closestEncloserProof
		ce *nsec3Link
	)
	for k := len(q); k >= len(c.d.zone); k-- {
		n := q.ancestor(k)
		if ce = c.match(n); ce != nil {
			p.ce = n
			break
		}
		if c.exhausted {
			return p, "the hash budget ran out"
		}
	}
	switch {
	case ce == nil:
		return p, fmt.Sprintf("no NSEC3 record matches an ancestor of %s in zone %s: there is no closest encloser", q, c.d.zone)
	case len(p.ce) == len(q):
		return p, fmt.Sprintf("an NSEC3 record matches %s: the name exists", q)
	case isParentSideCut(ce.types):
		return p, fmt.Sprintf("the closest encloser %s is a delegation point (NS without SOA): %s lies below a zone cut, where this zone's records prove nothing (RFC 6840 §4.1)", p.ce, q)
	case bitmapHasType(ce.types, dns.TypeDNAME):
		return p, fmt.Sprintf("the closest encloser %s owns a DNAME: the answer should have been redirected", p.ce)
	}
	p.nextCloser = q.ancestor(len(p.ce) + 1)
	if p.ncLink = c.cover(p.nextCloser); p.ncLink == nil {
		return p, fmt.Sprintf("no NSEC3 record covers the next closer name %s", p.nextCloser)
	}
	return p, ""
}

func (c *nsec3Chain) nxdomain() DenialProof {
	q := c.d.q
	if c.match(q) != nil {
		return denialBogus("an NSEC3 record matches %s: the name exists", q)
	}
	p, why := c.proveClosestEncloser(q)
	if why != "" {
		return denialBogus("%s", why)
	}
	wc := p.ce.wildcard()
	if c.match(wc) != nil {
		return denialBogus("an NSEC3 record matches the wildcard %s: %s would have been synthesised from it", wc, q)
	}
	if c.cover(wc) == nil {
		return denialBogus("no NSEC3 record covers the wildcard %s at the closest encloser of %s", wc, q)
	}
	if p.ncLink.optOut {
		return denialInsecure("the NSEC3 record covering the next closer name %s has the opt-out flag: an unsigned delegation may exist there (RFC 5155 §9.2)", p.nextCloser)
	}
	return denialSecure("NSEC3 records prove the closest encloser %s and cover the next closer name %s and the wildcard %s", p.ce, p.nextCloser, wc)
}

func (c *nsec3Chain) nodata(qtype uint16) DenialProof {
	q := c.d.q
	if m := c.match(q); m != nil {
		return judgeNoData(fmt.Sprintf("the NSEC3 record matching %s", q), m.types, qtype, len(q) == 0)
	}
	p, why := c.proveClosestEncloser(q)
	if why != "" {
		return denialBogus("no NSEC3 record matches %s, and %s", q, why)
	}
	if p.ncLink.optOut {
		// An empty non-terminal above unsigned delegations, or an
		// unsigned delegation itself, has no NSEC3 record in an opt-out
		// zone (RFC 5155 §8.5 as corrected by erratum 3441, §8.6); a
		// proof resting on opt-out is never Secure (§9.2).
		v := denialInsecure("no NSEC3 record matches %s, and the one covering the next closer name %s has the opt-out flag: it may be an unsigned delegation (RFC 5155 §8.5, §8.6, §9.2)", q, p.nextCloser)
		v.Delegation = qtype == dns.TypeDS
		return v
	}
	wc := p.ce.wildcard()
	if m := c.match(wc); m != nil {
		v := judgeNoData(fmt.Sprintf("the NSEC3 record matching the wildcard %s", wc), m.types, qtype, false)
		v.Delegation = false
		if v.Status == Secure {
			v.Reason = fmt.Sprintf("%s does not exist below its closest encloser %s, and %s", q, p.ce, v.Reason)
		}
		return v
	}
	return denialBogus("no NSEC3 record matches %s or the wildcard %s at its closest encloser %s: that is NXDOMAIN, not NODATA", q, wc, p.ce)
}

func (c *nsec3Chain) wildcardAnswer(ce proofName) DenialProof {
	q := c.d.q
	nc := q.ancestor(len(ce) + 1)
	if c.match(nc) != nil {
		return denialBogus("an NSEC3 record matches %s: it exists, so %s cannot be answered from the wildcard at %s", nc, q, ce)
	}
	l := c.cover(nc)
	if l == nil {
		return denialBogus("no NSEC3 record covers the next closer name %s: %s may exist, and the wildcard answer would hide it (RFC 5155 §8.8)", nc, q)
	}
	if l.optOut {
		return denialInsecure("the NSEC3 record covering the next closer name %s has the opt-out flag: an unsigned delegation may exist there (RFC 5155 §9.2)", nc)
	}
	return denialSecure("an NSEC3 record covers the next closer name %s below the closest encloser %s", nc, ce)
}
