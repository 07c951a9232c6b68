package dnssec

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/miekg/dns"
)

// RootAnchors returns the IANA trust anchors for the root zone, as DS
// records with SHA-256 digests, from
// https://data.iana.org/root-anchors/root-anchors.xml: KSK-2017 (key tag
// 20326) and KSK-2024 (key tag 38696), both RSASHA256. A fresh slice each
// call; the caller may keep or modify it.
func RootAnchors() []dns.RR {
	return []dns.RR{
		rootDS(20326, "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"),
		rootDS(38696, "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"),
	}
}

func rootDS(tag uint16, digest string) *dns.DS {
	return &dns.DS{
		Hdr:        dns.RR_Header{Name: ".", Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: 172800},
		KeyTag:     tag,
		Algorithm:  dns.RSASHA256,
		DigestType: dns.SHA256,
		Digest:     digest,
	}
}

// AnchorError is a trust-anchor record ParseAnchors or New refuses. Line
// is the line of the input it starts on (0 when the anchors were not
// read from text).
type AnchorError struct {
	Line   int
	Record string // the record as read, or empty
	Err    error
}

func (e *AnchorError) Error() string {
	var b strings.Builder
	b.WriteString("dnssec: trust anchor")
	if e.Line > 0 {
		fmt.Fprintf(&b, " at line %d", e.Line)
	}
	if e.Record != "" {
		fmt.Fprintf(&b, " (%s)", e.Record)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *AnchorError) Unwrap() error { return e.Err }

// ParseAnchors reads trust anchors in zone-file syntax: DS or DNSKEY
// records, for the root or any other zone, with comments, $ORIGIN and
// $TTL allowed ($INCLUDE is not), the format of Unbound's trust-anchor-file and of
// /usr/share/dns/root.key. Anything else (another record type, a DNSKEY
// without the Zone Key flag or with a protocol other than 3, a digest of
// the wrong length) is an [*AnchorError] naming the line.
func ParseAnchors(r io.Reader) ([]dns.RR, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("dnssec: reading trust anchors: %w", err)
	}
	if len(data) > 1<<20 {
		return nil, errors.New("dnssec: trust anchor file larger than 1 MiB")
	}
	lines := recordLines(data)
	zp := dns.NewZoneParser(bytes.NewReader(data), ".", "")
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		line := 0
		if len(out) < len(lines) {
			line = lines[len(out)]
		}
		if err := checkAnchor(rr); err != nil {
			return nil, &AnchorError{Line: line, Record: rr.String(), Err: err}
		}
		if ds, ok := rr.(*dns.DS); ok {
			ds.Digest = strings.ToUpper(ds.Digest) // as DS.String writes it
		}
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		// miekg's message ends in "at line: L:C".
		return nil, fmt.Errorf("dnssec: trust anchors: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("dnssec: trust anchor file holds no DS or DNSKEY record")
	}
	return out, nil
}

// recordLines returns the line each record of a zone file starts on, in
// order, so errors found after parsing can name a line. It follows the
// master-file rules that matter for counting records: comments after
// ';' outside quotes, parentheses joining lines, $-directives and blank
// lines not being records.
func recordLines(data []byte) []int {
	var starts []int
	depth := 0
	inQuote := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 2<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		// A line that begins inside parentheses continues a record.
		startsRecord := depth == 0 && !inQuote
		content := false
		escaped := false
		for i := 0; i < len(line); i++ {
			c := line[i]
			if escaped {
				escaped = false
				content = true
				continue
			}
			switch {
			case c == '\\':
				escaped = true
			case c == '"':
				inQuote = !inQuote
				content = true
			case inQuote:
				content = true
			case c == ';':
				i = len(line)
			case c == '(':
				depth++
			case c == ')':
				if depth > 0 {
					depth--
				}
			case c != ' ' && c != '\t' && c != '\r':
				content = true
			}
		}
		if !content || strings.HasPrefix(line, "$") {
			continue
		}
		if startsRecord {
			starts = append(starts, n)
		}
	}
	return starts
}

// checkAnchor applies the rules a trust anchor must meet.
func checkAnchor(rr dns.RR) error {
	if rr.Header().Class != dns.ClassINET {
		return fmt.Errorf("class %s, want IN", dns.ClassToString[rr.Header().Class])
	}
	switch a := rr.(type) {
	case *dns.DS:
		want := map[uint8]int{dns.SHA1: 20, dns.SHA256: 32, dns.SHA384: 48}[a.DigestType]
		d, err := hex.DecodeString(a.Digest)
		if err != nil {
			return fmt.Errorf("DS digest is not hex: %v", err)
		}
		if want != 0 && len(d) != want {
			return fmt.Errorf("DS digest type %d needs %d octets, has %d", a.DigestType, want, len(d))
		}
	case *dns.DNSKEY:
		if a.Flags&dns.ZONE == 0 {
			return errors.New("DNSKEY without the Zone Key flag (flags 256 or 257 expected)")
		}
		if a.Flags&dns.REVOKE != 0 {
			return errors.New("DNSKEY has the REVOKE flag")
		}
		if a.Protocol != 3 {
			return fmt.Errorf("DNSKEY protocol %d, want 3", a.Protocol)
		}
		if k, err := base64.StdEncoding.DecodeString(a.PublicKey); err != nil || len(k) == 0 {
			return errors.New("DNSKEY public key missing or not base64")
		}
	default:
		return fmt.Errorf("%s record; a trust anchor is DS or DNSKEY", dns.TypeToString[rr.Header().Rrtype])
	}
	return nil
}

// anchorSet is the validated form of Options.Anchors: per zone, the DS
// records and DNSKEYs that are trusted without proof.
type anchorSet map[string]*anchor

type anchor struct {
	zone string
	ds   []*dns.DS
	keys []*dns.DNSKEY
}

func newAnchorSet(rrs []dns.RR) (anchorSet, error) {
	if len(rrs) == 0 {
		return nil, errors.New("dnssec: no trust anchors")
	}
	set := anchorSet{}
	for _, rr := range rrs {
		if rr == nil {
			return nil, &AnchorError{Err: errors.New("nil record")}
		}
		if err := checkAnchor(rr); err != nil {
			return nil, &AnchorError{Record: rr.String(), Err: err}
		}
		zone := canonicalName(rr.Header().Name)
		a := set[zone]
		if a == nil {
			a = &anchor{zone: zone}
			set[zone] = a
		}
		switch r := dns.Copy(rr).(type) {
		case *dns.DS:
			r.Hdr.Name = zone
			a.ds = append(a.ds, r)
		case *dns.DNSKEY:
			r.Hdr.Name = zone
			a.keys = append(a.keys, r)
		}
	}
	return set, nil
}

// closest returns the deepest anchor at or above name, or nil.
func (s anchorSet) closest(name string) *anchor {
	for n := name; ; n = parentName(n) {
		if a := s[n]; a != nil {
			return a
		}
		if n == "." {
			return nil
		}
	}
}
