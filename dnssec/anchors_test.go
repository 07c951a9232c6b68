package dnssec

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestRootAnchors(t *testing.T) {
	want := map[uint16]string{
		20326: "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
		38696: "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
	}
	got := RootAnchors()
	if len(got) != len(want) {
		t.Fatalf("%d anchors", len(got))
	}
	for _, rr := range got {
		ds := rr.(*dns.DS)
		if ds.Hdr.Name != "." || ds.Algorithm != dns.RSASHA256 || ds.DigestType != dns.SHA256 || want[ds.KeyTag] != ds.Digest {
			t.Errorf("anchor %v", ds)
		}
	}
	if _, err := newAnchorSet(got); err != nil {
		t.Fatal(err)
	}
	// A fresh slice each call.
	got[0].(*dns.DS).Digest = "00"
	if RootAnchors()[0].(*dns.DS).Digest == "00" {
		t.Error("RootAnchors shares its records")
	}
}

// The Debian dns-root-data package ships the root KSKs as DNSKEYs: their
// SHA-256 digests must be our DS anchors.
func TestRootAnchorsMatchSystemRootKey(t *testing.T) {
	f, err := os.Open("/usr/share/dns/root.key")
	if err != nil {
		t.Skip("no /usr/share/dns/root.key")
	}
	defer f.Close()
	keys, err := ParseAnchors(f)
	if err != nil {
		t.Fatal(err)
	}
	byTag := map[uint16]string{}
	for _, rr := range RootAnchors() {
		byTag[rr.(*dns.DS).KeyTag] = rr.(*dns.DS).Digest
	}
	matched := 0
	for _, rr := range keys {
		k, ok := rr.(*dns.DNSKEY)
		if !ok {
			continue
		}
		ds := k.ToDS(dns.SHA256)
		if d, ok := byTag[ds.KeyTag]; ok {
			if !strings.EqualFold(d, ds.Digest) {
				t.Errorf("key %d: digest %s, our anchor %s", ds.KeyTag, ds.Digest, d)
			}
			matched++
		}
	}
	if matched == 0 {
		t.Error("no root key of the system matches our anchors")
	}
}

func TestParseAnchors(t *testing.T) {
	in := `; trust anchors
$TTL 3600
. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D

$ORIGIN test.
example IN DNSKEY 257 3 13 (
	U6YMpO2NDKQ15p1jrd2Dfmy70hAw7pNDctOqrgL4MCNs
	jP3ELEl61LP5iJnYOxt4BV1WE6pC2DM+0E3XPJqXhw== ) ; KSK
`
	rrs, err := ParseAnchors(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rrs) != 2 || rrs[1].Header().Name != "example.test." {
		t.Fatalf("%v", rrs)
	}
	set, err := newAnchorSet(rrs)
	if err != nil {
		t.Fatal(err)
	}
	if a := set.closest("www.example.test."); a == nil || a.zone != "example.test." || len(a.keys) != 1 {
		t.Errorf("closest anchor %+v", a)
	}
	if a := set.closest("other.test."); a == nil || a.zone != "." {
		t.Errorf("closest anchor %+v", a)
	}
}

func TestParseAnchorsErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		line int
		text string
	}{
		{"; c\n\n. IN A 192.0.2.1\n", 3, "A record"},
		{". IN DS 1 8 2 ABCD\n", 1, "needs 32 octets"},
		{". IN DS 1 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n. IN DNSKEY 1 3 13 AAAA\n", 2, "Zone Key"},
		{". IN DS 1 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n. IN DNSKEY (\n 257 2 13\n AAAA )\n. IN DNSKEY 256 3 13 AAAA\n", 2, "protocol 2"},
		{". IN DNSKEY ( 257 3 13\n AAAA )\n. CH DS 1 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n", 3, "class"},
	} {
		_, err := ParseAnchors(strings.NewReader(c.in))
		var ae *AnchorError
		if !errors.As(err, &ae) || ae.Line != c.line || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%q: %v (want line %d, %q)", c.in, err, c.line, c.text)
		}
	}
	for _, in := range []string{"", "; nothing\n", ". IN DS 1 8 2 zz\n", "$INCLUDE /etc/passwd\n", ". IN DS (\n"} {
		if _, err := ParseAnchors(strings.NewReader(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	_, err := ParseAnchors(strings.NewReader(". IN DS 1 8 2 E06D\nbad line here\n"))
	if err == nil || !strings.Contains(err.Error(), "line") {
		t.Errorf("syntax error without a line: %v", err)
	}
}
