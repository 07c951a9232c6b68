package securemail

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/securemail/securemail/dnssec"
)

// AuthDNS answers the DNS lookups of the received-mail verdict (DKIM keys,
// SPF, DMARC and ARC records: the mailauth package's DNS and
// DNSSECResolver) through the validating resolver, so that each TXT answer
// carries its DNSSEC status.
//
// A secure or insecure answer is used (most mail domains are not signed;
// DKIM's own signatures carry the weight); a bogus one never is: it is a
// temporary failure, as a validating resolver's SERVFAIL would be. When
// the validator cannot judge at all (indeterminate: typically a resolver
// that does not do DNSSEC) and Plain is set, the question is asked again
// without validation and the answer used as an unvalidated one.
type AuthDNS struct {
	Resolver *dnssec.Resolver
	// Plain, if set, answers when validation is indeterminate.
	Plain dnssec.Transport
}

// authDNSError is a failed lookup in the form mailauth reads
// (*net.DNSError: IsNotFound, IsTemporary).
func authDNSError(name, msg string, notFound bool) error {
	return &net.DNSError{Err: msg, Name: name, IsNotFound: notFound, IsTemporary: !notFound}
}

// lookup returns the RRset of qtype at name, its DNSSEC status, or an
// error mailauth understands.
func (a *AuthDNS) lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, dnssec.Status, error) {
	if a == nil || a.Resolver == nil {
		return nil, dnssec.Indeterminate, authDNSError(name, "no DNS resolver", false)
	}
	res, err := a.Resolver.Lookup(ctx, dns.Fqdn(name), qtype)
	if err != nil {
		if errors.Is(err, dnssec.ErrInvalidQuery) {
			return nil, dnssec.Indeterminate, authDNSError(name, err.Error(), true)
		}
		return nil, dnssec.Indeterminate, authDNSError(name, err.Error(), false)
	}
	switch res.Status {
	case dnssec.Secure, dnssec.Insecure:
		if res.NXDomain || res.NoData || len(res.Answer) == 0 {
			return nil, res.Status, authDNSError(name, "no such record", true)
		}
		return res.Answer, res.Status, nil
	case dnssec.Bogus:
		return nil, dnssec.Bogus, authDNSError(name, "DNSSEC validation failed (bogus): "+res.Reason, false)
	}
	if a.Plain == nil {
		return nil, dnssec.Indeterminate, authDNSError(name, "DNSSEC validation indeterminate: "+res.Reason, false)
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(1232, false)
	resp, err := a.Plain.Exchange(ctx, q)
	if err != nil {
		return nil, dnssec.Indeterminate, authDNSError(name, err.Error(), false)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return nil, dnssec.Indeterminate, authDNSError(name, "no such name", true)
	default:
		return nil, dnssec.Indeterminate, authDNSError(name, "the resolver answered "+dns.RcodeToString[resp.Rcode], false)
	}
	var out []dns.RR
	want := strings.ToLower(dns.Fqdn(name))
	for _, rr := range resp.Answer {
		// Only the records of the question's own name and type: no CNAME
		// following without validation.
		if h := rr.Header(); h.Rrtype == qtype && strings.ToLower(h.Name) == want {
			out = append(out, rr)
		}
	}
	if len(out) == 0 {
		return nil, dnssec.Indeterminate, authDNSError(name, "no such record", true)
	}
	return out, dnssec.Indeterminate, nil
}

// LookupTXTWithDNSSEC returns one string per TXT record (its strings
// joined) and the answer's DNSSEC status.
func (a *AuthDNS) LookupTXTWithDNSSEC(ctx context.Context, name string) ([]string, dnssec.Status, error) {
	rrs, st, err := a.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return nil, st, err
	}
	var out []string
	for _, rr := range rrs {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, joinTXT(t.Txt))
		}
	}
	return out, st, nil
}

// LookupTXT is LookupTXTWithDNSSEC without the status.
func (a *AuthDNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txt, _, err := a.LookupTXTWithDNSSEC(ctx, name)
	return txt, err
}

// LookupMX returns the MX records of name.
func (a *AuthDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	rrs, _, err := a.lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, rr := range rrs {
		if mx, ok := rr.(*dns.MX); ok {
			out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
		}
	}
	return out, nil
}

// LookupIPAddr returns the IPv4 and IPv6 addresses of host.
func (a *AuthDNS) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	var firstErr error
	found := false
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, _, err := a.lookup(ctx, host, qt)
		if err != nil {
			var de *net.DNSError
			if !errors.As(err, &de) || !de.IsNotFound {
				firstErr = err
			}
			continue
		}
		found = true
		for _, rr := range rrs {
			switch r := rr.(type) {
			case *dns.A:
				out = append(out, net.IPAddr{IP: r.A})
			case *dns.AAAA:
				out = append(out, net.IPAddr{IP: r.AAAA})
			}
		}
	}
	if !found {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, authDNSError(host, "no such host", true)
	}
	return out, nil
}

// LookupAddr returns the names an address's PTR records give.
func (a *AuthDNS) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	rev, err := dns.ReverseAddr(addr)
	if err != nil {
		return nil, authDNSError(addr, err.Error(), true)
	}
	rrs, _, err := a.lookup(ctx, rev, dns.TypePTR)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range rrs {
		if p, ok := rr.(*dns.PTR); ok {
			out = append(out, p.Ptr)
		}
	}
	return out, nil
}

// joinTXT joins the strings of a TXT record, undoing miekg/dns's
// presentation escapes (\" \\ \DDD) to give the octets on the wire.
func joinTXT(parts []string) string {
	var b strings.Builder
	for _, s := range parts {
		for i := 0; i < len(s); i++ {
			ch := s[i]
			if ch == '\\' && i+1 < len(s) {
				if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
					if v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); v < 256 {
						b.WriteByte(byte(v))
						i += 3
						continue
					}
				}
				i++
				ch = s[i]
			}
			b.WriteByte(ch)
		}
	}
	return b.String()
}

func isDigit(ch byte) bool { return '0' <= ch && ch <= '9' }
