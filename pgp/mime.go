package pgp

import (
	"bytes"
	"crypto"
	"fmt"
	"strings"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/securemail/securemail/message"
)

// The PGP/MIME protocols (RFC 3156).
const (
	SignatureProtocol = "application/pgp-signature"
	EncryptedProtocol = "application/pgp-encrypted"
)

// IsSigned reports whether p is a PGP/MIME multipart/signed entity.
func IsSigned(p *message.Part) bool {
	return p.MediaType == "multipart/signed" && strings.EqualFold(p.Params["protocol"], SignatureProtocol)
}

// IsEncrypted reports whether p is a PGP/MIME multipart/encrypted entity.
func IsEncrypted(p *message.Part) bool {
	return p.MediaType == "multipart/encrypted" && strings.EqualFold(p.Params["protocol"], EncryptedProtocol)
}

// maxSignature bounds a detached signature part.
const maxSignature = 1 << 20

// SignedParts checks the structure of a PGP/MIME multipart/signed entity
// (RFC 3156 §5) and returns the exact bytes the signature covers (the
// first body part, headers and body, in canonical CRLF form) and the
// signature. Anything but exactly two parts, the second of type
// application/pgp-signature, is an error.
func SignedParts(m *message.Message, p *message.Part) (signed, sig []byte, err error) {
	if !IsSigned(p) {
		return nil, nil, &FormatError{Reason: "not a PGP/MIME signed entity"}
	}
	if len(p.Problems) > 0 {
		return nil, nil, &FormatError{Reason: "the multipart/signed structure is broken: " + p.Problems[0]}
	}
	if len(p.Children) != 2 {
		return nil, nil, &FormatError{Reason: fmt.Sprintf("multipart/signed has %d parts, not 2", len(p.Children))}
	}
	sp := p.Children[1]
	if sp.MediaType != SignatureProtocol {
		return nil, nil, &FormatError{Reason: "the second part of multipart/signed is " + sp.MediaType + ", not " + SignatureProtocol}
	}
	sig, err = m.TransferDecode(sp)
	if err != nil {
		return nil, nil, &FormatError{Reason: "the signature part: " + err.Error()}
	}
	if len(sig) > maxSignature {
		return nil, nil, &FormatError{Reason: "the signature part is larger than 1 MiB"}
	}
	return m.Bytes(p.Children[0]), sig, nil
}

// EncryptedData checks the structure of a PGP/MIME multipart/encrypted
// entity (RFC 3156 §4) and returns the OpenPGP message it carries: two
// parts, application/pgp-encrypted saying "Version: 1", then
// application/octet-stream.
func EncryptedData(m *message.Message, p *message.Part) ([]byte, error) {
	if !IsEncrypted(p) {
		return nil, &FormatError{Reason: "not a PGP/MIME encrypted entity"}
	}
	if len(p.Problems) > 0 {
		return nil, &FormatError{Reason: "the multipart/encrypted structure is broken: " + p.Problems[0]}
	}
	if len(p.Children) != 2 {
		return nil, &FormatError{Reason: fmt.Sprintf("multipart/encrypted has %d parts, not 2", len(p.Children))}
	}
	ctl, data := p.Children[0], p.Children[1]
	if ctl.MediaType != EncryptedProtocol {
		return nil, &FormatError{Reason: "the first part of multipart/encrypted is " + ctl.MediaType + ", not " + EncryptedProtocol}
	}
	body, err := m.TransferDecode(ctl)
	if err != nil || !versionOne(body) {
		return nil, &FormatError{Reason: `the application/pgp-encrypted part does not say "Version: 1"`}
	}
	if data.MediaType != "application/octet-stream" {
		return nil, &FormatError{Reason: "the second part of multipart/encrypted is " + data.MediaType + ", not application/octet-stream"}
	}
	ct, err := m.TransferDecode(data)
	if err != nil {
		return nil, &FormatError{Reason: "the encrypted part: " + err.Error()}
	}
	return ct, nil
}

func versionOne(body []byte) bool {
	for _, line := range strings.Split(string(body), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "Version") {
			return strings.TrimSpace(v) == "1"
		}
	}
	return false
}

// micalgs names hash algorithms as RFC 3156 §5 and RFC 4880 §9.4 do.
var micalgs = map[crypto.Hash]string{
	crypto.SHA256:   "pgp-sha256",
	crypto.SHA384:   "pgp-sha384",
	crypto.SHA512:   "pgp-sha512",
	crypto.SHA224:   "pgp-sha224",
	crypto.SHA3_256: "pgp-sha3-256",
	crypto.SHA3_512: "pgp-sha3-512",
}

// WrapSigned signs entity (a canonical MIME entity: Content-* fields,
// blank line, body) and returns the multipart/signed entity that carries
// it unchanged and an armored detached signature over its exact bytes.
func WrapSigned(entity []byte, signer *openpgp.Entity, opts *Options) ([]byte, error) {
	sig, h, err := DetachSign(entity, signer, opts)
	if err != nil {
		return nil, err
	}
	micalg, ok := micalgs[h]
	if !ok {
		return nil, fmt.Errorf("pgp: signature hash %v has no micalg name", h)
	}
	sigPart := []byte("Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n" +
		"Content-Description: OpenPGP digital signature\r\n" +
		"Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n")
	sigPart = append(sigPart, crlf(sig)...)
	return message.ComposeMultipart(opts.rand(), "multipart/signed",
		[][2]string{{"micalg", micalg}, {"protocol", SignatureProtocol}},
		[][]byte{entity, bytes.TrimSuffix(sigPart, []byte("\r\n"))})
}

// WrapEncrypted encrypts entity (and signs it, inside the encryption,
// when signer is not nil: RFC 3156 §6.2) to the recipients and returns
// the multipart/encrypted entity.
func WrapEncrypted(entity []byte, to []Recipient, signer *openpgp.Entity, opts *Options) ([]byte, error) {
	var ct bytes.Buffer
	w, err := Encrypt(&ct, to, signer, &WriteParams{Armor: true, Options: opts})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(entity); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	ctl := []byte("Content-Type: application/pgp-encrypted\r\n" +
		"Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1")
	data := []byte("Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n" +
		"Content-Description: OpenPGP encrypted message\r\n" +
		"Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n")
	data = append(data, bytes.TrimSuffix(crlf(ct.Bytes()), []byte("\r\n"))...)
	return message.ComposeMultipart(opts.rand(), "multipart/encrypted",
		[][2]string{{"protocol", EncryptedProtocol}}, [][]byte{ctl, data})
}

// crlf turns the LF line ends of armor into CRLF.
func crlf(b []byte) []byte {
	return message.Canonicalize(b)
}

// ReadAll is Read for data in memory.
func ReadAll(data []byte, kr Keyring, opts *Options) (*Result, []byte, error) {
	var out bytes.Buffer
	res, err := Read(bytes.NewReader(data), &out, kr, opts)
	if err != nil {
		return nil, nil, err
	}
	return res, out.Bytes(), nil
}
