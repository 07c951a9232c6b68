package keystore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// The index is a text file with one line per key, so that opening a store
// of 10,000 keys costs milliseconds (a JSON index of the same keys took
// 100 ms to decode):
//
//	securemail-keystore-index 1
//	<record>\n ...
//	end <count> <hex SHA-256 of everything before this line>
//
// A record is tab-separated fields in the order of indexFields. Strings are
// escaped (backslash, tab, newline, 0x1f and other controls as \xHH); list
// items are joined by 0x1f. Times are Unix seconds; "-" means none. The
// closing line makes a truncated or edited index a clean error.
const indexHeader = "securemail-keystore-index 1\n"

// indexFields names the fields of a record, in order.
var indexFields = []string{"kind", "fingerprint", "flags", "algorithm", "created", "expires",
	"source", "obtained", "origin", "dnssec", "ttl", "public", "secret", "emails", "pinned",
	"user_ids", "subject", "issuer"}

// Record flags.
const (
	flagSecret    = 's'
	flagProtected = 'p'
	flagRevoked   = 'r'
	flagCA        = 'c'
	flagAnchor    = 't'
	flagGCM       = 'g'
	flagOAEP      = 'o'
)

const listSep = '\x1f'

func encodeIndex(recs []record) []byte {
	var b bytes.Buffer
	b.Grow(len(recs) * 256)
	b.WriteString(indexHeader)
	for i := range recs {
		r := &recs[i]
		var flags []byte
		for _, f := range []struct {
			on bool
			c  byte
		}{{r.Secret, flagSecret}, {r.Protected, flagProtected}, {r.Revoked, flagRevoked}, {r.CA, flagCA}, {r.TrustAnchor, flagAnchor}, {r.AESGCM, flagGCM}, {r.RSAOAEP, flagOAEP}} {
			if f.on {
				flags = append(flags, f.c)
			}
		}
		if len(flags) == 0 {
			flags = []byte{'-'}
		}
		expires := "-"
		if r.Expires != nil {
			expires = strconv.FormatInt(r.Expires.Unix(), 10)
		}
		fields := []string{string(r.Kind), r.Fingerprint, string(flags), escapeField(r.Algorithm),
			strconv.FormatInt(r.Created.Unix(), 10), expires, escapeField(string(r.Source)),
			strconv.FormatInt(r.Obtained.Unix(), 10), escapeField(r.Origin), escapeField(r.DNSSEC),
			strconv.FormatUint(uint64(r.TTL), 10), r.PublicObject, r.SecretObject,
			joinList(r.Emails), joinList(r.Pinned), joinList(r.UserIDs), escapeField(r.Subject), escapeField(r.Issuer)}
		for j, f := range fields {
			if j > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(f)
		}
		b.WriteByte('\n')
	}
	sum := sha256.Sum256(b.Bytes())
	fmt.Fprintf(&b, "end %d %s\n", len(recs), hex.EncodeToString(sum[:]))
	return b.Bytes()
}

func decodeIndex(data []byte) ([]record, error) {
	lines, err := indexLines(data)
	if err != nil {
		return nil, err
	}
	recs := make([]record, 0, len(lines))
	for i, row := range lines {
		r, err := parseRecordLine(row)
		if err != nil {
			return nil, fmt.Errorf("record %d: %v", i+1, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// indexLines checks the header and the closing line of an index and
// returns its record lines, not yet parsed.
func indexLines(data []byte) ([]string, error) {
	if !bytes.HasPrefix(data, []byte(indexHeader)) {
		return nil, fmt.Errorf("not a securemail key index (unknown header)")
	}
	// The last line seals the rest.
	body := bytes.TrimSuffix(data, []byte("\n"))
	cut := bytes.LastIndexByte(body, '\n')
	if cut < 0 {
		return nil, fmt.Errorf("truncated")
	}
	trailer := string(body[cut+1:])
	body = data[:cut+1]
	var count int
	var sumHex string
	if n, _ := fmt.Sscanf(trailer, "end %d %s", &count, &sumHex); n != 2 {
		return nil, fmt.Errorf("truncated (no closing line)")
	}
	sum := sha256.Sum256(body)
	if sumHex != hex.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("checksum mismatch (edited or corrupt)")
	}
	// The records are sliced out of one string without copying each field;
	// data is not used again after this, so viewing it as a string is safe.
	body = body[len(indexHeader):]
	text := ""
	if len(body) > 0 {
		text = unsafe.String(&body[0], len(body))
	}
	n := strings.Count(text, "\n")
	if count < 0 || count != n {
		return nil, fmt.Errorf("%d records, the closing line says %d", n, count)
	}
	lines := make([]string, 0, n)
	for len(text) > 0 {
		nl := strings.IndexByte(text, '\n')
		lines = append(lines, text[:nl])
		text = text[nl+1:]
	}
	return lines, nil
}

// parseRecordLine parses one record line.
func parseRecordLine(row string) (record, error) {
	var fields [18]string
	n := 0
	for n < len(fields)-1 {
		tab := strings.IndexByte(row, '\t')
		if tab < 0 {
			break
		}
		fields[n], row = row[:tab], row[tab+1:]
		n++
	}
	fields[n] = row
	if n != len(fields)-1 || strings.IndexByte(row, '\t') >= 0 {
		return record{}, fmt.Errorf("%d fields, want %d (%s)", n+1, len(indexFields), strings.Join(indexFields, " "))
	}
	return decodeRecord(&fields)
}

func decodeRecord(f *[18]string) (record, error) {
	var r record
	var err error
	r.Kind = Kind(f[0])
	if r.Kind != PGP && r.Kind != SMIME {
		return r, fmt.Errorf("unknown kind %q", f[0])
	}
	r.Fingerprint = f[1]
	for _, c := range []byte(f[2]) {
		switch c {
		case flagSecret:
			r.Secret = true
		case flagProtected:
			r.Protected = true
		case flagRevoked:
			r.Revoked = true
		case flagCA:
			r.CA = true
		case flagAnchor:
			r.TrustAnchor = true
		case flagGCM:
			r.AESGCM = true
		case flagOAEP:
			r.RSAOAEP = true
		}
	}
	r.Algorithm = unescapeField(f[3])
	if r.Created, err = unixField(f[4]); err != nil {
		return r, err
	}
	if f[5] != "-" {
		t, err := unixField(f[5])
		if err != nil {
			return r, err
		}
		r.Expires = &t
	}
	r.Source = Source(unescapeField(f[6]))
	if r.Obtained, err = unixField(f[7]); err != nil {
		return r, err
	}
	r.Origin, r.DNSSEC = unescapeField(f[8]), unescapeField(f[9])
	ttl, err := strconv.ParseUint(f[10], 10, 32)
	if err != nil {
		return r, fmt.Errorf("bad ttl %q", f[10])
	}
	r.TTL = uint32(ttl)
	r.PublicObject, r.SecretObject = f[11], f[12]
	r.Emails, r.Pinned, r.UserIDs = splitList(f[13]), splitList(f[14]), splitList(f[15])
	if r.UserIDs != nil && len(r.UserIDs) == 0 {
		r.UserIDs = nil
	}
	r.Subject, r.Issuer = unescapeField(f[16]), unescapeField(f[17])
	return r, nil
}

func unixField(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

func needsEscape(c byte) bool { return c < 0x20 || c == '\\' || c == 0x7f }

func escapeField(s string) string {
	i := 0
	for i < len(s) && !needsEscape(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unescapeField(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func joinList(items []string) string {
	var b strings.Builder
	for i, it := range items {
		if i > 0 {
			b.WriteByte(listSep)
		}
		b.WriteString(escapeField(it))
	}
	return b.String()
}

// splitList returns the items of a list field; an empty field is an empty
// (non-nil) list.
func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	n := strings.Count(s, string(rune(listSep))) + 1
	out := make([]string, 0, n)
	for {
		i := strings.IndexByte(s, listSep)
		if i < 0 {
			return append(out, unescapeField(s))
		}
		out = append(out, unescapeField(s[:i]))
		s = s[i+1:]
	}
}
