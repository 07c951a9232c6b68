package dnssec

import "github.com/miekg/dns"

// The algorithm policy of the package, in one place (STYLE 14).
//
// Signing algorithms (RFC 8624 §3.1 "MUST" and "RECOMMENDED" to validate):
// RSASHA256 (8), RSASHA512 (10), ECDSAP256SHA256 (13), ECDSAP384SHA384
// (14) and ED25519 (15). RSA/SHA-1 (5, 7), DSA (3, 6), GOST (12), ED448
// (16) and private algorithms (253, 254) are not implemented: a zone whose
// DS set names only such algorithms is insecure, as RFC 4035 §5.2 says.
//
// DS digests (RFC 8624 §3.3): SHA-256 (2) and SHA-384 (4); SHA-1 (1) only
// when the DS set offers no stronger digest for a supported algorithm
// (RFC 4509 §3). The strongest digest present is the only one used, so a
// matching SHA-1 DS cannot stand in for a SHA-256 DS that does not match
// (S44).

// supportedAlgorithm reports whether RRSIGs and DNSKEYs of algorithm alg
// are validated.
func supportedAlgorithm(alg uint8) bool {
	switch alg {
	case dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// supportedDigest reports whether DS records of digest type d are used.
func supportedDigest(d uint8) bool {
	switch d {
	case dns.SHA1, dns.SHA256, dns.SHA384:
		return true
	}
	return false
}

// digestStrength orders the supported digests: the DS set is judged by
// the strongest digest it offers and no other.
func digestStrength(d uint8) int {
	switch d {
	case dns.SHA1:
		return 1
	case dns.SHA256:
		return 2
	case dns.SHA384:
		return 3
	}
	return 0
}

// bestDigest is the inverse of digestStrength.
func bestDigest(strength int) uint8 {
	switch strength {
	case 1:
		return dns.SHA1
	case 2:
		return dns.SHA256
	case 3:
		return dns.SHA384
	}
	return 0
}

// usableKey reports whether k may validate signatures at all: the Zone
// Key flag set (RFC 4034 §2.1.1), protocol 3 (§2.1.2), not revoked (RFC
// 5011 §2.1), and an algorithm this package implements.
func usableKey(k *dns.DNSKEY) bool {
	return k.Flags&dns.ZONE != 0 && k.Flags&dns.REVOKE == 0 && k.Protocol == 3 && supportedAlgorithm(k.Algorithm)
}

// unusableQtype reports query types Lookup refuses: meta types and the
// ones whose answers cannot be validated as an RRset.
func unusableQtype(t uint16) bool {
	switch t {
	case dns.TypeNone, dns.TypeOPT, dns.TypeRRSIG, dns.TypeTSIG, dns.TypeTKEY,
		dns.TypeIXFR, dns.TypeAXFR, dns.TypeMAILA, dns.TypeMAILB, dns.TypeANY:
		return true
	}
	return false
}
