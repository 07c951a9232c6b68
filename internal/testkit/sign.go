package testkit

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Sign makes the keys of every signed zone, publishes each zone's
// delegation (NS, glue, and DS unless the zone is unsigned) in its
// parent, and signs every zone: RRSIGs over each authoritative RRset and
// an NSEC or NSEC3 chain. Calling it again does nothing.
func (h *Hierarchy) Sign() error {
	if h.signed {
		return nil
	}
	if h.zones["."] == nil {
		return fmt.Errorf("testkit: the hierarchy has no root zone")
	}
	zones := h.Zones()
	for _, z := range zones {
		if err := h.makeKeys(z); err != nil {
			return err
		}
	}
	for _, z := range zones {
		if z.parent != nil {
			if err := h.delegate(z); err != nil {
				return err
			}
		}
	}
	for _, z := range zones {
		if err := h.signZone(z); err != nil {
			return fmt.Errorf("testkit: signing %s: %w", z.name, err)
		}
	}
	h.signed = true
	return nil
}

func (h *Hierarchy) makeKeys(z *Zone) error {
	if z.cfg.Unsigned {
		return nil
	}
	kskFlags := uint16(dns.ZONE | dns.SEP)
	if z.cfg.kskFlags != 0 {
		kskFlags = z.cfg.kskFlags
	}
	var err error
	if z.ksk, err = h.newKey(z.name, z.cfg.Algorithm, kskFlags); err != nil {
		return err
	}
	z.zsk = z.ksk
	if z.cfg.SplitKeys {
		if z.zsk, err = h.newKey(z.name, z.cfg.Algorithm, dns.ZONE); err != nil {
			return err
		}
	}
	z.add(z.ksk.dnskey)
	if z.zsk != z.ksk {
		z.add(z.zsk.dnskey)
	}
	for i := 0; i < z.cfg.keyTrap; i++ {
		k, err := collidingKey(z.name, dns.ZONE, z.zsk.tag)
		if err != nil {
			return err
		}
		z.add(k)
	}
	return nil
}

// delegate publishes z's NS, glue and DS records in its parent.
func (h *Hierarchy) delegate(z *Zone) error {
	p := z.parent
	for _, ns := range z.data[z.name][dns.TypeNS] {
		p.add(dns.Copy(ns))
		target := ns.(*dns.NS).Ns
		for _, a := range z.data[target][dns.TypeA] {
			p.add(dns.Copy(a))
		}
	}
	if z.cfg.Unsigned {
		return nil
	}
	var ds []*dns.DS
	switch z.cfg.dsMode {
	case dsSHA256:
		ds = append(ds, z.ksk.dnskey.ToDS(dns.SHA256))
	case dsSHA384:
		ds = append(ds, z.ksk.dnskey.ToDS(dns.SHA384))
	case dsWrongKey:
		other, err := h.newKey(z.name, z.cfg.Algorithm, dns.ZONE|dns.SEP)
		if err != nil {
			return err
		}
		ds = append(ds, other.dnskey.ToDS(dns.SHA256))
	case dsDowngrade:
		weak := z.ksk.dnskey.ToDS(dns.SHA1)
		strong := z.ksk.dnskey.ToDS(dns.SHA256)
		strong.Digest = flipHex(strong.Digest)
		ds = append(ds, weak, strong)
	}
	for _, d := range ds {
		if d == nil {
			return fmt.Errorf("testkit: no DS for %s", z.name)
		}
		d.Hdr.Ttl = keyTTL
		p.add(d)
	}
	return nil
}

// flipHex changes the last digit of a hex string.
func flipHex(s string) string {
	if s == "" {
		return s
	}
	last := s[len(s)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return s[:len(s)-1] + string(repl)
}

// signZone finds the zone's cuts and names, signs its authoritative
// RRsets and builds its denial chain.
func (h *Hierarchy) signZone(z *Zone) error {
	z.sigs = map[rrKey][]dns.RR{}
	z.cuts = map[string]bool{}
	z.exists = map[string]bool{}
	for name, types := range z.data {
		if name != z.name && len(types[dns.TypeNS]) > 0 {
			z.cuts[name] = true
		}
	}
	for name := range z.data {
		if z.occluded(name) {
			continue
		}
		for n := name; ; n = parentOf(n) {
			z.exists[n] = true
			if n == z.name || n == "." {
				break
			}
		}
	}
	if z.cfg.Unsigned {
		return nil
	}
	for _, name := range sortedNames(z.data) {
		if z.occluded(name) {
			continue
		}
		for _, t := range sortedTypes(z.data[name]) {
			if z.cuts[name] && t != dns.TypeDS {
				continue // the NS of a delegation and its glue are not signed
			}
			if err := h.signRRset(z, z.data[name][t]); err != nil {
				return err
			}
		}
	}
	var err error
	if z.cfg.NSEC3 {
		err = h.buildNSEC3(z)
	} else {
		err = h.buildNSEC(z)
	}
	if err != nil {
		return err
	}
	// The no-DS proof of a child that asks for it gets a broken RRSIG.
	for _, c := range h.zones {
		if c.parent != z || !c.cfg.corruptNoDS {
			continue
		}
		var k rrKey
		if z.nsec3 != nil {
			k = rrKey{z.nsec3.ownerOf(c.name), dns.TypeNSEC3}
		} else {
			k = rrKey{c.name, dns.TypeNSEC}
		}
		for _, s := range z.sigs[k] {
			s.(*dns.RRSIG).Signature = corruptBase64(s.(*dns.RRSIG).Signature)
		}
	}
	return nil
}

// occluded reports whether name lies strictly below one of z's cuts: glue
// or data of the child that the parent does not serve.
func (z *Zone) occluded(name string) bool {
	for n := name; n != z.name && n != "."; {
		p := parentOf(n)
		if z.cuts[p] && p != z.name {
			return true
		}
		n = p
	}
	return false
}

// signRRset adds the RRSIGs over rrset, as the zone's variant wants them.
func (h *Hierarchy) signRRset(z *Zone, rrset []dns.RR) error {
	head := rrset[0].Header()
	key, signer := z.zsk, z.name
	inception, expiration := h.now.Add(-time.Hour), h.now.Add(h.validity)
	if head.Rrtype == dns.TypeDNSKEY {
		key = z.ksk
	} else {
		if z.cfg.dataWindow != [2]time.Duration{} {
			inception, expiration = h.now.Add(z.cfg.dataWindow[0]), h.now.Add(z.cfg.dataWindow[1])
		}
		if z.cfg.signer != "" {
			other := h.zones[z.cfg.signer]
			if other == nil || other.zsk == nil {
				return fmt.Errorf("signer zone %s is missing", z.cfg.signer)
			}
			key, signer = other.zsk, other.name
		}
	}
	k := rrKey{head.Name, head.Rrtype}
	if head.Rrtype != dns.TypeDNSKEY {
		for i := 0; i < z.cfg.keyTrap; i++ {
			z.sigs[k] = append(z.sigs[k], fakeSig(rrset, z.zsk.tag, dns.ECDSAP256SHA256, signer, inception, expiration))
		}
	}
	if key.priv == nil {
		z.sigs[k] = append(z.sigs[k], fakeSig(rrset, key.tag, key.dnskey.Algorithm, signer, inception, expiration))
		return nil
	}
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Ttl: head.Ttl},
		Algorithm:  key.dnskey.Algorithm,
		KeyTag:     key.tag,
		SignerName: signer,
		Inception:  uint32(inception.Unix()),
		Expiration: uint32(expiration.Unix()),
	}
	if err := sig.Sign(key.priv, rrset); err != nil {
		return fmt.Errorf("%s %s: %w", head.Name, dns.TypeToString[head.Rrtype], err)
	}
	z.sigs[k] = append(z.sigs[k], sig)
	return nil
}

// fakeSig is an RRSIG with every field right but the signature: random
// bytes, for algorithms miekg cannot sign with and for KeyTrap.
func fakeSig(rrset []dns.RR, tag uint16, alg uint8, signer string, inception, expiration time.Time) *dns.RRSIG {
	head := rrset[0].Header()
	labels := dns.CountLabel(head.Name)
	if strings.HasPrefix(head.Name, "*.") {
		labels--
	}
	b := make([]byte, 64)
	rand.Read(b)
	return &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: head.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: head.Ttl},
		TypeCovered: head.Rrtype,
		Algorithm:   alg,
		Labels:      uint8(labels),
		OrigTtl:     head.Ttl,
		Expiration:  uint32(expiration.Unix()),
		Inception:   uint32(inception.Unix()),
		KeyTag:      tag,
		SignerName:  signer,
		Signature:   base64.StdEncoding.EncodeToString(b),
	}
}

// corruptBase64 flips a bit in the middle of a base64 signature.
func corruptBase64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return s
	}
	b[len(b)/2] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// nsecChain is a zone's NSEC records in canonical order.
type nsecChain struct {
	names []string
	recs  map[string]*dns.NSEC
}

func (h *Hierarchy) buildNSEC(z *Zone) error {
	var names []string
	for name, types := range z.data {
		if z.occluded(name) || len(types) == 0 {
			continue
		}
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return canonicalLess(names[i], names[j]) })
	c := &nsecChain{names: names, recs: map[string]*dns.NSEC{}}
	for i, name := range names {
		next := names[(i+1)%len(names)]
		types := []uint16{dns.TypeNSEC, dns.TypeRRSIG}
		for t := range z.data[name] {
			if z.cuts[name] && t != dns.TypeNS && t != dns.TypeDS {
				continue
			}
			types = append(types, t)
		}
		rec := &dns.NSEC{Hdr: hdr(name, dns.TypeNSEC, negTTL), NextDomain: next, TypeBitMap: sortTypes(types)}
		c.recs[name] = rec
		if err := h.signRRset(z, []dns.RR{rec}); err != nil {
			return err
		}
	}
	z.nsec = c
	return nil
}

// covering returns the NSEC record whose owner is the last name before
// name in canonical order (the one whose span covers name), or the record
// at name itself when name has one.
func (c *nsecChain) covering(name string) *dns.NSEC {
	i := sort.Search(len(c.names), func(i int) bool { return !canonicalLess(c.names[i], name) })
	if i < len(c.names) && c.names[i] == name {
		return c.recs[name]
	}
	if i == 0 {
		i = len(c.names)
	}
	return c.recs[c.names[i-1]]
}

// nsec3Chain is a zone's NSEC3 records in hash order.
type nsec3Chain struct {
	zone   string
	iter   uint16
	salt   string
	hashes []string // upper-case base32hex, sorted
	recs   map[string]*dns.NSEC3
}

func (c *nsec3Chain) hash(name string) string {
	return dns.HashName(name, dns.SHA1, c.iter, c.salt)
}

func (c *nsec3Chain) ownerOf(name string) string {
	return strings.ToLower(c.hash(name)) + "." + c.zone
}

func (h *Hierarchy) buildNSEC3(z *Zone) error {
	c := &nsec3Chain{zone: z.name, iter: z.cfg.NSEC3Iterations, salt: z.cfg.NSEC3Salt, recs: map[string]*dns.NSEC3{}}
	// RFC 5155 §7.1: every authoritative name and every empty
	// non-terminal has an NSEC3 record, except that with opt-out unsigned
	// delegations (and non-terminals that exist only because of them) may
	// be left out.
	names := map[string]bool{}
	for name, types := range z.data {
		if z.occluded(name) || len(types) == 0 {
			continue
		}
		if z.cfg.OptOut && z.cuts[name] && len(types[dns.TypeDS]) == 0 {
			continue
		}
		for n := name; ; n = parentOf(n) {
			names[n] = true
			if n == z.name || n == "." {
				break
			}
		}
	}
	z.data[z.name][dns.TypeNSEC3PARAM] = []dns.RR{&dns.NSEC3PARAM{Hdr: hdr(z.name, dns.TypeNSEC3PARAM, 0),
		Hash: dns.SHA1, Iterations: c.iter, SaltLength: uint8(len(c.salt) / 2), Salt: c.salt}}
	if err := h.signRRset(z, z.data[z.name][dns.TypeNSEC3PARAM]); err != nil {
		return err
	}
	byHash := map[string]string{}
	for name := range names {
		hv := c.hash(name)
		if hv == "" {
			return fmt.Errorf("cannot hash %s", name)
		}
		byHash[hv] = name
		c.hashes = append(c.hashes, hv)
	}
	sort.Strings(c.hashes)
	var flags uint8
	if z.cfg.OptOut {
		flags = 1
	}
	for i, hv := range c.hashes {
		name := byHash[hv]
		var types []uint16
		signed := false
		for t := range z.data[name] {
			if z.cuts[name] && t != dns.TypeNS && t != dns.TypeDS {
				continue
			}
			types = append(types, t)
			if !z.cuts[name] || t == dns.TypeDS {
				signed = true
			}
		}
		if signed {
			types = append(types, dns.TypeRRSIG)
		}
		rec := &dns.NSEC3{
			Hdr:        hdr(strings.ToLower(hv)+"."+z.name, dns.TypeNSEC3, negTTL),
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: c.iter,
			SaltLength: uint8(len(c.salt) / 2),
			Salt:       c.salt,
			HashLength: 20,
			NextDomain: c.hashes[(i+1)%len(c.hashes)],
			TypeBitMap: sortTypes(types),
		}
		c.recs[hv] = rec
		if err := h.signRRset(z, []dns.RR{rec}); err != nil {
			return err
		}
	}
	z.nsec3 = c
	return nil
}

// match returns the NSEC3 record for name, or nil.
func (c *nsec3Chain) match(name string) *dns.NSEC3 { return c.recs[c.hash(name)] }

// cover returns the NSEC3 record whose span covers name's hash.
func (c *nsec3Chain) cover(name string) *dns.NSEC3 {
	hv := c.hash(name)
	i := sort.SearchStrings(c.hashes, hv)
	if i == 0 {
		i = len(c.hashes)
	}
	return c.recs[c.hashes[i-1]]
}

func sortedNames(m map[string]map[uint16][]dns.RR) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return canonicalLess(out[i], out[j]) })
	return out
}

func sortedTypes(m map[uint16][]dns.RR) []uint16 {
	out := make([]uint16, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	return sortTypes(out)
}

func sortTypes(ts []uint16) []uint16 {
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	out := ts[:0]
	for i, t := range ts {
		if i == 0 || t != ts[i-1] {
			out = append(out, t)
		}
	}
	return out
}

// canonicalLess orders names as RFC 4034 §6.1 does: by labels from the
// right, each compared as lower-case octets.
func canonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		x, y := strings.ToLower(la[len(la)-i]), strings.ToLower(lb[len(lb)-i])
		if x != y {
			return x < y
		}
	}
	return len(la) < len(lb)
}
