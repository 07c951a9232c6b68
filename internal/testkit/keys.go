package testkit

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/miekg/dns"
)

// signingKey is a zone key: the published DNSKEY and, for keys that sign,
// the private half.
type signingKey struct {
	dnskey *dns.DNSKEY
	priv   crypto.Signer // nil for keys of algorithms miekg cannot sign with
	tag    uint16
}

// newKey makes a key of algorithm alg for zone with the given flags. RSA
// keys (algorithms 8 and 10) reuse one RSA-2048 key per hierarchy: RSA
// key generation is the slowest thing in a test run, and two zones
// sharing a key changes nothing a validator can see. Algorithms miekg
// cannot sign with (DSA, private algorithms) get random key material.
func (h *Hierarchy) newKey(zone string, alg uint8, flags uint16) (*signingKey, error) {
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: keyTTL},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	var priv crypto.PrivateKey
	var err error
	switch alg {
	case dns.RSASHA256, dns.RSASHA512:
		if h.rsaKey == nil {
			tmp := &dns.DNSKEY{Algorithm: dns.RSASHA256}
			if h.rsaKey, err = tmp.Generate(2048); err != nil {
				return nil, fmt.Errorf("testkit: RSA key: %w", err)
			}
			h.rsaPublic = tmp.PublicKey
		}
		priv, k.PublicKey = h.rsaKey, h.rsaPublic
	case dns.ECDSAP256SHA256:
		priv, err = k.Generate(256)
	case dns.ECDSAP384SHA384:
		priv, err = k.Generate(384)
	case dns.ED25519:
		priv, err = k.Generate(256)
	default:
		b := make([]byte, 64)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		k.PublicKey = base64.StdEncoding.EncodeToString(b)
	}
	if err != nil {
		return nil, fmt.Errorf("testkit: key for %s: %w", zone, err)
	}
	sk := &signingKey{dnskey: k, tag: k.KeyTag()}
	if priv != nil {
		sk.priv = priv.(crypto.Signer)
	}
	return sk, nil
}

// collidingKey returns an algorithm-13 DNSKEY for zone whose key tag is
// tag: random key material whose last two octets are chosen to make the
// RFC 4034 Appendix B checksum come out right. It is not a valid curve
// point; it only has to cost a validator a signature check (KeyTrap).
func collidingKey(zone string, flags uint16, tag uint16) (*dns.DNSKEY, error) {
	pub := make([]byte, 64)
	if _, err := rand.Read(pub); err != nil {
		return nil, err
	}
	// The tag sums the RDATA as 16-bit big-endian words: flags, then
	// protocol and algorithm, then the key (whose length is even, so its
	// last two octets form the last word).
	rdata := append([]byte{byte(flags >> 8), byte(flags), 3, dns.ECDSAP256SHA256}, pub...)
	var acc uint32
	for i := 0; i < len(rdata)-2; i += 2 {
		acc += uint32(rdata[i])<<8 | uint32(rdata[i+1])
	}
	for x := uint32(0); x <= 0xFFFF; x++ {
		s := acc + x
		s += s >> 16 & 0xFFFF
		if uint16(s) == tag {
			pub[62], pub[63] = byte(x>>8), byte(x)
			k := &dns.DNSKEY{
				Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: keyTTL},
				Flags:     flags,
				Protocol:  3,
				Algorithm: dns.ECDSAP256SHA256,
				PublicKey: base64.StdEncoding.EncodeToString(pub),
			}
			if k.KeyTag() != tag {
				return nil, fmt.Errorf("testkit: colliding key has tag %d, want %d", k.KeyTag(), tag)
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("testkit: no colliding key for tag %d", tag)
}
