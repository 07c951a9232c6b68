package cms

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	envOIDData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	envOIDEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	envOIDAuthEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
)

// EncryptOptions tune Encrypt. The zero value (or nil) means AES-256-GCM in
// AuthEnvelopedData, RSA-OAEP with SHA-256 for RSA recipients, ECDH with the
// X9.63 SHA-256 KDF and AES-256 key wrap for P-256 recipients, recipients
// named by issuer and serial number, and crypto/rand.
type EncryptOptions struct {
	// Algorithm is the content-encryption algorithm. The GCM variants
	// produce AuthEnvelopedData (RFC 5083), the CBC variants EnvelopedData
	// (RFC 5652 §6), which has no integrity protection (SECURITY.md S05).
	Algorithm ContentAlgorithm
	// RSAPadding selects RSA key transport for RSA recipients.
	RSAPadding RSAPadding
	// UseSubjectKeyID names recipients by subjectKeyIdentifier (and
	// rKeyId for key agreement) instead of issuerAndSerialNumber.
	UseSubjectKeyID bool
	// ContentType is the type of the encrypted content; nil means id-data.
	ContentType asn1.ObjectIdentifier
	// Rand is the source of randomness; nil means crypto/rand.Reader.
	Rand io.Reader
}

// DecryptOptions tune Decrypt. nil is fine.
type DecryptOptions struct {
	// Rand is the source of randomness (used for the RSA PKCS#1 v1.5
	// countermeasure); nil means crypto/rand.Reader.
	Rand io.Reader

	// Choose, when set and no certificate is given to DecryptTo, picks
	// the certificate and key once the recipients have been read, before
	// any content: names tells whether a RecipientInfo of the message
	// names a certificate. It lets a caller with several identities
	// unlock only the one the message is for, without reading the input
	// twice. An error from Choose is returned as is; returning a
	// certificate that names does not accept gives ErrNoRecipient.
	Choose func(names func(*x509.Certificate) bool) (*x509.Certificate, crypto.PrivateKey, error)

	// Sink, when set, is called by DecryptTo once the content is known
	// to be releasable (authenticated, or for CBC its padding checked),
	// just before the first byte, with what Decrypt would return as info;
	// the content goes to the writer it returns instead of w. It lets a
	// caller send a SignedData inside somewhere else than plain content.
	// It is called even when the content is empty.
	Sink func(info *DecryptInfo) (io.Writer, error)
}

// DecryptInfo describes a successfully decrypted message.
type DecryptInfo struct {
	// AuthEnveloped is true for AuthEnvelopedData, false for EnvelopedData.
	AuthEnveloped bool
	// Algorithm is the content-encryption algorithm.
	Algorithm ContentAlgorithm
	// Integrity reports whether the content was authenticated (AES-GCM).
	// When false (AES-CBC EnvelopedData) the content may have been
	// modified by anyone: never render active content from it (S05).
	Integrity bool
	// ContentType is the type of the decrypted content (id-data for MIME).
	ContentType asn1.ObjectIdentifier
	// Recipient tells which key-management technique delivered the key.
	Recipient RecipientKind
}

// Encrypt encrypts content for every certificate in recipients (RSA and EC
// keys may be mixed) and returns a DER ContentInfo holding AuthEnvelopedData
// (AES-GCM) or EnvelopedData (AES-CBC).
func Encrypt(content []byte, recipients []*x509.Certificate, opts *EncryptOptions) ([]byte, error) {
	if opts == nil {
		opts = &EncryptOptions{}
	}
	if len(recipients) == 0 {
		return nil, errors.New("cms: no recipients")
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	alg := opts.Algorithm
	if alg == ContentAlgorithmDefault {
		alg = AES256GCM
	}
	if alg.oid() == nil {
		return nil, fmt.Errorf("cms: unknown content algorithm %v", alg)
	}
	ctype := opts.ContentType
	if ctype == nil {
		ctype = envOIDData
	}
	params, err := envNewContentParams(rnd, alg)
	if err != nil {
		return nil, err
	}
	cek := make([]byte, alg.KeySize())
	if _, err := io.ReadFull(rnd, cek); err != nil {
		return nil, fmt.Errorf("cms: reading random key: %w", err)
	}
	defer clear(cek)

	// RecipientInfos first, to learn the versions.
	var ris cryptobyte.Builder
	allV0 := true
	for i, cert := range recipients {
		if cert == nil {
			return nil, fmt.Errorf("cms: recipient %d is nil", i)
		}
		v, err := envAddRecipientInfo(&ris, cert, cek, opts, rnd)
		if err != nil {
			return nil, fmt.Errorf("cms: recipient %d: %w", i, err)
		}
		if v != 0 {
			allV0 = false
		}
	}
	risDER, err := ris.Bytes()
	if err != nil {
		return nil, err
	}

	var ct, tag []byte
	if alg.AEAD() {
		ct, tag, err = envGCMSeal(cek, params.iv, content, nil)
	} else {
		ct, err = envCBCEncrypt(cek, params.iv, content)
	}
	if err != nil {
		return nil, err
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if alg.AEAD() {
			b.AddASN1ObjectIdentifier(envOIDAuthEnvelopedData)
		} else {
			b.AddASN1ObjectIdentifier(envOIDEnvelopedData)
		}
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				version := int64(0) // AuthEnvelopedData: always 0
				if !alg.AEAD() && !allV0 {
					version = 2 // RFC 5652 §6.1
				}
				b.AddASN1Int64(version)
				// RFC 5652 §6.1: RecipientInfos is a SET OF; DER wants the
				// elements sorted, but CMS implementations keep the order
				// of writing, as we do.
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddBytes(risDER)
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(ctype)
					envMarshalContentAlgorithm(b, params)
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddBytes(ct)
					})
				})
				if alg.AEAD() {
					b.AddASN1OctetString(tag)
				}
			})
		})
	})
	return b.Bytes()
}

// envEnvelope is a parsed EnvelopedData or AuthEnvelopedData.
type envEnvelope struct {
	auth       bool
	ris        []envRecipientInfo
	ctype      asn1.ObjectIdentifier
	params     *envContentParams
	ciphertext []byte
	authAttrs  []byte // DER element as received (tag [1]); nil if absent
	mac        []byte
}

// envParse parses a DER ContentInfo holding EnvelopedData or
// AuthEnvelopedData. It checks that the cipher fits the structure: CBC in
// AuthEnvelopedData and GCM in EnvelopedData are rejected (S06).
func envParse(der []byte) (*envEnvelope, error) {
	in := cryptobyte.String(der)
	var ci, content, body cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("cms: malformed ContentInfo")
	}
	if !ci.ReadASN1ObjectIdentifier(&oid) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!content.ReadASN1(&body, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, errors.New("cms: malformed ContentInfo")
	}
	e := &envEnvelope{}
	switch {
	case oid.Equal(envOIDEnvelopedData):
	case oid.Equal(envOIDAuthEnvelopedData):
		e.auth = true
	default:
		return nil, fmt.Errorf("cms: content type %v is not (Auth)EnvelopedData", oid)
	}
	var version int64
	if !body.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, errors.New("cms: malformed version")
	}
	if e.auth && version != 0 {
		return nil, errors.New("cms: AuthEnvelopedData version must be 0")
	}
	if !e.auth && version != 0 && version != 2 && version != 3 && version != 4 {
		return nil, errors.New("cms: bad EnvelopedData version")
	}
	// originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL: not needed.
	if body.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		!body.SkipASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: malformed originatorInfo")
	}
	var err error
	if e.ris, err = envParseRecipientInfos(&body); err != nil {
		return nil, err
	}
	var eci, algID cryptobyte.String
	if !body.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&e.ctype) ||
		!eci.ReadASN1Element(&algID, cbasn1.SEQUENCE) {
		return nil, errors.New("cms: malformed EncryptedContentInfo")
	}
	if e.params, err = envParseContentAlgorithm(algID); err != nil {
		return nil, err
	}
	if e.auth != e.params.alg.AEAD() {
		if e.auth {
			return nil, fmt.Errorf("cms: %v is not allowed in AuthEnvelopedData", e.params.alg)
		}
		return nil, fmt.Errorf("cms: %v is not allowed in EnvelopedData", e.params.alg)
	}
	if e.ciphertext, err = envReadEncryptedContent(&eci); err != nil {
		return nil, err
	}
	if !eci.Empty() {
		return nil, errors.New("cms: trailing data in EncryptedContentInfo")
	}
	if e.auth {
		var attrs cryptobyte.String
		if body.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
			if !body.ReadASN1Element(&attrs, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
				!envCheckAttributes(attrs) {
				return nil, errors.New("cms: malformed authAttrs")
			}
			e.authAttrs = attrs
		}
		var mac cryptobyte.String
		if !body.ReadASN1(&mac, cbasn1.OCTET_STRING) {
			return nil, errors.New("cms: malformed mac")
		}
		e.mac = mac
		if body.PeekASN1Tag(cbasn1.Tag(2).Constructed().ContextSpecific()) &&
			!body.SkipASN1(cbasn1.Tag(2).Constructed().ContextSpecific()) {
			return nil, errors.New("cms: malformed unauthAttrs")
		}
	} else if body.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) &&
		!body.SkipASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: malformed unprotectedAttrs")
	}
	if !body.Empty() {
		return nil, errors.New("cms: trailing data in enveloped content")
	}
	return e, nil
}

// envReadEncryptedContent reads encryptedContent [0] IMPLICIT OCTET STRING.
// DER makes it primitive; the constructed form (one level of OCTET STRING
// segments, as produced by streaming encoders) is accepted as well because
// a schema-less BER normaliser cannot know that [0] hides an OCTET STRING.
func envReadEncryptedContent(s *cryptobyte.String) ([]byte, error) {
	var v cryptobyte.String
	switch {
	case s.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		if !s.ReadASN1(&v, cbasn1.Tag(0).ContextSpecific()) {
			return nil, errors.New("cms: malformed encryptedContent")
		}
		return v, nil
	case s.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()):
		if !s.ReadASN1(&v, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, errors.New("cms: malformed encryptedContent")
		}
		out := make([]byte, 0, len(v))
		for !v.Empty() {
			var seg cryptobyte.String
			if !v.ReadASN1(&seg, cbasn1.OCTET_STRING) {
				return nil, errors.New("cms: malformed encryptedContent segment")
			}
			out = append(out, seg...)
		}
		return out, nil
	}
	return nil, errors.New("cms: encryptedContent absent (detached content is not supported)")
}

// envCheckAttributes checks that elem ([1] IMPLICIT SET OF Attribute) holds
// at least one well-formed Attribute ::= SEQUENCE { attrType OID, attrValues SET }.
func envCheckAttributes(elem cryptobyte.String) bool {
	var set cryptobyte.String
	if !elem.ReadASN1(&set, cbasn1.Tag(1).Constructed().ContextSpecific()) || set.Empty() {
		return false
	}
	for !set.Empty() {
		var attr, vals cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !set.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&vals, cbasn1.SET) || !attr.Empty() {
			return false
		}
	}
	return true
}

// envAuthAttrsAAD returns the AAD for AuthEnvelopedData (RFC 5083 §2.1): the
// DER authAttrs with the IMPLICIT [1] tag replaced by the SET OF tag.
func envAuthAttrsAAD(authAttrs []byte) []byte {
	if authAttrs == nil {
		return nil
	}
	aad := append([]byte(nil), authAttrs...)
	aad[0] = byte(cbasn1.SET)
	return aad
}

// Decrypt decrypts a DER ContentInfo holding EnvelopedData or
// AuthEnvelopedData addressed to cert, using its private key (an
// *rsa.PrivateKey, *ecdsa.PrivateKey, *ecdh.PrivateKey or an RSA
// crypto.Decrypter). BER input must first go through ToDER.
//
// No content is returned unless all of it has been decrypted and, for
// AuthEnvelopedData, authenticated. Check info.Integrity: EnvelopedData
// (AES-CBC) gives none (S05). All content-layer failures (bad tag, bad
// padding, wrong key) are reported as ErrContentDecryption.
func Decrypt(der []byte, cert *x509.Certificate, key crypto.PrivateKey, opts *DecryptOptions) ([]byte, *DecryptInfo, error) {
	if opts == nil {
		opts = &DecryptOptions{}
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	e, err := envParse(der)
	if err != nil {
		return nil, nil, err
	}
	if e.auth && len(e.mac) != e.params.icvLn {
		return nil, nil, ErrContentDecryption
	}
	cek, kind, err := envRecipientDecrypt(e.ris, cert, key, e.params.alg.KeySize(), rnd)
	if err != nil {
		return nil, nil, err
	}
	defer clear(cek)
	var pt []byte
	if e.auth {
		pt, err = envGCMOpen(cek, e.params.iv, e.ciphertext, e.mac, envAuthAttrsAAD(e.authAttrs))
	} else {
		pt, err = envCBCDecrypt(cek, e.params.iv, e.ciphertext)
	}
	if err != nil {
		return nil, nil, ErrContentDecryption
	}
	return pt, &DecryptInfo{
		AuthEnveloped: e.auth,
		Algorithm:     e.params.alg,
		Integrity:     e.auth,
		ContentType:   e.ctype,
		Recipient:     kind,
	}, nil
}
