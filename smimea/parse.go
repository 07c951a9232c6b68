package smimea

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// ParseRecord reads an SMIMEA or TLSA record in presentation format,
// either its RDATA alone or a whole zone-file line:
//
//	3 0 0 308202cd308201b5…
//	c93f…afd6._smimecert.example.com. 3600 IN SMIMEA 3 0 0 3082…
//	_25._tcp.mail.example.org. IN TLSA 3 1 1 293F3944…
//
// As in a zone file (RFC 1035 §5.1, RFC 6698 §2.2), the hex is
// case-insensitive and may be split by white space, line breaks inside
// parentheses, and ";" comments; the TTL and the class (IN) are optional
// and in either order; the parameters may also be written with their
// RFC 7218 names ("DANE-EE SPKI SHA2-256"); and the generic form of
// RFC 3597 ("TYPE53 \# 35 030101…") is read too. The owner name, when
// present, is checked but not returned. The record is then checked with
// [Record.Validate]. Errors are *[RecordError].
func ParseRecord(s string) (Record, error) {
	if len(s) > maxPresentation {
		return Record{}, recordErrorf("the text is longer than any record")
	}
	toks, err := zoneTokens(s)
	if err != nil {
		return Record{}, err
	}
	if len(toks) == 0 {
		return Record{}, recordErrorf("the text is empty")
	}
	// The type is at most the fourth token (owner, TTL, class, type); the
	// last candidate wins, so that an owner named "tlsa" is not the type.
	typeAt := -1
	for i := 0; i < len(toks) && i < 4; i++ {
		if isRecordType(toks[i]) {
			typeAt = i
		}
	}
	if typeAt >= 0 {
		if err := checkHeader(toks[:typeAt]); err != nil {
			return Record{}, err
		}
		toks = toks[typeAt+1:]
	} else {
		for i := 0; i < len(toks) && i < 3; i++ {
			if strings.EqualFold(toks[i], "IN") {
				return Record{}, recordErrorf("the line is neither an SMIMEA nor a TLSA record")
			}
		}
	}
	r, err := parseRDATA(toks)
	if err != nil {
		return Record{}, err
	}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// isRecordType reports whether a token names the SMIMEA or TLSA type.
func isRecordType(t string) bool {
	switch strings.ToUpper(t) {
	case "SMIMEA", "TLSA", "TYPE53", "TYPE52":
		return true
	}
	return false
}

// zoneTokens splits the text of one zone-file record into its fields:
// white space separates them, ";" starts a comment, parentheses let the
// record go on over several lines, and a line break outside them ends the
// record.
func zoneTokens(s string) ([]string, error) {
	var toks []string
	open, ended := false, false
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case ';':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case '(':
			if open {
				return nil, recordErrorf("nested parentheses")
			}
			open = true
			i++
		case ')':
			if !open {
				return nil, recordErrorf("a closing parenthesis without an opening one")
			}
			open = false
			i++
		case '\n':
			if !open && len(toks) > 0 {
				ended = true
			}
			i++
		case ' ', '\t', '\r':
			i++
		case '"':
			return nil, recordErrorf("a quoted string has no place in an SMIMEA or TLSA record")
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n;()\"", rune(s[j])) {
				j++
			}
			if ended {
				return nil, recordErrorf("more than one record")
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	if open {
		return nil, recordErrorf("an opening parenthesis is not closed")
	}
	return toks, nil
}

// checkHeader checks what comes before the type in a zone-file line: an
// optional owner (first), and an optional TTL and class in either order.
func checkHeader(toks []string) error {
	var ttl, class bool
	for i, t := range toks {
		switch {
		case strings.EqualFold(t, "IN"):
			if class {
				return recordErrorf("the class is given twice")
			}
			class = true
		case isClass(t):
			return recordErrorf("class %s: SMIMEA and TLSA records are read in class IN only", printable(t))
		case allDigits(t) && !ttl && !(i == 0 && len(toks) == 3):
			n, err := strconv.ParseUint(t, 10, 32)
			if err != nil || n > 1<<31-1 {
				return recordErrorf("TTL %s is out of range (RFC 2181 §8)", printable(t))
			}
			ttl = true
		case i == 0:
			if _, ok := dns.IsDomainName(t); !ok {
				return recordErrorf("owner %s is not a domain name", printable(t))
			}
		default:
			return recordErrorf("unexpected %s before the record type", printable(t))
		}
	}
	return nil
}

func isClass(t string) bool {
	switch u := strings.ToUpper(t); u {
	case "IN", "CH", "CS", "HS", "NONE", "ANY":
		return true
	default:
		return strings.HasPrefix(u, "CLASS") && len(u) > 5 && allDigits(u[5:])
	}
}

func allDigits(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return t != ""
}

// printable quotes a token for an error message, short.
func printable(t string) string {
	if len(t) > 40 {
		t = t[:40] + "…"
	}
	return strconv.Quote(t)
}

// parseRDATA reads "usage selector matching hex…" or RFC 3597's
// "\# length hex…".
func parseRDATA(toks []string) (Record, error) {
	if len(toks) > 0 && toks[0] == `\#` {
		return parseGeneric(toks[1:])
	}
	if len(toks) < 4 {
		return Record{}, recordErrorf("expected a certificate usage, a selector, a matching type and the data, as in \"3 1 1 29f3…\"")
	}
	usage, err := parseParam(toks[0], "certificate usage", usageNames[:], "PrivCert")
	if err != nil {
		return Record{}, err
	}
	selector, err := parseParam(toks[1], "selector", selectorNames[:], "PrivSel")
	if err != nil {
		return Record{}, err
	}
	matching, err := parseParam(toks[2], "matching type", matchingNames[:], "PrivMatch")
	if err != nil {
		return Record{}, err
	}
	data, err := decodeHex(toks[3:])
	if err != nil {
		return Record{}, err
	}
	return Record{Usage: usage, Selector: selector, MatchingType: matching, Data: data}, nil
}

// parseParam reads a parameter in decimal or by its RFC 7218 name.
func parseParam(t, what string, names []string, private string) (uint8, error) {
	if allDigits(t) {
		n, err := strconv.ParseUint(t, 10, 8)
		if err != nil {
			return 0, recordErrorf("%s %s is not a number from 0 to 255", what, printable(t))
		}
		return uint8(n), nil
	}
	for i, n := range names {
		if strings.EqualFold(t, n) {
			return uint8(i), nil
		}
	}
	if strings.EqualFold(t, private) {
		return 255, nil
	}
	return 0, recordErrorf("%s %s is not a number", what, printable(t))
}

// parseGeneric reads RFC 3597 §5 RDATA: its length, then the octets in hex.
func parseGeneric(toks []string) (Record, error) {
	if len(toks) == 0 || !allDigits(toks[0]) {
		return Record{}, recordErrorf(`\# is not followed by the length of the data`)
	}
	n, err := strconv.ParseUint(toks[0], 10, 16)
	if err != nil {
		return Record{}, recordErrorf(`\# length %s is out of range`, printable(toks[0]))
	}
	var rdata []byte
	if len(toks) > 1 {
		if rdata, err = decodeHex(toks[1:]); err != nil {
			return Record{}, err
		}
	}
	if uint64(len(rdata)) != n {
		return Record{}, recordErrorf(`\# says %d octets but %d follow`, n, len(rdata))
	}
	if len(rdata) < 3 {
		return Record{}, recordErrorf("the data is too short for a certificate usage, a selector and a matching type")
	}
	return Record{Usage: rdata[0], Selector: rdata[1], MatchingType: rdata[2], Data: rdata[3:]}, nil
}

// decodeHex joins the tokens and decodes them as hex, either case.
func decodeHex(toks []string) ([]byte, error) {
	h := strings.Join(toks, "")
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return nil, recordErrorf("the data is not hexadecimal (%q at offset %d)", c, i)
		}
	}
	if len(h)%2 != 0 {
		return nil, recordErrorf("the data has an odd number of hex digits")
	}
	return hex.DecodeString(h)
}
