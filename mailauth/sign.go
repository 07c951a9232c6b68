package mailauth

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// DefaultSignedHeaders are the fields a signature covers when the caller
// names none: RFC 6376 §5.4.1's list and the MIME fields that decide how
// the body is shown. Each is signed as often as it occurs; From once more
// (see SignDKIM).
var DefaultSignedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc",
	"Resent-Date", "Resent-From", "Resent-To", "Resent-Cc",
	"In-Reply-To", "References", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
}

// presentHeaders lists names as often as the message has them (and From
// once more when overSignFrom is set).
func presentHeaders(m *message, names []string, overSignFrom bool) []string {
	var out []string
	for _, n := range names {
		c := len(m.named(lowerASCII(n)))
		if overSignFrom && equalFoldASCII(n, "from") {
			c++
		}
		for range c {
			out = append(out, n)
		}
	}
	return out
}

// DKIMSignOptions configure SignDKIM.
type DKIMSignOptions struct {
	// Domain (d=) and Selector (s=): the key is published at
	// Selector._domainkey.Domain.
	Domain, Selector string
	// Signer is the private key: *rsa.PrivateKey or ed25519.PrivateKey.
	Signer crypto.Signer
	// Headers are the fields to sign, in order; nil means those of
	// DefaultSignedHeaders the message has, From once more than it has.
	// From must be among them.
	Headers []string
	// Expiration sets x= when not zero.
	Expiration time.Time
}

// SignDKIM signs a message with go-msgauth's signer (relaxed/relaxed,
// sha256) and returns it with the DKIM-Signature field prepended, in the
// message's own line ends.
//
// By default From is over-signed: listed in h= once more than the
// message has it, so that a From field added in transit breaks the
// signature instead of passing unnoticed (RFC 6376 §8.15, S32).
func SignDKIM(raw []byte, opts *DKIMSignOptions) ([]byte, error) {
	if opts == nil || opts.Signer == nil {
		return nil, errors.New("mailauth: SignDKIM needs a Signer")
	}
	domain := asciiDomain(opts.Domain)
	if domain == "" || !validDomain(domain, 2) {
		return nil, fmt.Errorf("mailauth: %q is not a domain name", opts.Domain)
	}
	if !validDomain(opts.Selector, 1) {
		return nil, fmt.Errorf("mailauth: %q is not a selector", opts.Selector)
	}
	if _, err := algorithmFor(opts.Signer); err != nil {
		return nil, err
	}
	m, err := parseMessage(raw)
	if err != nil {
		return nil, err
	}
	if n := len(m.named("from")); n != 1 {
		return nil, fmt.Errorf("mailauth: the message has %d From fields; DKIM needs exactly one", n)
	}
	headers := opts.Headers
	if headers == nil {
		headers = presentHeaders(m, DefaultSignedHeaders, true)
	}
	var out bytes.Buffer
	err = dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain:                 domain,
		Selector:               opts.Selector,
		Signer:                 opts.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             headers,
		Expiration:             opts.Expiration,
	})
	if err != nil {
		return nil, fmt.Errorf("mailauth: %v", err)
	}
	signed := out.Bytes()
	if lineEnd(raw) == "\n" {
		// go-msgauth writes the new field with CRLF: keep the file's
		// convention (verifiers treat both alike).
		end := len(signed) - len(raw)
		fieldLF := strings.ReplaceAll(string(signed[:end]), "\r\n", "\n")
		signed = append([]byte(fieldLF), raw...)
	}
	return signed, nil
}
