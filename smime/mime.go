package smime

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/smime/cms"
)

// The S/MIME media types (RFC 8551 §3.2). The x- forms are what older
// clients send and are accepted on input only.
const (
	SignatureType = "application/pkcs7-signature"
	MIMEType      = "application/pkcs7-mime"

	xSignatureType = "application/x-pkcs7-signature"
	xMIMEType      = "application/x-pkcs7-mime"
)

// The smime-type parameter values (RFC 8551 §3.2.2, RFC 5083 for
// authEnveloped-data).
const (
	TypeSigned        = "signed-data"
	TypeEnveloped     = "enveloped-data"
	TypeAuthEnveloped = "authEnveloped-data"
)

// FormatError says an S/MIME structure is broken.
type FormatError struct {
	Reason string
}

func (e *FormatError) Error() string { return "smime: " + e.Reason }

// maxSignature bounds a detached signature part (certificates included).
const maxSignature = 4 << 20

// IsSigned reports whether p is an S/MIME multipart/signed entity.
func IsSigned(p *message.Part) bool {
	if p.MediaType != "multipart/signed" {
		return false
	}
	proto := strings.ToLower(strings.TrimSpace(p.Params["protocol"]))
	return proto == SignatureType || proto == xSignatureType
}

// isMIME reports whether p is application/pkcs7-mime (or the x- form),
// or application/octet-stream named *.p7m, which some clients send
// (RFC 8551 §3.2.2 lets the name stand for the type).
func isMIME(p *message.Part) bool {
	switch p.MediaType {
	case MIMEType, xMIMEType:
		return true
	case "application/octet-stream":
		return strings.HasSuffix(strings.ToLower(p.Params["name"]), ".p7m") ||
			strings.HasSuffix(strings.ToLower(p.Filename()), ".p7m")
	}
	return false
}

// SMIMEType returns the smime-type of an application/pkcs7-mime entity in
// its canonical spelling (TypeSigned, TypeEnveloped, TypeAuthEnveloped),
// or "" when it is absent (guess with ContentType) or not one of those.
func SMIMEType(p *message.Part) string {
	switch strings.ToLower(strings.TrimSpace(p.Params["smime-type"])) {
	case "signed-data":
		return TypeSigned
	case "enveloped-data":
		return TypeEnveloped
	case "authenveloped-data":
		return TypeAuthEnveloped
	}
	return ""
}

// IsOpaque reports whether p is an S/MIME opaque signed entity:
// application/pkcs7-mime with smime-type=signed-data. When smime-type is
// missing, the name smime.p7s, or the content being SignedData, says so.
func IsOpaque(m *message.Message, p *message.Part) bool {
	if !isMIME(p) {
		return false
	}
	if t := SMIMEType(p); t != "" || p.Params["smime-type"] != "" {
		return t == TypeSigned
	}
	ct := guessType(m, p)
	return ct == TypeSigned
}

// IsEnveloped reports whether p is an S/MIME encrypted entity:
// application/pkcs7-mime with smime-type enveloped-data or
// authEnveloped-data, or without smime-type when the name is smime.p7m
// and the content is not SignedData.
func IsEnveloped(m *message.Message, p *message.Part) bool {
	if !isMIME(p) {
		return false
	}
	if t := SMIMEType(p); t != "" || p.Params["smime-type"] != "" {
		return t == TypeEnveloped || t == TypeAuthEnveloped
	}
	ct := guessType(m, p)
	return ct == TypeEnveloped || ct == TypeAuthEnveloped
}

// guessType finds the type of an application/pkcs7-mime entity without
// smime-type from its content's ContentInfo, falling back to the name:
// smime.p7m is taken as enveloped data (the common case, RFC 8551
// §3.2.1), smime.p7s as signed data.
func guessType(m *message.Message, p *message.Part) string {
	if m != nil {
		if der, err := m.TransferDecode(p); err == nil {
			if t := ContentType(der); t != "" {
				return t
			}
		}
	}
	name := strings.ToLower(p.Params["name"])
	if name == "" {
		name = strings.ToLower(p.Filename())
	}
	switch {
	case strings.HasSuffix(name, ".p7m"):
		return TypeEnveloped
	case strings.HasSuffix(name, ".p7s"):
		return TypeSigned
	}
	return ""
}

// ContentType reads the contentType of a CMS ContentInfo (BER or DER,
// only its first bytes) and names it as smime-type does, or "" when it is
// not one of those or cannot be read.
func ContentType(b []byte) string {
	// SEQUENCE, its length (any form), then the OBJECT IDENTIFIER.
	if len(b) < 2 || b[0] != 0x30 {
		return ""
	}
	i := 2
	switch l := b[1]; {
	case l == 0x80: // indefinite
	case l > 0x80:
		i += int(l & 0x7f)
	}
	if i+2 > len(b) || b[i] != 0x06 || b[i+1] > 0x7f || i+2+int(b[i+1]) > len(b) {
		return ""
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(b[i:i+2+int(b[i+1])], &oid); err != nil {
		return ""
	}
	switch {
	case oid.Equal(cms.OIDSignedData):
		return TypeSigned
	case oid.Equal(cms.OIDEnvelopedData):
		return TypeEnveloped
	case oid.Equal(cms.OIDAuthEnvelopedData):
		return TypeAuthEnveloped
	}
	return ""
}

// SignedParts checks the structure of an S/MIME multipart/signed entity
// (RFC 8551 §3.5.3) and returns the exact bytes the signature covers (the
// first body part, headers and body, canonical) and the decoded CMS
// signature. Anything but exactly two parts, the second of type
// application/pkcs7-signature, is an error.
func SignedParts(m *message.Message, p *message.Part) (signed, sig []byte, err error) {
	if !IsSigned(p) {
		return nil, nil, &FormatError{Reason: "not an S/MIME signed entity"}
	}
	if len(p.Problems) > 0 {
		return nil, nil, &FormatError{Reason: "the multipart/signed structure is broken: " + p.Problems[0]}
	}
	if len(p.Children) != 2 {
		return nil, nil, &FormatError{Reason: fmt.Sprintf("multipart/signed has %d parts, not 2", len(p.Children))}
	}
	sp := p.Children[1]
	if sp.MediaType != SignatureType && sp.MediaType != xSignatureType {
		return nil, nil, &FormatError{Reason: "the second part of multipart/signed is " + sp.MediaType + ", not " + SignatureType}
	}
	if len(m.Body(sp)) > maxSignature*2 {
		return nil, nil, &FormatError{Reason: "the signature part is too large"}
	}
	sig, err = m.TransferDecode(sp)
	if err != nil {
		return nil, nil, &FormatError{Reason: "the signature part: " + err.Error()}
	}
	if len(sig) > maxSignature {
		return nil, nil, &FormatError{Reason: "the signature part is larger than 4 MiB"}
	}
	if len(sig) == 0 {
		return nil, nil, &FormatError{Reason: "the signature part is empty"}
	}
	return m.Bytes(p.Children[0]), sig, nil
}

// MIMEData returns the CMS object an application/pkcs7-mime entity
// carries, decoded from its transfer encoding.
func MIMEData(m *message.Message, p *message.Part) ([]byte, error) {
	if !isMIME(p) {
		return nil, &FormatError{Reason: "not an application/pkcs7-mime entity"}
	}
	if len(p.Problems) > 0 {
		return nil, &FormatError{Reason: "the application/pkcs7-mime entity is broken: " + p.Problems[0]}
	}
	der, err := m.TransferDecode(p)
	if err != nil {
		return nil, &FormatError{Reason: "the application/pkcs7-mime body: " + err.Error()}
	}
	if len(der) == 0 {
		return nil, &FormatError{Reason: "the application/pkcs7-mime body is empty"}
	}
	return der, nil
}

// Options tune composing. A nil *Options means the defaults.
type Options struct {
	// Rand is the randomness for boundaries, keys and signatures; nil
	// means crypto/rand.
	Rand io.Reader
	// Now is the clock for the signing-time attribute; nil: time.Now.
	Now func() time.Time
	// Algorithm is the content encryption; the default is AES-256-GCM in
	// AuthEnvelopedData. The CBC ones (EnvelopedData) have no integrity
	// (S05): use them only for recipients that cannot read GCM.
	Algorithm cms.ContentAlgorithm
	// RSAPadding is the key transport for RSA recipients; the default is
	// RSAES-OAEP.
	RSAPadding cms.RSAPadding
	// Certificates are added to signatures (intermediate CAs).
	Certificates []*x509.Certificate
}

func (o *Options) rand() io.Reader {
	if o != nil && o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

func (o *Options) signOptions(detached bool) *cms.SignOptions {
	so := &cms.SignOptions{Detached: detached}
	if o != nil {
		so.Now, so.Rand, so.Certificates = o.Now, o.Rand, o.Certificates
	}
	return so
}

// micalgs names digest algorithms as RFC 8551 §3.5.3.2 does.
var micalgs = map[crypto.Hash]string{
	crypto.SHA256: "sha-256",
	crypto.SHA384: "sha-384",
	crypto.SHA512: "sha-512",
}

// Micalg returns the micalg parameter for the signers: their digest
// algorithms, comma-separated, each named once (RFC 8551 §3.5.3.2).
func Micalg(signers []cms.Signer) (string, error) {
	var names []string
	seen := map[string]bool{}
	for _, s := range signers {
		h := s.Hash
		if h == 0 {
			h = crypto.SHA256
		}
		if isEd25519(s) {
			h = crypto.SHA512 // RFC 8419 §3.1
		}
		n, ok := micalgs[h]
		if !ok {
			return "", fmt.Errorf("smime: digest %v has no micalg name", h)
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", errors.New("smime: no signer")
	}
	return strings.Join(names, ","), nil
}

func isEd25519(s cms.Signer) bool {
	return s.Certificate != nil && s.Certificate.PublicKeyAlgorithm == x509.Ed25519
}

// WrapSigned signs entity (a canonical MIME entity: Content-* fields,
// blank line, body) with a detached CMS signature over its exact bytes
// and returns the multipart/signed entity that carries it unchanged
// (RFC 8551 §3.5.3).
func WrapSigned(entity []byte, signers []cms.Signer, opts *Options) ([]byte, error) {
	micalg, err := Micalg(signers)
	if err != nil {
		return nil, err
	}
	sig, err := cms.SignDetached(bytes.NewReader(entity), signers, opts.signOptions(true))
	if err != nil {
		return nil, err
	}
	sigPart := []byte("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"smime.p7s\"\r\n" +
		"Content-Description: S/MIME Cryptographic Signature\r\n\r\n")
	sigPart = append(sigPart, base64Lines(sig)...)
	return message.ComposeMultipart(opts.rand(), "multipart/signed",
		[][2]string{{"protocol", SignatureType}, {"micalg", micalg}},
		[][]byte{entity, bytes.TrimSuffix(sigPart, []byte("\r\n"))})
}

// WrapOpaque signs entity with the content encapsulated and returns an
// application/pkcs7-mime; smime-type=signed-data entity (RFC 8551
// §3.5.2), which only S/MIME readers can show.
func WrapOpaque(entity []byte, signers []cms.Signer, opts *Options) ([]byte, error) {
	der, err := cms.Sign(entity, signers, opts.signOptions(false))
	if err != nil {
		return nil, err
	}
	return pkcs7MIME(TypeSigned, "smime.p7m", der), nil
}

// WrapEnveloped encrypts entity to the recipients' certificates and
// returns an application/pkcs7-mime entity: smime-type=authEnveloped-data
// for AES-GCM (the default), enveloped-data for AES-CBC.
func WrapEnveloped(entity []byte, recipients []*x509.Certificate, opts *Options) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("smime: no recipient")
	}
	eo := &cms.EncryptOptions{}
	if opts != nil {
		eo.Algorithm, eo.Rand, eo.RSAPadding = opts.Algorithm, opts.Rand, opts.RSAPadding
	}
	der, err := cms.Encrypt(entity, recipients, eo)
	if err != nil {
		return nil, err
	}
	typ := TypeAuthEnveloped
	if ContentType(der) == TypeEnveloped {
		typ = TypeEnveloped
	}
	return pkcs7MIME(typ, "smime.p7m", der), nil
}

// WrapSignedEnveloped signs entity (multipart/signed, so that a reader
// without the key still sees who signed once decrypted) and encrypts the
// result: sign-then-encrypt (RFC 8551 §3.7).
func WrapSignedEnveloped(entity []byte, signers []cms.Signer, recipients []*x509.Certificate, opts *Options) ([]byte, error) {
	signed, err := WrapSigned(entity, signers, opts)
	if err != nil {
		return nil, err
	}
	return WrapEnveloped(signed, recipients, opts)
}

func pkcs7MIME(smimeType, name string, der []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Content-Type: application/pkcs7-mime; smime-type=%s; name=%q\r\n", smimeType, name)
	b.WriteString("Content-Transfer-Encoding: base64\r\n")
	fmt.Fprintf(&b, "Content-Disposition: attachment; filename=%q\r\n", name)
	desc := "S/MIME Encrypted Message"
	if smimeType == TypeSigned {
		desc = "S/MIME Signed Message"
	}
	b.WriteString("Content-Description: " + desc + "\r\n\r\n")
	b.Write(bytes.TrimSuffix(base64Lines(der), []byte("\r\n")))
	return b.Bytes()
}

// base64Lines encodes data in lines of 76 characters, each ending in CRLF.
func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	b.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}
