package mailauth

import (
	"net"
	"strings"

	"blitiri.com.ar/go/spf"
)

// spfResults maps blitiri.com.ar/go/spf's results to ours.
var spfResults = map[spf.Result]Result{
	spf.None:      None,
	spf.Neutral:   Neutral,
	spf.Pass:      Pass,
	spf.Fail:      Fail,
	spf.SoftFail:  SoftFail,
	spf.TempError: TempError,
	spf.PermError: PermError,
}

// evaluateSPF runs check_host() (RFC 7208 §4) for the MAIL FROM identity,
// or for the HELO identity when MAIL FROM is the null path, with the
// library's lookup limits (10 DNS mechanisms, 2 void lookups: S38) over
// our DNS.
func (e *evaluation) evaluateSPF(c *Connection, facts string) SPFResult {
	r := SPFResult{Result: None, Facts: facts}
	if c == nil {
		r.Error = strPtr("no connection facts (client IP, HELO, MAIL FROM): SPF not evaluated")
		return r
	}
	r.HELO, r.MailFrom = c.HELO, c.MailFrom
	if !c.IP.IsValid() {
		r.Error = strPtr("no client IP address: SPF not evaluated")
		return r
	}
	ip := c.IP.Unmap()
	r.ClientIP = ip.String()
	helo := strings.TrimSuffix(c.HELO, ".")
	var sender string
	switch c.MailFrom {
	case "":
		r.Error = strPtr("MAIL FROM unknown: SPF not evaluated")
		return r
	case "<>":
		// RFC 7208 §2.4: a null reverse-path is checked as
		// postmaster@HELO.
		r.Identity = "helo"
		d := asciiDomain(helo)
		if d == "" || !strings.Contains(d, ".") {
			r.Error = strPtr("null MAIL FROM and a HELO name that is not a domain: SPF none")
			return r
		}
		r.Domain = d
		sender = "postmaster@" + d
	default:
		r.Identity = "mailfrom"
		at := strings.LastIndexByte(c.MailFrom, '@')
		d := ""
		if at >= 0 {
			d = asciiDomain(c.MailFrom[at+1:])
		}
		if d == "" || !strings.Contains(d, ".") {
			// §4.3: a malformed domain gives none.
			r.Error = strPtr("the MAIL FROM domain is not a valid domain name: SPF none")
			return r
		}
		r.Domain = d
		sender = c.MailFrom[:at+1] + d
	}
	res, err := spf.CheckHostWithSender(net.IP(ip.AsSlice()), helo, sender,
		spf.WithResolver(&spfDNS{d: e.ev.opts.DNS}), spf.WithContext(e.ctx))
	got, ok := spfResults[res]
	if !ok {
		got = PermError
	}
	r.Result = got
	if err != nil && got != Pass && got != None {
		r.Error = strPtr(spfReason(err))
	} else if got == None {
		r.Error = strPtr("no SPF record for " + r.Domain)
	}
	return r
}

// spfReason phrases the library's error (which also names the matching
// mechanism) for people.
func spfReason(err error) string {
	switch err {
	case spf.ErrMatchedAll:
		return "the client is not authorised (matched all)"
	case spf.ErrLookupLimitReached:
		return "more than 10 DNS-querying mechanisms (RFC 7208 §4.6.4)"
	case spf.ErrVoidLookupLimitReached:
		return "more than 2 lookups that found nothing (RFC 7208 §4.6.4)"
	}
	return err.Error()
}
