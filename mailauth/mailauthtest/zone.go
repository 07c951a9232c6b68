// Package mailauthtest serves DNS records from memory for tests of mail
// authentication, and for the command line's offline test hook: a [Zone]
// answers the lookups mailauth.DNS asks for (TXT, MX, addresses, PTR),
// with the errors net.Resolver gives (NXDOMAIN and NODATA as
// *net.DNSError with IsNotFound, SERVFAIL with IsTemporary), and a DNSSEC
// status per name for the DNSSEC extension.
//
// Records come from zone-file text ([ParseZone], [Zone.Add]) or from
// [Zone.AddTXT]. Nothing here touches the network.
package mailauthtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/securemail/securemail/dnssec"
)

// Zone is an in-memory DNS. The zero value is empty and ready; it is safe
// for concurrent use.
type Zone struct {
	mu       sync.Mutex
	txt      map[string][]string
	mx       map[string][]*net.MX
	addrs    map[string][]net.IPAddr
	ptr      map[string][]string
	cname    map[string]string
	names    map[string]bool
	servfail map[string]bool
	status   map[string]dnssec.Status
	queries  []string
}

func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

func (z *Zone) init() {
	if z.names == nil {
		z.txt = map[string][]string{}
		z.mx = map[string][]*net.MX{}
		z.addrs = map[string][]net.IPAddr{}
		z.ptr = map[string][]string{}
		z.cname = map[string]string{}
		z.names = map[string]bool{}
		z.servfail = map[string]bool{}
		z.status = map[string]dnssec.Status{}
	}
}

// ParseZone reads zone-file text (RFC 1035 §5: $ORIGIN, $TTL, relative
// names) into a new Zone. Types TXT, MX, A, AAAA, PTR and CNAME are
// served; others are accepted and make their name exist.
func ParseZone(r io.Reader, origin string) (*Zone, error) {
	z := &Zone{}
	if err := z.Load(r, origin); err != nil {
		return nil, err
	}
	return z, nil
}

// Load adds the records of zone-file text.
func (z *Zone) Load(r io.Reader, origin string) error {
	if origin == "" {
		origin = "."
	}
	zp := dns.NewZoneParser(r, dns.Fqdn(origin), "")
	zp.SetDefaultTTL(300)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		z.addRR(rr)
	}
	return zp.Err()
}

// Add adds records given as zone-file lines with absolute names.
func (z *Zone) Add(lines ...string) error {
	return z.Load(strings.NewReader(strings.Join(lines, "\n")+"\n"), ".")
}

// MustAdd is Add for tests: it panics on a syntax error.
func (z *Zone) MustAdd(lines ...string) *Zone {
	if err := z.Add(lines...); err != nil {
		panic(err)
	}
	return z
}

// AddTXT adds one TXT record per string at name (no quoting needed; a
// string may be longer than 255 octets).
func (z *Zone) AddTXT(name string, records ...string) *Zone {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	n := canonical(name)
	z.names[n] = true
	z.txt[n] = append(z.txt[n], records...)
	return z
}

// SetServFail makes every lookup of name fail temporarily (SERVFAIL).
func (z *Zone) SetServFail(name string) *Zone {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	z.servfail[canonical(name)] = true
	return z
}

// SetStatus sets the DNSSEC status LookupTXTWithDNSSEC reports for name
// (Insecure by default).
func (z *Zone) SetStatus(name string, s dnssec.Status) *Zone {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	z.status[canonical(name)] = s
	return z
}

// Queries returns the names asked so far, in order, as "TYPE name".
func (z *Zone) Queries() []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	return append([]string(nil), z.queries...)
}

func (z *Zone) addRR(rr dns.RR) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	n := canonical(rr.Header().Name)
	z.names[n] = true
	switch r := rr.(type) {
	case *dns.TXT:
		z.txt[n] = append(z.txt[n], JoinTXT(r.Txt))
	case *dns.MX:
		z.mx[n] = append(z.mx[n], &net.MX{Host: r.Mx, Pref: r.Preference})
	case *dns.A:
		z.addrs[n] = append(z.addrs[n], net.IPAddr{IP: r.A})
	case *dns.AAAA:
		z.addrs[n] = append(z.addrs[n], net.IPAddr{IP: r.AAAA})
	case *dns.PTR:
		z.ptr[n] = append(z.ptr[n], r.Ptr)
	case *dns.CNAME:
		z.cname[n] = canonical(r.Target)
	}
}

// JoinTXT joins the strings of a TXT record as miekg/dns presents them,
// undoing its escapes (\" \\ \DDD).
func JoinTXT(parts []string) string {
	var b strings.Builder
	for _, s := range parts {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
					v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
					if v < 256 {
						b.WriteByte(byte(v))
						i += 3
						continue
					}
				}
				i++
				c = s[i]
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// resolve follows CNAMEs (a few) and reports a failure for the name.
func (z *Zone) resolve(qtype, name string) (string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.init()
	n := canonical(name)
	z.queries = append(z.queries, qtype+" "+n)
	for range 8 {
		if z.servfail[n] {
			return n, &net.DNSError{Err: "server failure (SERVFAIL)", Name: name, IsTemporary: true}
		}
		t, ok := z.cname[n]
		if !ok {
			break
		}
		n = t
	}
	if !z.names[n] {
		return n, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return n, nil
}

func noData(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// LookupTXT returns the TXT records at name, one string per record.
func (z *Zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	n, err := z.resolve("TXT", name)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.txt[n]) == 0 {
		return nil, noData(name)
	}
	return append([]string(nil), z.txt[n]...), nil
}

// LookupTXTWithDNSSEC is LookupTXT with the status set by SetStatus.
func (z *Zone) LookupTXTWithDNSSEC(ctx context.Context, name string) ([]string, dnssec.Status, error) {
	txts, err := z.LookupTXT(ctx, name)
	z.mu.Lock()
	st, ok := z.status[canonical(name)]
	z.mu.Unlock()
	if !ok {
		st = dnssec.Insecure
	}
	if err != nil && !ok {
		st = dnssec.Indeterminate
	}
	return txts, st, err
}

// LookupMX returns the MX records at name, by preference.
func (z *Zone) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	n, err := z.resolve("MX", name)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.mx[n]) == 0 {
		return nil, noData(name)
	}
	out := make([]*net.MX, len(z.mx[n]))
	for i, m := range z.mx[n] {
		c := *m
		out[i] = &c
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pref < out[j].Pref })
	return out, nil
}

// LookupIPAddr returns the A and AAAA records at host.
func (z *Zone) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	n, err := z.resolve("A/AAAA", host)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.addrs[n]) == 0 {
		return nil, noData(host)
	}
	return append([]net.IPAddr(nil), z.addrs[n]...), nil
}

// LookupAddr returns the PTR names of an address.
func (z *Zone) LookupAddr(_ context.Context, addr string) ([]string, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	rev, err := dns.ReverseAddr(a.String())
	if err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: addr}
	}
	n, err := z.resolve("PTR", rev)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.ptr[n]) == 0 {
		return nil, noData(addr)
	}
	return append([]string(nil), z.ptr[n]...), nil
}

// String lists the names the zone holds, for test failure messages.
func (z *Zone) String() string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var names []string
	for n := range z.names {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprintf("zone%v", names)
}
