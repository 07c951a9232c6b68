package securemail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/securemail/securemail/message"
)

// Policy says how an outgoing message is protected.
type Policy struct {
	Sign    bool
	Encrypt bool
	// Scheme is "pgp", "smime", or "" to let the protectors decide.
	Scheme string
	// RequireEncryption refuses to produce a message that is not encrypted:
	// set for replies to and forwards of encrypted mail, and for their
	// drafts (S26).
	RequireEncryption bool
}

// Protector applies one scheme's protection to outgoing mail. OpenPGP and
// S/MIME register one each.
type Protector interface {
	// Scheme is "pgp" or "smime".
	Scheme() string
	// Wrap signs and/or encrypts entity, a canonical MIME entity (its
	// Content-* fields, a blank line, its body), for the draft's
	// recipients, and returns the protected MIME entity that replaces it.
	Wrap(entity []byte, d *message.Draft, p Policy) ([]byte, error)
}

// ProtectOptions configure Protect. A nil *ProtectOptions means no scheme
// protectors and the default composition options.
type ProtectOptions struct {
	Protectors []Protector
	Compose    *message.ComposeOptions
}

// ErrWouldLeak is returned when a message that must be encrypted (a reply
// to encrypted mail, S26) would go out in the clear.
var ErrWouldLeak = errors.New("securemail: this message quotes or continues encrypted mail and must be encrypted")

// NoSchemeError says no protector can apply the policy.
type NoSchemeError struct {
	Scheme string
}

func (e *NoSchemeError) Error() string {
	if e.Scheme == "" {
		return "securemail: no signing or encryption scheme is available"
	}
	return "securemail: the " + e.Scheme + " scheme is not available"
}

// Protect composes the draft and protects it as the policy says. The
// plain path (neither Sign nor Encrypt) is message.Compose. When the
// content is encrypted, its header fields are protected as RFC 9788 says:
// the inner entity carries the real Subject (and From, To, Cc, Date,
// Message-ID) with hp="cipher", and the outside shows Subject "...".
func Protect(d *message.Draft, p Policy, opts *ProtectOptions) ([]byte, error) {
	if opts == nil {
		opts = &ProtectOptions{}
	}
	if p.RequireEncryption && !p.Encrypt {
		return nil, ErrWouldLeak
	}
	if !p.Sign && !p.Encrypt {
		return message.Compose(d, opts.Compose)
	}
	prot := protectorFor(opts.Protectors, p.Scheme)
	if prot == nil {
		return nil, &NoSchemeError{Scheme: p.Scheme}
	}
	// Fix the generated fields once, so inside and outside agree.
	inner := *d
	if inner.MessageID == "" {
		domain := "localhost"
		if d.From != nil {
			if at := strings.LastIndexByte(d.From.Address, '@'); at >= 0 {
				domain = d.From.Address[at+1:]
			}
		}
		id, err := message.NewMessageID(composeRand(opts.Compose), domain)
		if err != nil {
			return nil, err
		}
		inner.MessageID = id
	}
	if inner.Date.IsZero() {
		inner.Date = composeNow(opts.Compose)
	}
	entity, err := message.ComposeBody(&inner, opts.Compose)
	if err != nil {
		return nil, err
	}
	outer := inner
	if p.Encrypt {
		if entity, err = protectHeaders(&inner, entity, opts.Compose); err != nil {
			return nil, err
		}
		outer.Subject = "..."
	}
	wrapped, err := prot.Wrap(entity, &inner, p)
	if err != nil {
		return nil, err
	}
	hdr, err := message.ComposeHeader(&outer, opts.Compose)
	if err != nil {
		return nil, err
	}
	return append(hdr, wrapped...), nil
}

func protectorFor(ps []Protector, scheme string) Protector {
	for _, p := range ps {
		if scheme == "" || p.Scheme() == scheme {
			return p
		}
	}
	return nil
}

// protectHeaders puts the message's header fields into the entity that
// will be encrypted, marking its Content-Type with hp="cipher" (RFC 9788
// §2.1), so the Subject is protected while the outside shows "...".
func protectHeaders(d *message.Draft, entity []byte, opts *message.ComposeOptions) ([]byte, error) {
	hdr, err := message.ComposeHeader(d, opts)
	if err != nil {
		return nil, err
	}
	// Only the fields RFC 9788 protects and a reader shows; MIME-Version
	// belongs to the outside.
	var kept bytes.Buffer
	for _, line := range splitFields(hdr) {
		name := strings.ToLower(strings.TrimSpace(line[:strings.IndexByte(line, ':')]))
		switch name {
		case "from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to", "references":
			kept.WriteString(line)
		}
	}
	ct := bytes.Index(entity, []byte("Content-Type:"))
	if ct != 0 {
		return nil, fmt.Errorf("securemail: composed entity does not start with Content-Type")
	}
	eol := bytes.Index(entity, []byte("\r\n"))
	// The Content-Type field may be folded: find its end.
	for eol+2 < len(entity) && (entity[eol+2] == ' ' || entity[eol+2] == '\t') {
		eol += 2 + bytes.Index(entity[eol+2:], []byte("\r\n"))
	}
	var out bytes.Buffer
	out.Write(entity[:eol])
	out.WriteString(`; hp="cipher"`)
	out.WriteString("\r\n")
	out.Write(kept.Bytes())
	out.Write(entity[eol+2:])
	return out.Bytes(), nil
}

// splitFields splits a header block into fields, each with its folded
// lines and final CRLF.
func splitFields(hdr []byte) []string {
	var out []string
	for _, line := range strings.SplitAfter(string(hdr), "\r\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1] += line
			continue
		}
		if strings.IndexByte(line, ':') > 0 {
			out = append(out, line)
		}
	}
	return out
}

func composeRand(o *message.ComposeOptions) io.Reader {
	if o != nil && o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

func composeNow(o *message.ComposeOptions) time.Time {
	if o != nil && o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// ProtectMessage protects a message composed elsewhere (by a mail user
// agent, for a pipe into sendmail): its MIME entity, byte for byte, is
// signed and/or encrypted, and its header fields stay outside, except
// that with encryption the Subject is protected (RFC 9788) and shown
// outside as "...". Recipients are To, Cc and Bcc unless to is given;
// the sender is From unless from is given. Date and Message-ID are added
// when missing, so that inside and outside agree.
func ProtectMessage(raw []byte, p Policy, to []string, from string, opts *ProtectOptions) ([]byte, error) {
	if opts == nil {
		opts = &ProtectOptions{}
	}
	if p.RequireEncryption && !p.Encrypt {
		return nil, ErrWouldLeak
	}
	m, err := message.Parse(raw, nil)
	if err != nil {
		return nil, err
	}
	d, err := draftOf(m.Root.Header, to, from)
	if err != nil {
		return nil, err
	}
	if !p.Sign && !p.Encrypt {
		return m.Raw, nil
	}
	prot := protectorFor(opts.Protectors, p.Scheme)
	if p.Scheme == "" && p.Encrypt {
		prot = protectorForAll(opts.Protectors, Recipients(d))
	}
	if prot == nil {
		return nil, &NoSchemeError{Scheme: p.Scheme}
	}
	var outer, protected bytes.Buffer
	h := m.Root.Header
	for _, f := range h.Fields {
		name := strings.ToLower(f.Name)
		if strings.HasPrefix(name, "content-") || name == "mime-version" {
			continue
		}
		field := m.Raw[f.Start:f.End]
		if p.Encrypt {
			switch name {
			case "from", "to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to", "references":
				protected.Write(field)
			}
			if name == "subject" {
				outer.WriteString("Subject: ...\r\n")
				continue
			}
		}
		outer.Write(field)
	}
	if h.Get("Date") == "" {
		f := "Date: " + composeNow(opts.Compose).Format(time.RFC1123Z) + "\r\n"
		outer.WriteString(f)
		protected.WriteString(f)
	}
	if h.Get("Message-ID") == "" {
		id, err := message.NewMessageID(composeRand(opts.Compose), domainOfAddress(d.From.Address))
		if err != nil {
			return nil, err
		}
		f := "Message-ID: " + id + "\r\n"
		outer.WriteString(f)
		protected.WriteString(f)
	}
	outer.WriteString("MIME-Version: 1.0\r\n")
	entity := bodyEntity(m)
	if p.Encrypt {
		entity = withProtectedHeaders(entity, protected.Bytes())
	}
	wrapped, err := prot.Wrap(entity, d, p)
	if err != nil {
		return nil, err
	}
	return append(outer.Bytes(), wrapped...), nil
}

// bodyEntity is the message's MIME entity: its Content-* fields (a
// text/plain one when it has none), a blank line, its body. A text body
// that is not 7-bit safe is re-encoded quoted-printable, since signed
// content must survive transport unchanged (RFC 3156 §3).
func bodyEntity(m *message.Message) []byte {
	var b bytes.Buffer
	root := m.Root
	reencode := !root.IsMultipart() && !sevenBit(m.Body(root)) && transferIdentity(root.Header.Get("Content-Transfer-Encoding"))
	// Content-Type first (withProtectedHeaders marks it), then the rest.
	var ctype []byte
	for _, f := range root.Header.Fields {
		if strings.EqualFold(f.Name, "Content-Type") && ctype == nil {
			ctype = m.Raw[f.Start:f.End]
		}
	}
	if ctype == nil {
		ctype = []byte("Content-Type: text/plain; charset=us-ascii\r\n")
	}
	b.Write(ctype)
	for _, f := range root.Header.Fields {
		name := strings.ToLower(f.Name)
		if !strings.HasPrefix(name, "content-") || name == "content-type" {
			continue
		}
		if reencode && name == "content-transfer-encoding" {
			continue
		}
		b.Write(m.Raw[f.Start:f.End])
	}
	if reencode {
		b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.Write(message.QuotedPrintable(m.Body(root)))
		return b.Bytes()
	}
	b.WriteString("\r\n")
	b.Write(m.Body(root))
	return b.Bytes()
}

func transferIdentity(cte string) bool {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

// sevenBit reports whether a body is 7-bit text in short lines with no
// trailing white space and no "From " line: what survives any transport.
func sevenBit(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\r\n")) {
		if len(line) > 998 || bytes.HasPrefix(line, []byte("From ")) || len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
			return false
		}
		for _, c := range line {
			if c >= 0x80 || c == 0 || c == '\r' || c == '\n' {
				return false
			}
		}
	}
	return true
}

// withProtectedHeaders adds hp="cipher" to the entity's Content-Type
// field, which bodyEntity puts first, and the protected fields after it
// (RFC 9788 §2.1).
func withProtectedHeaders(entity, fields []byte) []byte {
	eol := bytes.Index(entity, []byte("\r\n"))
	for eol+2 < len(entity) && (entity[eol+2] == ' ' || entity[eol+2] == '\t') {
		eol += 2 + bytes.Index(entity[eol+2:], []byte("\r\n"))
	}
	var out bytes.Buffer
	out.Write(entity[:eol])
	out.WriteString(`; hp="cipher"`)
	out.WriteString("\r\n")
	out.Write(fields)
	out.Write(entity[eol+2:])
	return out.Bytes()
}

// draftOf reads the sender and recipients of a composed message.
func draftOf(h message.Header, to []string, from string) (*message.Draft, error) {
	d := &message.Draft{}
	if from == "" {
		from = h.Get("From")
	}
	if from == "" {
		return nil, errors.New("securemail: the message has no From field (give --from)")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("securemail: the From address %q: %v", message.SafeLine(from), err)
	}
	d.From = a
	if len(to) > 0 {
		for _, t := range to {
			a, err := mail.ParseAddress(t)
			if err != nil {
				return nil, fmt.Errorf("securemail: recipient %q: %v", message.SafeLine(t), err)
			}
			d.To = append(d.To, a)
		}
		return d, nil
	}
	for _, f := range []struct {
		name string
		dst  *[]*mail.Address
	}{{"To", &d.To}, {"Cc", &d.Cc}, {"Bcc", &d.Bcc}} {
		for _, v := range h.Values(f.name) {
			if strings.TrimSpace(v) == "" {
				continue
			}
			as, err := mail.ParseAddressList(v)
			if err != nil {
				return nil, fmt.Errorf("securemail: the %s field: %v", f.name, err)
			}
			*f.dst = append(*f.dst, as...)
		}
	}
	return d, nil
}

func domainOfAddress(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[at+1:]
	}
	return "localhost"
}

// KeyChecker is a Protector that can tell whether it has a key for every
// address, so the scheme can be chosen by what recipients have.
type KeyChecker interface {
	CanEncryptTo(addrs []string) bool
}

// protectorForAll picks the first protector with keys for every address,
// else the first one (whose error will name the missing keys).
func protectorForAll(ps []Protector, addrs []string) Protector {
	for _, p := range ps {
		if kc, ok := p.(KeyChecker); ok && kc.CanEncryptTo(addrs) {
			return p
		}
	}
	if len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// MessageRecipients returns the addresses ProtectMessage encrypts raw to,
// given the same to and from: to (or the message's To, Cc and Bcc) and
// the sender. A caller uses it to find keys (Directory.FindKeys) first.
func MessageRecipients(raw []byte, to []string, from string) ([]string, error) {
	m, err := message.Parse(raw, nil)
	if err != nil {
		return nil, err
	}
	d, err := draftOf(m.Root.Header, to, from)
	if err != nil {
		return nil, err
	}
	return Recipients(d), nil
}
