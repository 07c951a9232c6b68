package dnssec

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// verdict is the judgement on one RRset, one proof or one link of a
// chain: a status, a reason a person can read, its RFC 8914 code, and how
// long the judgement may be kept.
type verdict struct {
	status Status
	reason string
	ede    uint16
	// ttl is the number of seconds the data may be cached: the smallest
	// TTL relied on (clamped to the RRSIG's original TTL) and the time left
	// until the earliest signature relied on expires. noTTL when nothing
	// bounds it.
	ttl uint32
}

const noTTL = ^uint32(0)

func secure() verdict { return verdict{status: Secure, ttl: noTTL} }

func bogus(ede uint16, format string, args ...any) verdict {
	return verdict{status: Bogus, ede: ede, reason: fmt.Sprintf(format, args...), ttl: noTTL}
}

func insecure(ede uint16, format string, args ...any) verdict {
	return verdict{status: Insecure, ede: ede, reason: fmt.Sprintf(format, args...), ttl: noTTL}
}

func indeterminate(ede uint16, format string, args ...any) verdict {
	return verdict{status: Indeterminate, ede: ede, reason: fmt.Sprintf(format, args...), ttl: noTTL}
}

// badness orders statuses for combining the links of an answer: the
// answer is as good as its worst link.
func badness(s Status) int {
	switch s {
	case Secure:
		return 0
	case Insecure:
		return 1
	case Indeterminate:
		return 2
	}
	return 3
}

// combine returns the verdict on two things that must both hold.
func combine(a, b verdict) verdict {
	out := a
	if badness(b.status) > badness(a.status) {
		out = b
	}
	out.ttl = min(a.ttl, b.ttl)
	return out
}

// zoneKey is a DNSKEY with its key tag computed once (miekg recomputes
// it, allocating, on every call).
type zoneKey struct {
	key *dns.DNSKEY
	tag uint16
}

// sigWindow returns the inception and expiration of sig as absolute
// times: RFC 4034 §3.1.5 timestamps are 32-bit serial numbers (RFC
// 1982), each read as the instant within 68 years of now.
func sigWindow(sig *dns.RRSIG, now time.Time) (inception, expiration time.Time) {
	n := now.Unix()
	near := func(ts uint32) time.Time {
		return time.Unix(n+int64(int32(ts-uint32(n))), 0)
	}
	return near(sig.Inception), near(sig.Expiration)
}

// failure ranks why a signature was not accepted, so that when every
// signature of an RRset fails the most telling reason is reported.
type failure struct {
	rank int
	v    verdict
}

func (f *failure) note(rank int, v verdict) {
	if rank > f.rank {
		f.rank, f.v = rank, v
	}
}

// sigCheck is the outcome of verifyRRset beyond the verdict: the RRSIG
// that proved the RRset, for wildcard detection.
type sigCheck struct {
	verdict
	sig *dns.RRSIG
}

// verifyRRset checks that one of sigs, made by one of keys of zone,
// covers rrset (RFC 4035 §5.3). Every check that miekg's RRSIG.Verify
// does not make, or makes differently, is made here first: the signer is
// the zone apex and the owner is at or below it, compared label by label
// (S42); the validity window is read with the resolver's clock (S41); the
// Labels field is at most the owner's label count. Key-tag collisions are
// handled by trying every key with the tag, within the work budget (S48).
// It lowers the TTLs of rrset to the original TTL and to the time left
// until the signature expires.
func (lk *lookup) verifyRRset(rrset []dns.RR, sigs []*dns.RRSIG, zone string, keys []zoneKey) sigCheck {
	if len(rrset) == 0 {
		return sigCheck{verdict: bogus(dns.ExtendedErrorCodeOther, "empty RRset")}
	}
	h := rrset[0].Header()
	owner, typ := h.Name, dns.TypeToString[h.Rrtype]
	if len(sigs) == 0 {
		return sigCheck{verdict: bogus(dns.ExtendedErrorCodeRRSIGsMissing, "%s %s has no RRSIG in signed zone %s", owner, typ, zone)}
	}
	if !isAtOrBelow(owner, zone) {
		return sigCheck{verdict: bogus(dns.ExtendedErrorCodeDNSBogus, "%s %s is not in zone %s", owner, typ, zone)}
	}
	ownerLabels := dns.CountLabel(owner)
	var fail failure
	fail.v = bogus(dns.ExtendedErrorCodeDNSBogus, "no RRSIG for %s %s is usable", owner, typ)
	attempts := 0
	for _, sig := range sigs {
		if !sameName(sig.SignerName, zone) {
			fail.note(1, bogus(dns.ExtendedErrorCodeDNSBogus, "RRSIG over %s %s names signer %s, not the zone apex %s", owner, typ, sig.SignerName, zone))
			continue
		}
		if !supportedAlgorithm(sig.Algorithm) {
			fail.note(1, bogus(dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm, "RRSIG over %s %s uses unsupported algorithm %d", owner, typ, sig.Algorithm))
			continue
		}
		if int(sig.Labels) > ownerLabels {
			fail.note(2, bogus(dns.ExtendedErrorCodeDNSBogus, "RRSIG over %s %s has Labels %d, more than the owner's %d", owner, typ, sig.Labels, ownerLabels))
			continue
		}
		inception, expiration := sigWindow(sig, lk.now)
		switch {
		case expiration.Before(inception):
			fail.note(4, bogus(dns.ExtendedErrorCodeSignatureExpiredBeforeValid, "RRSIG over %s %s expires (%s) before its inception (%s)", owner, typ, stamp(expiration), stamp(inception)))
			continue
		case lk.now.Before(inception):
			fail.note(4, bogus(dns.ExtendedErrorCodeSignatureNotYetValid, "RRSIG over %s %s is not valid before %s", owner, typ, stamp(inception)))
			continue
		case lk.now.After(expiration):
			fail.note(4, bogus(dns.ExtendedErrorCodeSignatureExpired, "RRSIG over %s %s expired at %s", owner, typ, stamp(expiration)))
			continue
		}
		tried := false
		for _, k := range keys {
			if k.tag != sig.KeyTag || k.key.Algorithm != sig.Algorithm {
				continue
			}
			if attempts >= lk.lim.MaxVerificationsPerRRset {
				return sigCheck{verdict: bogus(dns.ExtendedErrorCodeDNSBogus, "too many signature verifications for %s %s (limit %d per RRset; KeyTrap, CVE-2023-50387)", owner, typ, lk.lim.MaxVerificationsPerRRset)}
			}
			if lk.verifications >= lk.lim.MaxVerifications {
				return sigCheck{verdict: indeterminate(dns.ExtendedErrorCodeDNSSECIndeterminate, "work limit: %d signature verifications in one lookup", lk.lim.MaxVerifications)}
			}
			attempts++
			lk.verifications++
			tried = true
			if err := sig.Verify(k.key, rrset); err != nil {
				continue
			}
			v := secure()
			v.ttl = clampTTL(rrset, sig, expiration, lk.now)
			return sigCheck{verdict: v, sig: sig}
		}
		if tried {
			fail.note(3, bogus(dns.ExtendedErrorCodeDNSBogus, "RRSIG over %s %s by key %d does not verify", owner, typ, sig.KeyTag))
		} else {
			fail.note(2, bogus(dns.ExtendedErrorCodeDNSKEYMissing, "no DNSKEY of %s with tag %d and algorithm %d for the RRSIG over %s %s", zone, sig.KeyTag, sig.Algorithm, owner, typ))
		}
	}
	return sigCheck{verdict: fail.v}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// clampTTL lowers the TTL of each record of rrset to the RRSIG's original
// TTL (RFC 4035 §5.3.3) and to the seconds left until the signature
// expires, and returns the resulting TTL.
func clampTTL(rrset []dns.RR, sig *dns.RRSIG, expiration, now time.Time) uint32 {
	ttl := sig.OrigTtl
	if left := expiration.Sub(now) / time.Second; left < time.Duration(ttl) {
		ttl = uint32(max(left, 0))
	}
	for _, rr := range rrset {
		if rr.Header().Ttl < ttl {
			ttl = rr.Header().Ttl
		}
	}
	for _, rr := range rrset {
		rr.Header().Ttl = ttl
	}
	return ttl
}

// wildcardEncloser returns, when sig shows that the owner of an RRset was
// synthesised from a wildcard (its Labels field counts fewer labels than
// the owner has, RFC 4035 §5.3.2), the wildcard's parent: the closest
// encloser. ok is false for an RRset that is not an expansion, including
// the wildcard RRset itself asked for by its literal "*" name.
func wildcardEncloser(owner string, sig *dns.RRSIG) (string, bool) {
	labels := dns.SplitDomainName(owner)
	n := int(sig.Labels)
	if n >= len(labels) {
		return "", false
	}
	if labels[0] == "*" && n == len(labels)-1 {
		return "", false
	}
	if n == 0 {
		return ".", true
	}
	return strings.Join(labels[len(labels)-n:], ".") + ".", true
}

// verifyDNSKEYs judges the DNSKEY RRset of zone by the DS records its
// parent publishes or by the anchors (DS or DNSKEY) configured for it, and
// returns the keys that may then validate the zone's data.
//
// Policy (policy.go): only DS records of supported algorithms count; if
// there are none the zone is insecure (RFC 4035 §5.2). Of those, only the
// strongest digest present counts (RFC 4509 §3; S44). A DS must match a
// DNSKEY with the Zone Key flag and protocol 3 (S43) that signs the DNSKEY
// RRset.
func (lk *lookup) verifyDNSKEYs(zone string, keys []*dns.DNSKEY, sigs []*dns.RRSIG, dsSet []*dns.DS, anchorKeys []*dns.DNSKEY) (verdict, []zoneKey) {
	if len(keys) == 0 {
		return bogus(dns.ExtendedErrorCodeDNSKEYMissing, "no DNSKEY records for %s", zone), nil
	}
	var candidates []zoneKey
	var fail failure
	fail.v = bogus(dns.ExtendedErrorCodeDNSKEYMissing, "no DNSKEY of %s matches its DS records", zone)

	if len(dsSet) > 0 {
		best, anyAlg := 0, false
		for _, ds := range dsSet {
			if !supportedAlgorithm(ds.Algorithm) {
				continue
			}
			anyAlg = true
			if supportedDigest(ds.DigestType) && digestStrength(ds.DigestType) > best {
				best = digestStrength(ds.DigestType)
			}
		}
		if !anyAlg {
			return insecure(dns.ExtendedErrorCodeUnsupportedDNSKEYAlgorithm, "the DS records of %s name only algorithms this validator does not implement (%s)", zone, dsAlgorithms(dsSet)), nil
		}
		if best == 0 {
			return insecure(dns.ExtendedErrorCodeUnsupportedDSDigestType, "the DS records of %s use only unsupported digest types", zone), nil
		}
		tags := make([]uint16, len(keys))
		for i, k := range keys {
			tags[i] = k.KeyTag()
		}
		weaker := false
		for _, ds := range dsSet {
			if supportedAlgorithm(ds.Algorithm) && supportedDigest(ds.DigestType) && digestStrength(ds.DigestType) < best {
				weaker = true
			}
		}
		if weaker {
			fail.v.reason += fmt.Sprintf(" with digest %s (weaker digests are not used when a stronger one is offered, RFC 4509 §3)", dns.HashToString[bestDigest(best)])
		}
		for _, ds := range dsSet {
			if !supportedAlgorithm(ds.Algorithm) || digestStrength(ds.DigestType) != best {
				continue
			}
			for i, k := range keys {
				if tags[i] != ds.KeyTag || k.Algorithm != ds.Algorithm {
					continue
				}
				got := k.ToDS(ds.DigestType)
				if got == nil || !strings.EqualFold(got.Digest, ds.Digest) {
					continue
				}
				if !usableKey(k) {
					fail.note(2, bogus(dns.ExtendedErrorCodeNoZoneKeyBitSet, "the DNSKEY of %s matching DS %d has flags %d, protocol %d: not a usable zone key", zone, ds.KeyTag, k.Flags, k.Protocol))
					continue
				}
				candidates = append(candidates, zoneKey{key: k, tag: tags[i]})
			}
		}
	}
	for _, a := range anchorKeys {
		if !usableKey(a) {
			continue
		}
		candidates = append(candidates, zoneKey{key: a, tag: a.KeyTag()})
	}
	if len(candidates) > 0 {
		v := lk.verifyRRset(dnskeyRRs(keys), sigs, zone, candidates)
		if v.status == Secure {
			var trusted []zoneKey
			for _, k := range keys {
				if usableKey(k) {
					trusted = append(trusted, zoneKey{key: k, tag: k.KeyTag()})
				}
			}
			return v.verdict, trusted
		}
		fail.note(3, v.verdict)
	}
	return fail.v, nil
}

func dnskeyRRs(keys []*dns.DNSKEY) []dns.RR {
	out := make([]dns.RR, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

func dsAlgorithms(ds []*dns.DS) string {
	seen := map[uint8]bool{}
	var names []string
	for _, d := range ds {
		if seen[d.Algorithm] {
			continue
		}
		seen[d.Algorithm] = true
		if n, ok := dns.AlgorithmToString[d.Algorithm]; ok {
			names = append(names, fmt.Sprintf("%d %s", d.Algorithm, n))
		} else {
			names = append(names, fmt.Sprintf("%d", d.Algorithm))
		}
	}
	return strings.Join(names, ", ")
}
