package dnssec

// NSEC denial of existence: RFC 4035 §5.4, RFC 4592 (wildcards), RFC 6840
// §4.1 (records from above a zone cut or a DNAME).

import (
	"fmt"

	"github.com/miekg/dns"
)

// nsecLink is one usable NSEC record: it states that no name exists
// strictly between owner and next in the zone's canonical order.
type nsecLink struct {
	owner, next proofName
	types       []uint16
}

func (d *denialInput) addNSEC(r *dns.NSEC) {
	owner, ok := parseProofName(r.Hdr.Name)
	if !ok || !owner.isAtOrBelow(d.zone) {
		return
	}
	next, ok := parseProofName(r.NextDomain)
	if !ok || !next.isAtOrBelow(d.zone) {
		return
	}
	// Only the last record of a chain points back, and it points to the
	// apex (RFC 4034 §4.1.1); any other backward link is malformed.
	if next.compare(owner) <= 0 && !next.equal(d.zone) {
		return
	}
	d.nsecs = append(d.nsecs, nsecLink{owner: owner, next: next, types: r.TypeBitMap})
}

// spans reports whether n lies strictly between owner and next, the last
// record of the chain (next is the apex) spanning everything after owner.
// n must be in the zone.
func (l *nsecLink) spans(n proofName) bool {
	if l.owner.compare(n) >= 0 {
		return false
	}
	return l.owner.compare(l.next) >= 0 || n.compare(l.next) < 0
}

// cutsOff reports whether l is at a proper ancestor of n that is a zone
// cut seen from the parent, or a DNAME: names below it are not in this
// zone's chain, so l must not be used to deny them (RFC 6840 §4.1).
func (l *nsecLink) cutsOff(n proofName) bool {
	return n.isBelow(l.owner) &&
		(isParentSideCut(l.types) || bitmapHasType(l.types, dns.TypeDNAME))
}

// provesAbsent reports whether l proves that n does not exist: n lies
// between owner and next, and is not an empty non-terminal above next.
func (l *nsecLink) provesAbsent(n proofName) bool {
	return l.spans(n) && !l.next.isBelow(n) && !l.cutsOff(n)
}

// provesEmptyNonTerminal reports whether l proves that n exists without
// records of its own: owner sorts before n and next is below n.
func (l *nsecLink) provesEmptyNonTerminal(n proofName) bool {
	return l.owner.compare(n) < 0 && l.next.isBelow(n) && !l.cutsOff(n)
}

func (d *denialInput) nsecMatching(n proofName) *nsecLink {
	for i := range d.nsecs {
		if d.nsecs[i].owner.equal(n) {
			return &d.nsecs[i]
		}
	}
	return nil
}

func (d *denialInput) nsecEmptyNonTerminal(n proofName) *nsecLink {
	for i := range d.nsecs {
		if d.nsecs[i].provesEmptyNonTerminal(n) {
			return &d.nsecs[i]
		}
	}
	return nil
}

func (d *denialInput) nsecAbsent(n proofName) *nsecLink {
	for i := range d.nsecs {
		if d.nsecs[i].provesAbsent(n) {
			return &d.nsecs[i]
		}
	}
	return nil
}

// nsecClosestEncloser returns the closest encloser of q, which the
// records prove does not exist: the longest ancestor q shares with the
// owner or next name of a record proving q absent (every existing
// ancestor of q is an ancestor of such an owner). Taking the longest over
// all such records is the conservative choice: the wildcard that must be
// disproven, or that must have answered, is the deepest one.
func (d *denialInput) nsecClosestEncloser(q proofName) (ce proofName, cover *nsecLink, ok bool) {
	for i := range d.nsecs {
		l := &d.nsecs[i]
		if !l.provesAbsent(q) {
			continue
		}
		c := q.commonAncestor(l.owner)
		if n := q.commonAncestor(l.next); len(n) > len(c) {
			c = n
		}
		if !ok || len(c) > len(ce) {
			ce, cover, ok = c, l, true
		}
	}
	return ce, cover, ok
}

func (d *denialInput) nsecNXDomain() DenialProof {
	q := d.q
	if d.nsecMatching(q) != nil {
		return denialBogus("the NSEC record at %s proves that the name exists", q)
	}
	ce, cover, ok := d.nsecClosestEncloser(q)
	if !ok {
		if ent := d.nsecEmptyNonTerminal(q); ent != nil {
			return denialBogus("the NSEC record at %s shows that %s is an empty non-terminal: it exists, so the answer should have been NODATA", ent.owner, q)
		}
		return denialBogus("no NSEC record covers %s", q)
	}
	wc := ce.wildcard()
	if d.nsecMatching(wc) != nil {
		return denialBogus("the wildcard %s exists (an NSEC record matches it): %s would have been synthesised from it", wc, q)
	}
	if ent := d.nsecEmptyNonTerminal(wc); ent != nil {
		return denialBogus("the NSEC record at %s shows that the wildcard %s exists as an empty non-terminal: %s would have been answered from it", ent.owner, wc, q)
	}
	wcover := d.nsecAbsent(wc)
	if wcover == nil {
		return denialBogus("no NSEC record proves that the wildcard %s at the closest encloser of %s does not exist", wc, q)
	}
	return denialSecure("the NSEC record at %s covers %s, and the one at %s proves that no wildcard %s exists", cover.owner, q, wcover.owner, wc)
}

func (d *denialInput) nsecNoData(qtype uint16) DenialProof {
	q := d.q
	if m := d.nsecMatching(q); m != nil {
		return judgeNoData(fmt.Sprintf("the NSEC record at %s", q), m.types, qtype, len(q) == 0)
	}
	if ent := d.nsecEmptyNonTerminal(q); ent != nil {
		return denialSecure("the NSEC record at %s shows that %s is an empty non-terminal, which owns no records", ent.owner, q)
	}
	// Wildcard NODATA (RFC 4035 §3.1.3.4): q does not exist, and the
	// wildcard at its closest encloser exists without qtype.
	ce, cover, ok := d.nsecClosestEncloser(q)
	if !ok {
		return denialBogus("no NSEC record matches %s or proves that it does not exist", q)
	}
	wc := ce.wildcard()
	if m := d.nsecMatching(wc); m != nil {
		p := judgeNoData(fmt.Sprintf("the NSEC record at the wildcard %s", wc), m.types, qtype, false)
		p.Delegation = false
		if p.Status == Secure {
			p.Reason = fmt.Sprintf("the NSEC record at %s proves that %s does not exist, and %s", cover.owner, q, p.Reason)
		}
		return p
	}
	if ent := d.nsecEmptyNonTerminal(wc); ent != nil {
		return denialSecure("the NSEC record at %s proves that %s does not exist, and the one at %s that the wildcard %s is an empty non-terminal, which owns no records", cover.owner, q, ent.owner, wc)
	}
	return denialBogus("the NSEC record at %s proves that %s does not exist and no NSEC record matches the wildcard %s: that is NXDOMAIN, not NODATA", cover.owner, q, wc)
}

func (d *denialInput) nsecWildcardAnswer(ce proofName) DenialProof {
	q := d.q
	if d.nsecMatching(q) != nil {
		return denialBogus("the NSEC record at %s proves that the name exists: its answer cannot come from a wildcard", q)
	}
	got, cover, ok := d.nsecClosestEncloser(q)
	if !ok {
		return denialBogus("no NSEC record proves that %s does not exist; a wildcard answer needs that proof (RFC 4035 §5.3.4)", q)
	}
	if !got.equal(ce) {
		return denialBogus("the NSEC record at %s makes %s the closest encloser of %s, not %s: the wrong wildcard answered", cover.owner, got, q, ce)
	}
	return denialSecure("the NSEC record at %s proves that %s does not exist below its closest encloser %s", cover.owner, q, ce)
}
