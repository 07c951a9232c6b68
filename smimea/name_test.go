package smimea

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// hughLabel is RFC 8162 §3's example: the owner name label of
// hugh@example.com.
const hughLabel = "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6"

func TestOwnerNameKnownVector(t *testing.T) {
	got, err := OwnerName("hugh@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := hughLabel + "._smimecert.example.com."; got != want {
		t.Errorf("OwnerName = %q, want %q", got, want)
	}
	// Seed 003 (slide 68) shows the name of alice's record.
	if got, _ := OwnerName("alice@example.jp"); got != "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db._smimecert.example.jp." {
		t.Errorf("alice: %s", got)
	}
	// RFC 7929 §3 uses the same address and hash for OPENPGPKEY.
	got, err = OpenPGPKeyName("hugh@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := hughLabel + "._openpgpkey.example.com."; got != want {
		t.Errorf("OpenPGPKeyName = %q, want %q", got, want)
	}
}

// TestS49_OwnerNameHashesLocalPartOnly: the owner name hashes the local
// part alone. miekg/dns's SMIMEAName hashes whatever it is given, so
// handing it the whole address (the mistake S49 is about) gives another
// name; handing it the local part gives ours.
func TestS49_OwnerNameHashesLocalPartOnly(t *testing.T) {
	ours, err := OwnerName("hugh@example.com")
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := dns.SMIMEAName("hugh@example.com", "example.com.")
	if ours == whole {
		t.Fatalf("OwnerName hashed the whole address: %s", ours)
	}
	local, _ := dns.SMIMEAName("hugh", "example.com.")
	if ours != local {
		t.Errorf("OwnerName = %s, miekg on the local part = %s", ours, local)
	}
	// The same local part at another domain: same first label, other name.
	other, err := OwnerName("hugh@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if other == ours || strings.Split(other, ".")[0] != hughLabel {
		t.Errorf("hugh@example.org -> %s", other)
	}
}

// TestS49_UpperCaseLocalPart: the local part is hashed as written, the
// domain is not case-sensitive, and LowerCaseFallback gives the one
// retry.
func TestS49_UpperCaseLocalPart(t *testing.T) {
	upper, err := OwnerName("Hugh@EXAMPLE.com")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(upper, hughLabel) {
		t.Errorf("Hugh was lower-cased before hashing: %s", upper)
	}
	if !strings.HasSuffix(upper, "._smimecert.example.com.") {
		t.Errorf("the domain was not lower-cased: %s", upper)
	}
	fb, ok := LowerCaseFallback("Hugh@EXAMPLE.com")
	if !ok || fb != "hugh@EXAMPLE.com" {
		t.Fatalf("LowerCaseFallback = %q, %v", fb, ok)
	}
	if n, _ := OwnerName(fb); n != hughLabel+"._smimecert.example.com." {
		t.Errorf("the fallback's name is %s", n)
	}
	for _, addr := range []string{"hugh@EXAMPLE.com", "hugh+x@example.com", "123@example.com", "nope"} {
		if fb, ok := LowerCaseFallback(addr); ok {
			t.Errorf("LowerCaseFallback(%q) = %q, want none", addr, fb)
		}
	}
	// A quoted local part keeps its quotes in the fallback when it needs them.
	if fb, ok := LowerCaseFallback(`"Hugh Smith"@example.com`); !ok || fb != `"hugh smith"@example.com` {
		t.Errorf("quoted fallback = %q, %v", fb, ok)
	}
}

func TestOwnerNameAddressForms(t *testing.T) {
	same := []string{
		`hugh@example.com`,
		`"hugh"@example.com`,
		`"h\ugh"@example.com`,
		`hugh@Example.COM`,
	}
	for _, addr := range same {
		got, err := OwnerName(addr)
		if err != nil {
			t.Errorf("OwnerName(%q): %v", addr, err)
			continue
		}
		if got != hughLabel+"._smimecert.example.com." {
			t.Errorf("OwnerName(%q) = %s", addr, got)
		}
	}
	// NFC: a decomposed é hashes as the composed one; the IDN domain
	// becomes A-labels.
	composed, err := OwnerName("h\u00e9l\u00e8ne@b\u00fccher.example")
	if err != nil {
		t.Fatal(err)
	}
	decomposed, err := OwnerName("he\u0301le\u0300ne@bu\u0308cher.example")
	if err != nil {
		t.Fatal(err)
	}
	if composed != decomposed || !strings.HasSuffix(composed, "._smimecert.xn--bcher-kva.example.") {
		t.Errorf("composed %s, decomposed %s", composed, decomposed)
	}
	if want := hashLabel("h\u00e9l\u00e8ne"); !strings.HasPrefix(composed, want) {
		t.Errorf("%s does not start with %s", composed, want)
	}
	// A quoted local part with a space, and its quoted-pair quote.
	if got, err := OwnerName(`"hugh smith"@example.com`); err != nil || !strings.HasPrefix(got, hashLabel("hugh smith")+".") {
		t.Errorf(`"hugh smith": %s, %v`, got, err)
	}
	if got, err := OwnerName(`"a\"b"@example.com`); err != nil || !strings.HasPrefix(got, hashLabel(`a"b`)+".") {
		t.Errorf(`"a\"b": %s, %v`, got, err)
	}
}

func TestOwnerNameRefusesBadAddresses(t *testing.T) {
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + ".example"
	for _, tc := range []struct{ addr, reason string }{
		{"hugh", "no @"},
		{"@example.com", "local part is empty"},
		{"hugh@", "domain is empty"},
		{`""@example.com`, "local part is empty"},
		{"hu gh@example.com", "space outside quotes"},
		{"hu\x00gh@example.com", "control character"},
		{"hu\u0085gh@example.com", "control character"},
		{"\"hu\x07gh\"@example.com", "control character"},
		{".hugh@example.com", "empty atom"},
		{"hugh.@example.com", "empty atom"},
		{"hu..gh@example.com", "empty atom"},
		{"hu(gh)@example.com", "'(' outside quotes"},
		{"hu<gh@example.com", "'<' outside quotes"},
		{`"hugh@example.com`, "no closing quote"},
		{`"hu"gh"@example.com`, "quote inside quotes"},
		{`"hugh\"@example.com`, "ends with a backslash"},
		{"hugh@example.com.", "ends with a dot"},
		{"hugh@[192.0.2.1]", "domain literal"},
		{"hugh@localhost", "single label"},
		{"hugh@exa mple.com", "space or a control"},
		{"hugh@exa_mple.com", "not a valid domain name"},
		{"hugh@-example.com", "not a valid domain name"},
		{"hugh@" + strings.Repeat("a", 64) + ".com", "not a valid domain name"},
		{"hugh@" + long, "too long"},
		{"hu\xffgh@example.com", "not valid UTF-8"},
	} {
		_, err := OwnerName(tc.addr)
		var ae *AddressError
		if !errors.As(err, &ae) || !errors.Is(err, ErrInvalidAddress) {
			t.Errorf("OwnerName(%q) = %v, want an AddressError", tc.addr, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("OwnerName(%q): %v, want %q in it", tc.addr, err, tc.reason)
		}
	}
}

func TestOwnerNameFitsTheDNS(t *testing.T) {
	// The longest domain that leaves room for the hashed label.
	var labels []string
	n := 0
	for n < maxNameLength-len(hughLabel+"._smimecert.")-63 {
		labels = append(labels, strings.Repeat("d", 62))
		n += 63
	}
	rest := maxNameLength - len(hughLabel+"._smimecert.") - n - len("example")
	labels = append(labels, strings.Repeat("e", rest-1), "example")
	domain := strings.Join(labels, ".")
	name, err := OwnerName("hugh@" + domain)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dns.IsDomainName(name); !ok || len(name) != maxNameLength+1 {
		t.Errorf("%d octets: %s", len(name), name)
	}
	if _, err := OwnerName("hugh@x" + domain); err == nil {
		t.Error("one octet more was accepted")
	}
}

func TestTLSAName(t *testing.T) {
	for _, tc := range []struct {
		host  string
		port  int
		proto string
		want  string
	}{
		{"mail.example.org", 25, "tcp", "_25._tcp.mail.example.org."},
		{"Mail.Example.ORG.", 465, "TCP", "_465._tcp.mail.example.org."},
		{"mail.bücher.example", 25, "tcp", "_25._tcp.mail.xn--bcher-kva.example."},
		{"mx1.example.jp", 25, "tcp", "_25._tcp.mx1.example.jp."},
	} {
		if got := TLSAName(tc.host, tc.port, tc.proto); got != tc.want {
			t.Errorf("TLSAName(%q, %d, %q) = %q, want %q", tc.host, tc.port, tc.proto, got, tc.want)
		}
	}
}
