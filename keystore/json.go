package keystore

import (
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// AppendJSON appends e as a JSON object (the fields of CLI.md's `keys list
// --json`). It writes the same object encoding/json would, without
// reflection, so listing 10,000 keys as JSON stays fast.
func (e *Entry) AppendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = appendJSONString(b, string(e.Kind))
	b = append(b, `,"fingerprint":`...)
	b = appendJSONString(b, e.Fingerprint)
	b = append(b, `,"emails":`...)
	b = appendJSONList(b, e.Emails)
	if len(e.UserIDs) > 0 {
		b = append(b, `,"user_ids":`...)
		b = appendJSONList(b, e.UserIDs)
	}
	if e.Subject != "" {
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, e.Subject)
	}
	if e.Issuer != "" {
		b = append(b, `,"issuer":`...)
		b = appendJSONString(b, e.Issuer)
	}
	b = append(b, `,"algorithm":`...)
	b = appendJSONString(b, e.Algorithm)
	b = append(b, `,"created":`...)
	b = appendJSONTime(b, e.Created)
	b = append(b, `,"expires":`...)
	if e.Expires == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONTime(b, *e.Expires)
	}
	b = append(b, `,"revoked":`...)
	b = strconv.AppendBool(b, e.Revoked)
	if e.CA {
		b = append(b, `,"ca":true`...)
	}
	if e.AESGCM {
		b = append(b, `,"aes_gcm":true`...)
	}
	if e.RSAOAEP {
		b = append(b, `,"rsa_oaep":true`...)
	}
	b = append(b, `,"secret":`...)
	b = strconv.AppendBool(b, e.Secret)
	b = append(b, `,"protected":`...)
	b = strconv.AppendBool(b, e.Protected)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, string(e.Source))
	b = append(b, `,"obtained":`...)
	b = appendJSONTime(b, e.Obtained)
	if e.Origin != "" {
		b = append(b, `,"origin":`...)
		b = appendJSONString(b, e.Origin)
	}
	if e.DNSSEC != "" {
		b = append(b, `,"dnssec":`...)
		b = appendJSONString(b, e.DNSSEC)
	}
	if e.TTL != 0 {
		b = append(b, `,"ttl":`...)
		b = strconv.AppendUint(b, uint64(e.TTL), 10)
	}
	b = append(b, `,"pinned":`...)
	b = appendJSONList(b, e.Pinned)
	b = append(b, `,"trust_anchor":`...)
	b = strconv.AppendBool(b, e.TrustAnchor)
	return append(b, '}')
}

// MarshalJSON encodes e as AppendJSON does.
func (e Entry) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendJSONList(b []byte, items []string) []byte {
	if items == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, it)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string (RFC 8259 §7): control
// characters as \u00XX, invalid UTF-8 as U+FFFD, and <, >, & left as they
// are (encoding/json with SetEscapeHTML(false) does the same).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) || (r >= 0x80 && r < 0xa0) {
			// Line separators, C1 controls (U+009B is CSI) and bidi
			// controls that would act on a terminal when the JSON is shown
			// raw (S25).
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
