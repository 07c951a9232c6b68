package smimea

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// idnaLookup converts a mail domain to the A-label form a DNS query uses:
// UTS #46 mapping for lookup (which lower-cases), the Bidi rule, and the
// DNS length limits.
var idnaLookup = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true))

// hashedLabelOctets is how much of the SHA-256 of the local part names
// the record: 28 octets, 56 hex digits (RFC 8162 §3, RFC 7929 §3).
const hashedLabelOctets = 28

// maxNameLength is the longest owner name in presentation form without
// its final dot: 255 octets on the wire, two of which are the first length
// octet and the root label (RFC 1035 §3.1).
const maxNameLength = 253

// address is an addr-spec taken apart the way RFC 8162 §3 needs it.
type address struct {
	// local is the canonical local part: quotes and quoted-pair
	// backslashes removed, NFC. It is what gets hashed and what a
	// certificate's address must equal, octet for octet.
	local string
	// domain is the domain in A-labels, lower case, without a final dot.
	domain string
}

// String writes the address back, quoting the local part when its
// canonical form is not a dot-atom.
func (a address) String() string {
	if validDotAtom(a.local) {
		return a.local + "@" + a.domain
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range a.local {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteString(`"@`)
	b.WriteString(a.domain)
	return b.String()
}

// parseAddress reads addr as an RFC 5322 addr-spec (RFC 6532 allows UTF-8
// in it): a dot-atom or a quoted-string, "@", and a domain name. Comments,
// folding whitespace outside quotes, domain literals ("[192.0.2.1]") and
// a trailing dot on the domain are refused: none of them can name an
// SMIMEA record.
func parseAddress(addr string) (address, error) {
	bad := func(reason string) (address, error) {
		return address{}, &AddressError{Addr: addr, Reason: reason}
	}
	if !utf8.ValidString(addr) {
		return bad("it is not valid UTF-8")
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return bad("it has no @")
	}
	rawLocal, rawDomain := addr[:at], addr[at+1:]
	if rawLocal == "" {
		return bad("the local part is empty")
	}
	if rawDomain == "" {
		return bad("the domain is empty")
	}
	var local string
	if rawLocal[0] == '"' {
		l, reason := unquoteLocal(rawLocal)
		if reason != "" {
			return bad(reason)
		}
		local = l
	} else {
		if reason := checkDotAtom(rawLocal); reason != "" {
			return bad(reason)
		}
		local = rawLocal
	}
	// RFC 8162 §3 and RFC 7929 §3: a local part with non-ASCII characters
	// SHOULD be normalised to NFC (RFC 6530 §10.1) before it is hashed.
	local = norm.NFC.String(local)
	domain, reason := lookupDomain(rawDomain)
	if reason != "" {
		return bad(reason)
	}
	return address{local: local, domain: domain}, nil
}

// lookupDomain converts a mail domain to lower-case A-labels, or says
// why it cannot.
func lookupDomain(d string) (string, string) {
	switch {
	case strings.HasPrefix(d, "["):
		return "", "a domain literal names no DNS record"
	case strings.HasSuffix(d, "."):
		return "", "the domain ends with a dot"
	}
	for _, r := range d {
		if r < 0x20 || r == 0x7f || unicode.IsSpace(r) {
			return "", "the domain contains a space or a control character"
		}
	}
	a, err := idnaLookup.ToASCII(d)
	if err != nil {
		return "", "the domain is not a valid domain name (" + strings.TrimPrefix(err.Error(), "idna: ") + ")"
	}
	if !strings.Contains(a, ".") {
		return "", "the domain has a single label"
	}
	return a, ""
}

// atext reports whether r may appear in an unquoted local part: RFC 5322
// atext, or any non-ASCII character but the controls (RFC 6532 §3.2).
func atext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r < 0x80:
		return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
	}
	return !unicode.IsControl(r) && r != utf8.RuneError
}

// checkDotAtom says why s is not a dot-atom, or returns "".
func checkDotAtom(s string) string {
	prevDot := true // a leading dot is as bad as two in a row
	for _, r := range s {
		switch {
		case r == '.':
			if prevDot {
				return "the local part has an empty atom (a leading, trailing or doubled dot)"
			}
			prevDot = true
			continue
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
			return "the local part contains a control character"
		case r == ' ' || r == '\t':
			return "the local part contains a space outside quotes"
		case !atext(r):
			return "the local part contains " + strconv.QuoteRune(r) + " outside quotes"
		}
		prevDot = false
	}
	if prevDot {
		return "the local part has an empty atom (a leading, trailing or doubled dot)"
	}
	return ""
}

func validDotAtom(s string) bool { return s != "" && checkDotAtom(s) == "" }

// unquoteLocal removes the enclosing double quotes and the quoted-pair
// backslashes of a quoted-string local part (RFC 5322 §3.2.4): the
// canonical form RFC 8162 §3 and RFC 7929 §3 hash, so that
// "hugh"@example.com and hugh@example.com share an owner name, as they
// share a mailbox.
func unquoteLocal(s string) (string, string) {
	if len(s) < 2 || s[len(s)-1] != '"' {
		return "", "the quoted local part has no closing quote"
	}
	var b strings.Builder
	in := s[1 : len(s)-1]
	for i := 0; i < len(in); {
		r, n := utf8.DecodeRuneInString(in[i:])
		i += n
		switch {
		case r == '"':
			return "", "the local part has a quote inside quotes"
		case r == '\\':
			if i == len(in) {
				return "", "the quoted local part ends with a backslash"
			}
			r, n = utf8.DecodeRuneInString(in[i:])
			i += n
			if r < 0x20 && r != '\t' || r == 0x7f {
				return "", "the local part contains a control character"
			}
		case r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f:
			return "", "the local part contains a control character"
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "", "the local part is empty"
	}
	return b.String(), ""
}

// hashLabel is the first label of an SMIMEA or OPENPGPKEY owner name:
// the SHA-256 of the local part, truncated to 28 octets, in lower-case
// hex.
func hashLabel(local string) string {
	sum := sha256.Sum256([]byte(local))
	return hex.EncodeToString(sum[:hashedLabelOctets])
}

func ownerName(addr, service string) (string, error) {
	a, err := parseAddress(addr)
	if err != nil {
		return "", err
	}
	name := hashLabel(a.local) + "." + service + "." + a.domain
	if len(name) > maxNameLength {
		return "", &AddressError{Addr: addr, Reason: "the domain is too long to put an owner name under it"}
	}
	return name + ".", nil
}

// OwnerName returns the fully qualified DNS name of the SMIMEA records for
// addr (RFC 8162 §3): the SHA-256 of the local part only, truncated to
// 28 octets, in lower-case hex, then "_smimecert", then the domain.
//
//	OwnerName("hugh@example.com")
//	// c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.com.
//
// The local part is hashed as written, upper case included: mailbox names
// are case-sensitive (RFC 5321 §2.4), so "Hugh" and "hugh" have different
// owner names; [LowerCaseFallback] gives the second name to try. A quoted
// local part is hashed without its quotes and backslashes, and a non-ASCII
// one in NFC, as RFC 8162 §3 and RFC 7929 §3 say. The domain is converted
// to lower-case A-labels (IDNA, UTS #46 lookup mapping). The domain is
// never part of the hash (S49): miekg/dns's SMIMEAName hashes whatever it
// is given, the whole address included if that is what it gets.
//
// An addr that is not an addr-spec gives an *[AddressError].
func OwnerName(addr string) (string, error) { return ownerName(addr, "_smimecert") }

// OpenPGPKeyName returns the fully qualified DNS name of the OPENPGPKEY
// record for addr (RFC 7929 §3): the same hashed label as [OwnerName]
// under "_openpgpkey" and the domain.
func OpenPGPKeyName(addr string) (string, error) { return ownerName(addr, "_openpgpkey") }

// LowerCaseFallback returns addr with its local part lower-cased, and
// true, when that differs from addr's: the second address to look up when
// nothing is published for the address as written. Mailbox names are
// case-sensitive and RFC 7929 §3.1 forbids a sender to map addresses on
// its own, but many domains treat local parts case-insensitively and
// publish only the lower-case form; this one retry, made only after the
// address as written found nothing and announced to the user, is the
// compromise. It returns "", false when the local part has no upper-case
// letter or addr is not a valid address.
//
// A record found under the fallback name belongs to the fallback address:
// evaluate it against that address (the certificate must name it), and
// tell the user that the key is for the lower-case address, not the one
// they typed.
func LowerCaseFallback(addr string) (string, bool) {
	a, err := parseAddress(addr)
	if err != nil {
		return "", false
	}
	lower := strings.ToLower(a.local)
	if lower == a.local {
		return "", false
	}
	// The domain stays as the user wrote it: only the local part changes.
	fallback := address{local: lower, domain: addr[strings.LastIndexByte(addr, '@')+1:]}.String()
	if _, err := parseAddress(fallback); err != nil {
		return "", false
	}
	return fallback, true
}

// TLSAName returns the owner name of the TLSA records for a service
// (RFC 6698 §3): "_25._tcp.mail.example.org." for port 25, protocol "tcp"
// and host "mail.example.org". The host is lower-cased and converted to
// A-labels when it is an internationalised name; a final dot is added.
// The caller checks that host is a valid DNS name.
func TLSAName(host string, port int, proto string) string {
	host = strings.TrimSuffix(host, ".")
	if a, err := idnaLookup.ToASCII(host); err == nil {
		host = a
	} else {
		host = strings.ToLower(host)
	}
	return "_" + strconv.Itoa(port) + "._" + strings.ToLower(proto) + "." + host + "."
}
