package dnssec_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/internal/testkit"
)

// Validating an SMIMEA record against a signed test hierarchy served on
// loopback, with the hierarchy's own trust anchor (a real program would
// leave Server and Anchors empty: the resolver of /etc/resolv.conf and the
// IANA root anchors).
func ExampleResolver_Lookup() {
	h, err := testkit.New(&testkit.Options{NoVariants: true})
	if err != nil {
		panic(err)
	}
	srv, err := h.Serve("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	anchor, _ := h.Anchor()
	anchors, err := dnssec.ParseAnchors(strings.NewReader(anchor))
	if err != nil {
		panic(err)
	}

	r, err := dnssec.New(&dnssec.Options{Server: srv.Addr(), Anchors: anchors})
	if err != nil {
		panic(err)
	}
	res, err := r.Lookup(context.Background(), testkit.SampleSMIMEA, dns.TypeSMIMEA)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, len(res.Answer), "record")

	res, _ = r.Lookup(context.Background(), "nobody._smimecert.sub.example.test.", dns.TypeSMIMEA)
	fmt.Println(res.Status, res.NXDomain)
	// Output:
	// secure 1 record
	// secure true
}
