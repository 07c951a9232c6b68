package dnssec

import (
	"strings"

	"github.com/miekg/dns"
)

// canonicalName returns name fully qualified and lower-cased, the form
// every map key and comparison in this package uses (RFC 4034 §6.2).
func canonicalName(name string) string {
	return strings.ToLower(dns.Fqdn(name))
}

// sameName reports whether a and b are the same domain name, ignoring
// ASCII case.
func sameName(a, b string) bool {
	return strings.EqualFold(dns.Fqdn(a), dns.Fqdn(b))
}

// isAtOrBelow reports whether name is ancestor itself or lies below it,
// comparing whole labels: "badexample.test." is not below "example.test."
// (S42). miekg's RRSIG.Verify compares strings by suffix instead, which is
// why every signer name is checked here before a signature is tried.
func isAtOrBelow(name, ancestor string) bool {
	name, ancestor = dns.Fqdn(name), dns.Fqdn(ancestor)
	if ancestor == "." {
		return true
	}
	if len(name) < len(ancestor) {
		return false
	}
	if !strings.EqualFold(name[len(name)-len(ancestor):], ancestor) {
		return false
	}
	if len(name) == len(ancestor) {
		return true
	}
	// The suffix must start at a label boundary: the byte before it is a
	// dot that is not itself escaped.
	i := len(name) - len(ancestor) - 1
	if name[i] != '.' {
		return false
	}
	backslashes := 0
	for j := i - 1; j >= 0 && name[j] == '\\'; j-- {
		backslashes++
	}
	return backslashes%2 == 0
}

// parentName returns the name one label up ("a.b." → "b.", "b." → ".").
func parentName(name string) string {
	if name == "." || name == "" {
		return "."
	}
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}

// validName reports whether name is a syntactically valid domain name in
// presentation format that fits the wire (255 octets).
func validName(name string) bool {
	if name == "" {
		return false
	}
	_, ok := dns.IsDomainName(name)
	if !ok {
		return false
	}
	buf := make([]byte, 256)
	_, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	return err == nil
}
