package mailauthtest

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/securemail/securemail/dnssec"
)

func TestZone(t *testing.T) {
	z, err := ParseZone(strings.NewReader(`
$ORIGIN example.test.
@        MX  20 mx2
@        MX  10 mx1
mx1      A   192.0.2.1
mx1      AAAA 2001:db8::1
www      CNAME example.test.
sel._domainkey TXT "v=DKIM1; k=rsa; " "p=AB\"C\\\\D" "\059end"
nodata   A   192.0.2.9
$ORIGIN 2.0.192.in-addr.arpa.
1        PTR mx1.example.test.
`), ".")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	txt, err := z.LookupTXT(ctx, "SEL._domainkey.example.test.")
	if err != nil || len(txt) != 1 || txt[0] != `v=DKIM1; k=rsa; p=AB"C\\D;end` {
		t.Errorf("TXT: %q %v", txt, err)
	}
	mx, err := z.LookupMX(ctx, "www.example.test")
	if err != nil || len(mx) != 2 || mx[0].Host != "mx1.example.test." || mx[0].Pref != 10 {
		t.Errorf("MX through CNAME: %v %v", mx, err)
	}
	ips, err := z.LookupIPAddr(ctx, "mx1.example.test")
	if err != nil || len(ips) != 2 {
		t.Errorf("addresses: %v %v", ips, err)
	}
	names, err := z.LookupAddr(ctx, "192.0.2.1")
	if err != nil || len(names) != 1 || names[0] != "mx1.example.test." {
		t.Errorf("PTR: %v %v", names, err)
	}
	notFound := func(err error) bool {
		var de *net.DNSError
		return errors.As(err, &de) && de.IsNotFound && !de.IsTemporary
	}
	if _, err := z.LookupTXT(ctx, "nosuch.example.test"); !notFound(err) {
		t.Errorf("NXDOMAIN: %v", err)
	}
	if _, err := z.LookupTXT(ctx, "nodata.example.test"); !notFound(err) {
		t.Errorf("NODATA: %v", err)
	}
	z.SetServFail("mx1.example.test")
	var de *net.DNSError
	if _, err := z.LookupIPAddr(ctx, "mx1.example.test"); !errors.As(err, &de) || !de.IsTemporary {
		t.Errorf("SERVFAIL: %v", err)
	}
	z.AddTXT("a.example.test", strings.Repeat("x", 300))
	z.SetStatus("a.example.test", dnssec.Secure)
	if txt, st, err := z.LookupTXTWithDNSSEC(ctx, "a.example.test"); err != nil || st != dnssec.Secure || len(txt[0]) != 300 {
		t.Errorf("DNSSEC: %v %v %v", len(txt), st, err)
	}
	if len(z.Queries()) != 8 || z.Queries()[0] != "TXT sel._domainkey.example.test" {
		t.Errorf("queries: %q", z.Queries())
	}
	if _, err := ParseZone(strings.NewReader("bad line here\n"), "."); err == nil {
		t.Error("a bad zone parsed")
	}
}
