package mailauth

import (
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// equalFoldASCII compares ASCII case-insensitively; bytes outside ASCII
// must be equal. Domain names and tag names are ASCII: Unicode case
// folding would let "K" (Kelvin sign) match "k".
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lowerASCII lower-cases the ASCII letters of s, allocating only when
// there is one.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

// validDomain reports whether s is a domain name as DKIM, SPF and DMARC
// use them: ASCII labels of letters, digits, hyphens and underscores
// (selectors such as "susede2_rsa" use them), 1–63 octets each, not
// starting or ending with a hyphen, at most 253 octets, no trailing dot,
// and at least minLabels labels. Everything else ("legit.example(.attack
// .example", quotes, NUL, spaces, U-labels) is refused: alignment is
// decided on names that passed this check (S31).
func validDomain(s string, minLabels int) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
			continue
		}
		l := s[start:i]
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		start = i + 1
	}
	return labels >= minLabels
}

// asciiDomain turns a domain from a header field (possibly U-labels,
// RFC 6532) into lower-case A-labels, or "" when it is not a valid name.
func asciiDomain(s string) string {
	s = strings.TrimSuffix(s, ".")
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		a, err := idna.Lookup.ToASCII(s)
		if err != nil {
			return ""
		}
		s = a
	}
	s = lowerASCII(s)
	if !validDomain(s, 1) {
		return ""
	}
	return s
}

// orgDomain returns the organisational domain of a lower-case domain
// (RFC 7489 §3.2): its public suffix plus one label, from the public
// suffix list golang.org/x/net/publicsuffix carries. A name that is itself
// a public suffix is its own organisational domain.
func orgDomain(d string) string {
	o, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return o
}

// isSubdomainOrSelf reports whether child is parent or a name under it,
// comparing whole labels: "badexample.test" is not under "example.test".
func isSubdomainOrSelf(child, parent string) bool {
	if equalFoldASCII(child, parent) {
		return true
	}
	return len(child) > len(parent) && child[len(child)-len(parent)-1] == '.' &&
		equalFoldASCII(child[len(child)-len(parent):], parent)
}
