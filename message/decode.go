package message

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message/charset"
)

// maxDecoded bounds a decoded body: base64 and quoted-printable only
// shrink, but a charset conversion can grow text.
const maxDecoded = 512 << 20

// TransferDecode returns the body of p with its Content-Transfer-Encoding
// undone (base64, quoted-printable; 7bit, 8bit and binary as they are).
// Base64 is read leniently (line breaks and stray characters skipped), as
// mail clients do; an unknown encoding is an error.
func (m *Message) TransferDecode(p *Part) ([]byte, error) {
	body := m.Body(p)
	switch enc := strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))); enc {
	case "", "7bit", "8bit", "binary":
		return body, nil
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, err := base64.RawStdEncoding.Decode(out, clean[:len(clean)/4*4+rem(len(clean))])
		if err != nil {
			return out[:n], fmt.Errorf("message: base64 body: %v", err)
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(io.LimitReader(quotedprintable.NewReader(bytes.NewReader(body)), maxDecoded))
		if err != nil {
			return out, fmt.Errorf("message: quoted-printable body: %v", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("message: unknown Content-Transfer-Encoding %q", enc)
	}
}

// rem keeps the decodable tail of unpadded base64: 1 leftover character
// cannot be decoded and is dropped.
func rem(n int) int {
	if n%4 == 1 {
		return 0
	}
	return n % 4
}

// Text returns the body of a text/* part decoded to UTF-8: transfer
// encoding undone, charset converted (us-ascii and utf-8 are taken as
// UTF-8; an unknown charset is an error). The result is not safe for a
// terminal yet.
func (m *Message) Text(p *Part) (string, error) {
	b, err := m.TextBytes(p)
	return string(b), err
}

// TextBytes is Text without the conversion to a string: for UTF-8 and
// ASCII parts in 7bit or 8bit it is a slice of Raw, not a copy (do not
// modify it).
func (m *Message) TextBytes(p *Part) ([]byte, error) {
	raw, err := m.TransferDecode(p)
	if err != nil {
		return raw, err
	}
	cs := strings.ToLower(p.Params["charset"])
	switch cs {
	case "", "us-ascii", "utf-8", "utf8", "ascii":
		return raw, nil
	}
	r, err := charset.Reader(cs, bytes.NewReader(raw))
	if err != nil {
		return raw, fmt.Errorf("message: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecoded))
	if err != nil {
		return raw, fmt.Errorf("message: charset %s: %v", cs, err)
	}
	return out, nil
}

// Filename returns the file name a part suggests: Content-Disposition's
// filename (RFC 2231 continuations and charsets decoded), else
// Content-Type's name, with RFC 2047 encoded words decoded as many clients
// write them. It is attacker-controlled: use SafeFilename before showing or
// saving it.
func (p *Part) Filename() string {
	if cd := p.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil && params["filename"] != "" {
			return DecodeText(params["filename"])
		}
	}
	return DecodeText(p.Params["name"])
}

// Disposition is "attachment", "inline" or "" (none given).
func (p *Part) Disposition() string {
	cd := p.Header.Get("Content-Disposition")
	if cd == "" {
		return ""
	}
	d, _, _ := mime.ParseMediaType(cd)
	return strings.ToLower(d)
}
