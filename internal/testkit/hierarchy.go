// Package testkit builds what tests (and `securemail demo`) need to run
// offline: a DNSSEC-signed DNS hierarchy, made and signed when it is
// created and served on loopback.
//
// # DNS
//
// [New] builds a test root ".", the TLD "test.", domains such as
// "example.test." (with names under "_smimecert" and "_openpgpkey") and
// "sub.example.test." (three zones below the root), and one zone under
// "test." for every DNSSEC failure a validator must catch ([Variant]).
// The caller may add records ([Hierarchy.Add], [Hierarchy.AddText]) and
// zones ([Hierarchy.AddZone]) before [Hierarchy.Sign]; [Hierarchy.Serve]
// signs if needed and answers on 127.0.0.1 over UDP and TCP, both as the
// recursive resolver a validating stub asks (RD set: CNAMEs followed
// across zones, RA set) and as the authoritative server of every zone
// for a resolver such as Unbound (RD clear: AA set, CNAMEs followed within
// a zone). [Hierarchy.Anchor] is the trust anchor, in zone-file syntax.
//
// Nothing here needs a *testing.T; [MustStart] is the one-line form for
// tests.
package testkit

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// TTLs of the hierarchy's records.
const (
	dataTTL = 3600
	keyTTL  = 7200 // DNSKEY and DS: longer-lived than data, as in real zones
	negTTL  = 300  // SOA minimum, and the TTL of NSEC and NSEC3 records
)

// Options configure New. A nil *Options means the defaults.
type Options struct {
	// Now is the signing clock: signatures are valid from an hour before
	// it to Validity after it (variants aside). Zero means time.Now().
	Now time.Time
	// Validity is the lifetime of the signatures; 0 means 30 days.
	Validity time.Duration
	// NoVariants leaves out the zones under "test." that exist only to be
	// wrong (see [Variant]); the root, "test.", "example.test." and
	// "sub.example.test." remain.
	NoVariants bool
}

// ZoneConfig is how a zone is signed.
type ZoneConfig struct {
	// Algorithm is the DNSSEC algorithm: 13 (the default), 8, 10, 14, 15,
	// or one miekg cannot sign with (3, 253), whose keys and signatures
	// are then random bytes.
	Algorithm uint8
	// SplitKeys gives the zone a KSK (flags 257) signing the DNSKEY RRset
	// and a ZSK (256) signing the rest; otherwise one CSK signs all.
	SplitKeys bool
	// NSEC3 selects NSEC3 (RFC 5155) over NSEC for denial of existence,
	// with the given iterations and hex salt ("" for none); OptOut sets
	// the opt-out flag and leaves unsigned delegations out of the chain.
	NSEC3           bool
	NSEC3Iterations uint16
	NSEC3Salt       string
	OptOut          bool
	// Unsigned serves the zone without DNSSEC; its parent publishes no DS
	// and proves that with NSEC or NSEC3.
	Unsigned bool

	// faults, set by the variants
	dsMode      dsMode
	kskFlags    uint16           // 0: 257 (or 256 for a ZSK)
	dataWindow  [2]time.Duration // non-zero: inception, expiration of non-DNSKEY RRSIGs, relative to Now
	stripRRSIGs bool             // answers carry no RRSIG over the data (DNSKEY keeps its)
	omitDenial  bool             // negative and wildcard answers carry no NSEC/NSEC3
	signer      string           // sign the data with this other zone's ZSK and name
	corruptNoDS bool             // the parent's NSEC/NSEC3 at this delegation has a broken RRSIG
	keyTrap     int              // extra DNSKEYs sharing the ZSK's tag, and as many bogus RRSIGs per RRset
}

// dsMode is what the parent publishes as the DS RRset of a zone.
type dsMode int

const (
	dsSHA256    dsMode = iota // SHA-256 DS of the KSK
	dsSHA384                  // SHA-384 DS of the KSK
	dsWrongKey                // SHA-256 DS of a key the zone does not have
	dsDowngrade               // correct SHA-1 DS and a SHA-256 DS with the wrong digest
)

// Hierarchy is a set of zones, each the child of the deepest other zone
// above it, signed together. It is not safe for concurrent use until
// signed; after Sign it is read-only and may serve any number of
// goroutines.
type Hierarchy struct {
	now      time.Time
	validity time.Duration
	zones    map[string]*Zone
	signed   bool
	variants []Variant

	rsaKey    crypto.PrivateKey
	rsaPublic string
}

// Zone is one zone of a Hierarchy.
type Zone struct {
	name   string
	cfg    ZoneConfig
	parent *Zone
	// data holds the zone's records by canonical owner and type: its own
	// authoritative records, and the NS, DS and glue of its delegations.
	data map[string]map[uint16][]dns.RR

	// after signing
	ksk, zsk *signingKey
	sigs     map[rrKey][]dns.RR
	cuts     map[string]bool // delegation points below the apex
	exists   map[string]bool // names that exist, empty non-terminals included, glue excluded
	nsec     *nsecChain
	nsec3    *nsec3Chain
}

type rrKey struct {
	name string
	t    uint16
}

// Name returns the zone's apex name.
func (z *Zone) Name() string { return z.name }

// Config returns how the zone is signed.
func (z *Zone) Config() ZoneConfig { return z.cfg }

// New builds the hierarchy: root, "test.", "example.test.",
// "sub.example.test." and, unless opts.NoVariants, the variant zones, with
// their sample records. Keys are made and records signed by Sign (or
// Serve).
func New(opts *Options) (*Hierarchy, error) {
	if opts == nil {
		opts = &Options{}
	}
	h := &Hierarchy{now: opts.Now, validity: opts.Validity, zones: map[string]*Zone{}}
	if h.now.IsZero() {
		h.now = time.Now()
	}
	h.now = h.now.Truncate(time.Second)
	if h.validity <= 0 {
		h.validity = 30 * 24 * time.Hour
	}
	if err := h.buildBase(); err != nil {
		return nil, err
	}
	if !opts.NoVariants {
		if err := h.buildVariants(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Now returns the signing clock: a validator judging the hierarchy
// should use it (or the real time, if Options.Now was left zero).
func (h *Hierarchy) Now() time.Time { return h.now }

// Zone returns the zone with apex name, or nil.
func (h *Hierarchy) Zone(name string) *Zone { return h.zones[canonical(name)] }

// Zones returns the zones, parents before children.
func (h *Hierarchy) Zones() []*Zone {
	out := make([]*Zone, 0, len(h.zones))
	for _, z := range h.zones {
		out = append(out, z)
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := dns.CountLabel(out[i].name), dns.CountLabel(out[j].name)
		if ci != cj {
			return ci < cj
		}
		return out[i].name < out[j].name
	})
	return out
}

// ErrSigned is returned when the hierarchy is changed after signing.
var ErrSigned = errors.New("testkit: the hierarchy is already signed")

// AddZone adds the zone name, a child of the deepest zone above it, with
// an SOA, an NS and the A record of its name server. cfg nil means the
// defaults (algorithm 13, one CSK, NSEC).
func (h *Hierarchy) AddZone(name string, cfg *ZoneConfig) (*Zone, error) {
	if h.signed {
		return nil, ErrSigned
	}
	name = canonical(name)
	if _, ok := dns.IsDomainName(name); !ok {
		return nil, fmt.Errorf("testkit: %q is not a domain name", name)
	}
	if h.zones[name] != nil {
		return nil, fmt.Errorf("testkit: zone %s exists", name)
	}
	z := &Zone{name: name, data: map[string]map[uint16][]dns.RR{}}
	if cfg != nil {
		z.cfg = *cfg
	}
	if z.cfg.Algorithm == 0 {
		z.cfg.Algorithm = dns.ECDSAP256SHA256
	}
	if name != "." {
		z.parent = h.zoneAbove(parentOf(name))
		if z.parent == nil {
			return nil, fmt.Errorf("testkit: no zone above %s", name)
		}
	}
	// Children already added under this name now hang below it.
	for _, c := range h.zones {
		if c.parent != nil && isBelow(c.name, name) && isAtOrBelow(name, c.parent.name) {
			c.parent = z
		}
	}
	h.zones[name] = z
	ns := "ns1." + strings.TrimPrefix(name, ".")
	if name == "." {
		ns = "ns1."
	}
	z.add(&dns.SOA{Hdr: hdr(name, dns.TypeSOA, dataTTL), Ns: ns, Mbox: "hostmaster." + strings.TrimPrefix(name, "."),
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: negTTL})
	z.add(&dns.NS{Hdr: hdr(name, dns.TypeNS, dataTTL), Ns: ns})
	z.add(&dns.A{Hdr: hdr(ns, dns.TypeA, dataTTL), A: []byte{127, 0, 0, 1}})
	return z, nil
}

// zoneAbove returns the deepest zone at or above name.
func (h *Hierarchy) zoneAbove(name string) *Zone {
	for n := name; ; n = parentOf(n) {
		if z := h.zones[n]; z != nil {
			return z
		}
		if n == "." {
			return nil
		}
	}
}

// Add puts records into the deepest zone at or above each owner name
// (records at a zone apex go to that zone, not to its parent). NS and DS
// records of delegations, DNSKEY, RRSIG, NSEC and NSEC3 records are made
// by Sign and refused here.
func (h *Hierarchy) Add(rrs ...dns.RR) error {
	if h.signed {
		return ErrSigned
	}
	for _, rr := range rrs {
		if rr == nil {
			return errors.New("testkit: nil record")
		}
		switch rr.Header().Rrtype {
		case dns.TypeDS, dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM:
			return fmt.Errorf("testkit: %s records are made when signing", dns.TypeToString[rr.Header().Rrtype])
		}
		if rr.Header().Class != dns.ClassINET {
			return fmt.Errorf("testkit: %s: class must be IN", rr)
		}
		rr = dns.Copy(rr)
		rr.Header().Name = canonical(rr.Header().Name)
		z := h.zoneAbove(rr.Header().Name)
		if z == nil {
			return fmt.Errorf("testkit: no zone for %s", rr.Header().Name)
		}
		z.add(rr)
	}
	return nil
}

// AddText parses records in zone-file syntax (one per line; $ORIGIN and
// $TTL allowed; relative names are relative to the root) and adds them.
func (h *Hierarchy) AddText(text string) error {
	return h.AddFrom(strings.NewReader(text))
}

// AddFrom is AddText reading from r.
func (h *Hierarchy) AddFrom(r io.Reader) error {
	zp := dns.NewZoneParser(r, ".", "")
	zp.SetDefaultTTL(dataTTL)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("testkit: %w", err)
	}
	return h.Add(rrs...)
}

func (z *Zone) add(rr dns.RR) {
	h := rr.Header()
	types := z.data[h.Name]
	if types == nil {
		types = map[uint16][]dns.RR{}
		z.data[h.Name] = types
	}
	for _, old := range types[h.Rrtype] {
		if dns.IsDuplicate(old, rr) {
			return
		}
	}
	types[h.Rrtype] = append(types[h.Rrtype], rr)
}

// Anchor returns the trust anchor of the hierarchy in zone-file syntax:
// the DS (SHA-256) and the DNSKEY of the root's KSK, one per line, as
// dnssec.ParseAnchors and Unbound's trust-anchor-file read them.
func (h *Hierarchy) Anchor() (string, error) {
	if !h.signed {
		return "", errors.New("testkit: the hierarchy is not signed yet")
	}
	root := h.zones["."]
	ds := root.ksk.dnskey.ToDS(dns.SHA256)
	return ds.String() + "\n" + root.ksk.dnskey.String() + "\n", nil
}

// AnchorRRs returns the records of Anchor.
func (h *Hierarchy) AnchorRRs() ([]dns.RR, error) {
	if !h.signed {
		return nil, errors.New("testkit: the hierarchy is not signed yet")
	}
	root := h.zones["."]
	return []dns.RR{root.ksk.dnskey.ToDS(dns.SHA256), dns.Copy(root.ksk.dnskey)}, nil
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func canonical(name string) string { return strings.ToLower(dns.Fqdn(name)) }

func parentOf(name string) string {
	if name == "." {
		return "."
	}
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// isAtOrBelow reports whether name is ancestor or below it, label-wise.
func isAtOrBelow(name, ancestor string) bool { return dns.IsSubDomain(ancestor, name) }

// isBelow reports whether name is strictly below ancestor.
func isBelow(name, ancestor string) bool {
	return name != ancestor && dns.IsSubDomain(ancestor, name)
}
