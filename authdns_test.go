package securemail

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/internal/testkit"
)

func TestAuthDNS(t *testing.T) {
	h, err := testkit.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddText("_dmarc.example.test. 300 IN TXT \"v=DMARC1; p=reject\"\n" +
		"txt.unsigned.test. 300 IN TXT \"v=spf1 -all\"\n" +
		"txt.expired.test. 300 IN TXT \"v=spf1 -all\"\n" +
		"example.test. 300 IN MX 10 mx.example.test.\n" +
		"mx.example.test. 300 IN A 192.0.2.25\n"); err != nil {
		t.Fatal(err)
	}
	srv, err := h.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	anchors, _ := h.AnchorRRs()
	r, err := dnssec.New(&dnssec.Options{Server: srv.Addr(), Anchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	a := &AuthDNS{Resolver: r}
	ctx := context.Background()

	txt, st, err := a.LookupTXTWithDNSSEC(ctx, "_dmarc.example.test")
	if err != nil || st != dnssec.Secure || len(txt) != 1 || txt[0] != "v=DMARC1; p=reject" {
		t.Fatalf("secure TXT: %q %v %v", txt, st, err)
	}
	txt, st, err = a.LookupTXTWithDNSSEC(ctx, "txt.unsigned.test.")
	if err != nil || st != dnssec.Insecure || len(txt) != 1 {
		t.Fatalf("insecure TXT: %q %v %v", txt, st, err)
	}
	var de *net.DNSError
	if _, st, err = a.LookupTXTWithDNSSEC(ctx, "txt.expired.test."); st != dnssec.Bogus || !errors.As(err, &de) || !de.IsTemporary || de.IsNotFound {
		t.Fatalf("bogus TXT: %v %v", st, err)
	}
	if _, _, err = a.LookupTXTWithDNSSEC(ctx, "nothing.example.test."); !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("NXDOMAIN: %v", err)
	}
	if _, _, err = a.LookupTXTWithDNSSEC(ctx, "mx.example.test."); !errors.As(err, &de) || !de.IsNotFound {
		t.Fatalf("NODATA: %v", err)
	}
	mx, err := a.LookupMX(ctx, "example.test")
	if err != nil || !slices.ContainsFunc(mx, func(m *net.MX) bool { return m.Host == "mx.example.test." && m.Pref == 10 }) {
		t.Fatalf("MX: %v %v", mx, err)
	}
	ips, err := a.LookupIPAddr(ctx, "mx.example.test")
	if err != nil || len(ips) != 1 || ips[0].IP.String() != "192.0.2.25" {
		t.Fatalf("A: %v %v", ips, err)
	}

	// Through a resolver that strips DNSSEC: indeterminate, then the plain
	// answer when Plain is set (bogus data is never reached this way: the
	// stripping resolver has no signatures to be wrong).
	strip := dnssec.TransportFunc(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		q2 := q.Copy()
		q2.RecursionDesired = true
		resp := h.Answer(q2).Copy()
		resp.Id = q.Id
		var ans []dns.RR
		for _, rr := range resp.Answer {
			if t := rr.Header().Rrtype; t != dns.TypeRRSIG && t != dns.TypeDNSKEY && t != dns.TypeDS {
				ans = append(ans, rr)
			}
		}
		resp.Answer, resp.Ns = ans, nil
		return resp, nil
	})
	r2, _ := dnssec.New(&dnssec.Options{Transport: strip, Anchors: anchors})
	noPlain := &AuthDNS{Resolver: r2}
	if _, st, err := noPlain.LookupTXTWithDNSSEC(ctx, "_dmarc.example.test"); st != dnssec.Indeterminate || !errors.As(err, &de) || !de.IsTemporary {
		t.Fatalf("stripped, no plain: %v %v", st, err)
	}
	withPlain := &AuthDNS{Resolver: r2, Plain: strip}
	txt, st, err = withPlain.LookupTXTWithDNSSEC(ctx, "_dmarc.example.test")
	if err != nil || st != dnssec.Indeterminate || len(txt) != 1 {
		t.Fatalf("stripped, plain: %q %v %v", txt, st, err)
	}
}
