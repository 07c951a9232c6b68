package securemail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
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
