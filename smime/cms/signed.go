package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384 and SHA-512
	"crypto/x509"
	"encoding/asn1"
	"hash"
	"io"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// AlgorithmIdentifier is an X.509 AlgorithmIdentifier (RFC 5280 §4.1.1.2).
type AlgorithmIdentifier struct {
	Algorithm asn1.ObjectIdentifier
	// Parameters is the complete DER encoding of the parameters, or nil
	// when they are absent.
	Parameters []byte
}

// IssuerAndSerialNumber identifies a certificate by issuer and serial
// number (RFC 5652 §10.2.4).
type IssuerAndSerialNumber struct {
	RawIssuer    []byte // DER of the issuer Name
	SerialNumber *big.Int
}

// SignerIdentifier is the sid of a SignerInfo (RFC 5652 §5.3): exactly one
// of IssuerAndSerial and SubjectKeyID is set.
type SignerIdentifier struct {
	IssuerAndSerial *IssuerAndSerialNumber
	SubjectKeyID    []byte
}

// Matches reports whether c is the certificate the identifier names.
func (id SignerIdentifier) Matches(c *x509.Certificate) bool {
	if c == nil {
		return false
	}
	if ias := id.IssuerAndSerial; ias != nil {
		return c.SerialNumber != nil && bytes.Equal(c.RawIssuer, ias.RawIssuer) && c.SerialNumber.Cmp(ias.SerialNumber) == 0
	}
	return len(id.SubjectKeyID) > 0 && bytes.Equal(c.SubjectKeyId, id.SubjectKeyID)
}

// Attribute is a CMS attribute (RFC 5652 §5.3) with the DER encoding of
// each of its values.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
}

// SignerInfo is one parsed signerInfo (RFC 5652 §5.3). Nothing in it is
// verified; see [SignedData.Verify].
type SignerInfo struct {
	Version          int
	SID              SignerIdentifier
	DigestAlgorithm  AlgorithmIdentifier
	SignedAttributes []Attribute
	// RawSignedAttributes is the encoding of signedAttrs with the SET OF
	// tag (0x31) in place of [0], the octets the signature covers (RFC
	// 5652 §5.4). Nil when the signer has no signed attributes.
	RawSignedAttributes []byte
	SignatureAlgorithm  AlgorithmIdentifier
	Signature           []byte
	UnsignedAttributes  []Attribute
}

// SignedData is a parsed ContentInfo holding SignedData (RFC 5652 §5).
type SignedData struct {
	Version          int
	DigestAlgorithms []AlgorithmIdentifier
	// ContentType is eContentType.
	ContentType asn1.ObjectIdentifier
	// Encapsulated reports whether eContent is present; Content then holds
	// its octets (possibly none). A detached signature has it false.
	Encapsulated bool
	Content      []byte
	// Certificates are the X.509 certificates carried in the message, in
	// order. They are untrusted. Other certificate choices are skipped and
	// so are certificates crypto/x509 cannot parse (counted in
	// SkippedCertificates).
	Certificates        []*x509.Certificate
	SkippedCertificates int
	SignerInfos         []SignerInfo
}

// ParseSignedData parses a BER or DER ContentInfo of type signed-data.
// A nil lim means the default [Limits]. It does not verify anything.
func ParseSignedData(data []byte, lim *Limits) (*SignedData, error) {
	der, err := ToDER(data, lim)
	if err != nil {
		return nil, err
	}
	return sdParse(der)
}

func sdMalformed(format string, args ...any) error {
	return newError(ErrMalformed, format, args...)
}

func sdParse(der []byte) (*SignedData, error) {
	in := cryptobyte.String(der)
	var ci, inner, sd cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, sdMalformed("ContentInfo is not a SEQUENCE")
	}
	if !ci.ReadASN1ObjectIdentifier(&ctype) {
		return nil, sdMalformed("ContentInfo contentType")
	}
	if !ctype.Equal(OIDSignedData) {
		return nil, newError(ErrUnsupported, "content type %v is not signed-data", ctype)
	}
	if !ci.ReadASN1(&inner, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() {
		return nil, sdMalformed("ContentInfo content")
	}
	if !inner.ReadASN1(&sd, cbasn1.SEQUENCE) || !inner.Empty() {
		return nil, sdMalformed("SignedData is not a SEQUENCE")
	}
	out := &SignedData{}
	var digestAlgs, encap cryptobyte.String
	if !sd.ReadASN1Integer(&out.Version) || out.Version < 1 || out.Version > 5 {
		return nil, sdMalformed("SignedData version")
	}
	if !sd.ReadASN1(&digestAlgs, cbasn1.SET) {
		return nil, sdMalformed("SignedData digestAlgorithms")
	}
	for !digestAlgs.Empty() {
		a, err := sdReadAlgorithm(&digestAlgs)
		if err != nil {
			return nil, err
		}
		out.DigestAlgorithms = append(out.DigestAlgorithms, a)
	}
	if !sd.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&out.ContentType) {
		return nil, sdMalformed("SignedData encapContentInfo")
	}
	if !encap.Empty() {
		var explicit, octets cryptobyte.String
		if !encap.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !encap.Empty() ||
			!explicit.ReadASN1(&octets, cbasn1.OCTET_STRING) || !explicit.Empty() {
			return nil, sdMalformed("SignedData eContent")
		}
		out.Encapsulated = true
		out.Content = []byte(octets)
	}
	var certs cryptobyte.String
	var present bool
	if !sd.ReadOptionalASN1(&certs, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, sdMalformed("SignedData certificates")
	}
	for !certs.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&elem, &tag) {
			return nil, sdMalformed("SignedData certificate")
		}
		if tag != cbasn1.SEQUENCE {
			continue // attribute or other certificate formats: not used
		}
		c, err := x509.ParseCertificate(elem)
		if err != nil {
			out.SkippedCertificates++
			continue
		}
		out.Certificates = append(out.Certificates, c)
	}
	if !sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, sdMalformed("SignedData crls")
	}
	var infos cryptobyte.String
	if !sd.ReadASN1(&infos, cbasn1.SET) || !sd.Empty() {
		return nil, sdMalformed("SignedData signerInfos")
	}
	for !infos.Empty() {
		si, err := sdParseSignerInfo(&infos)
		if err != nil {
			return nil, err
		}
		out.SignerInfos = append(out.SignerInfos, si)
	}
	return out, nil
}

func sdReadAlgorithm(s *cryptobyte.String) (AlgorithmIdentifier, error) {
	var seq cryptobyte.String
	var a AlgorithmIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Algorithm) {
		return a, sdMalformed("AlgorithmIdentifier")
	}
	if !seq.Empty() {
		var params cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1Element(&params, &tag) || !seq.Empty() {
			return a, sdMalformed("AlgorithmIdentifier parameters")
		}
		a.Parameters = params
	}
	return a, nil
}

func sdParseSignerInfo(s *cryptobyte.String) (SignerInfo, error) {
	var si SignerInfo
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&si.Version) {
		return si, sdMalformed("SignerInfo")
	}
	switch {
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias cryptobyte.String
		var issuer cryptobyte.String
		serial := new(big.Int)
		if !seq.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(serial) || !ias.Empty() {
			return si, sdMalformed("SignerInfo issuerAndSerialNumber")
		}
		si.SID.IssuerAndSerial = &IssuerAndSerialNumber{RawIssuer: issuer, SerialNumber: serial}
		if si.Version != 1 {
			return si, sdMalformed("SignerInfo version %d with issuerAndSerialNumber", si.Version)
		}
	case seq.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var ski cryptobyte.String
		if !seq.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) || len(ski) == 0 {
			return si, sdMalformed("SignerInfo subjectKeyIdentifier")
		}
		si.SID.SubjectKeyID = ski
		if si.Version != 3 {
			return si, sdMalformed("SignerInfo version %d with subjectKeyIdentifier", si.Version)
		}
	default:
		return si, sdMalformed("SignerInfo sid")
	}
	var err error
	if si.DigestAlgorithm, err = sdReadAlgorithm(&seq); err != nil {
		return si, err
	}
	signedTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if seq.PeekASN1Tag(signedTag) {
		var elem, body cryptobyte.String
		if !seq.ReadASN1Element(&elem, signedTag) {
			return si, sdMalformed("SignerInfo signedAttrs")
		}
		raw := bytes.Clone(elem)
		raw[0] = 0x31 // RFC 5652 §5.4: the signature covers the EXPLICIT SET OF tag
		si.RawSignedAttributes = raw
		body = cryptobyte.String(raw)
		if !body.ReadASN1(&body, cbasn1.SET) {
			return si, sdMalformed("SignerInfo signedAttrs")
		}
		if si.SignedAttributes, err = sdParseAttributes(body); err != nil {
			return si, err
		}
		if len(si.SignedAttributes) == 0 {
			return si, sdMalformed("empty signedAttrs")
		}
	}
	if si.SignatureAlgorithm, err = sdReadAlgorithm(&seq); err != nil {
		return si, err
	}
	var sig cryptobyte.String
	if !seq.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return si, sdMalformed("SignerInfo signature")
	}
	si.Signature = sig
	unsignedTag := cbasn1.Tag(1).Constructed().ContextSpecific()
	if seq.PeekASN1Tag(unsignedTag) {
		var body cryptobyte.String
		if !seq.ReadASN1(&body, unsignedTag) {
			return si, sdMalformed("SignerInfo unsignedAttrs")
		}
		if si.UnsignedAttributes, err = sdParseAttributes(body); err != nil {
			return si, err
		}
	}
	if !seq.Empty() {
		return si, sdMalformed("SignerInfo has trailing fields")
	}
	return si, nil
}

func sdParseAttributes(body cryptobyte.String) ([]Attribute, error) {
	var attrs []Attribute
	for !body.Empty() {
		var seq, set cryptobyte.String
		var a Attribute
		if !body.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.Type) ||
			!seq.ReadASN1(&set, cbasn1.SET) || !seq.Empty() {
			return nil, sdMalformed("Attribute")
		}
		for !set.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadAnyASN1Element(&v, &tag) {
				return nil, sdMalformed("Attribute value")
			}
			a.Values = append(a.Values, v)
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}

// ---- Algorithm policy (S14). Everything this package accepts or emits
// for signatures is decided in this section.

// minRSABits is the smallest RSA modulus accepted or used.
const minRSABits = 2048

// SignatureScheme names the signature algorithm family of a signer.
type SignatureScheme int

// Signature schemes.
const (
	SchemeUnknown     SignatureScheme = iota
	SchemeRSAPKCS1v15                 // RSASSA-PKCS1-v1_5 (RFC 3370 §3.2)
	SchemeRSAPSS                      // RSASSA-PSS (RFC 4056)
	SchemeECDSA                       // ECDSA (RFC 5753 §2.1)
	SchemeEd25519                     // pure Ed25519 (RFC 8419)
)

func (s SignatureScheme) String() string {
	switch s {
	case SchemeRSAPKCS1v15:
		return "RSA-PKCS1v15"
	case SchemeRSAPSS:
		return "RSA-PSS"
	case SchemeECDSA:
		return "ECDSA"
	case SchemeEd25519:
		return "Ed25519"
	}
	return "unknown"
}

// sdDigestHash maps a digestAlgorithm to a hash we accept.
func sdDigestHash(a AlgorithmIdentifier) (crypto.Hash, error) {
	if a.Parameters != nil && !bytes.Equal(a.Parameters, []byte{5, 0}) {
		return 0, sdMalformed("digest algorithm %v has parameters", a.Algorithm)
	}
	switch {
	case a.Algorithm.Equal(OIDSHA256):
		return crypto.SHA256, nil
	case a.Algorithm.Equal(OIDSHA384):
		return crypto.SHA384, nil
	case a.Algorithm.Equal(OIDSHA512):
		return crypto.SHA512, nil
	case a.Algorithm.Equal(OIDSHA1):
		return 0, newError(ErrWeakAlgorithm, "SHA-1 digests are not accepted")
	case a.Algorithm.Equal(OIDMD5):
		return 0, newError(ErrWeakAlgorithm, "MD5 digests are not accepted")
	}
	return 0, newError(ErrUnsupported, "digest algorithm %v", a.Algorithm)
}

func sdHashAllowed(h crypto.Hash) bool {
	return h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
}

func sdDigestOID(h crypto.Hash) asn1.ObjectIdentifier {
	switch h {
	case crypto.SHA256:
		return OIDSHA256
	case crypto.SHA384:
		return OIDSHA384
	case crypto.SHA512:
		return OIDSHA512
	case crypto.SHA1:
		return OIDSHA1 // only reachable from tests that build weak messages
	}
	return nil
}

func sdECDSAOID(h crypto.Hash) asn1.ObjectIdentifier {
	switch h {
	case crypto.SHA256:
		return OIDECDSAWithSHA256
	case crypto.SHA384:
		return OIDECDSAWithSHA384
	case crypto.SHA512:
		return OIDECDSAWithSHA512
	case crypto.SHA1:
		return OIDECDSAWithSHA1
	}
	return nil
}

// sdScheme checks signatureAlgorithm against the digest hash h and returns
// the scheme and, for RSA-PSS, the salt length.
func sdScheme(a AlgorithmIdentifier, h crypto.Hash) (SignatureScheme, int, error) {
	noParams := a.Parameters == nil || bytes.Equal(a.Parameters, []byte{5, 0})
	hashMust := func(want crypto.Hash, s SignatureScheme) (SignatureScheme, int, error) {
		if !noParams {
			return 0, 0, sdMalformed("signature algorithm %v has parameters", a.Algorithm)
		}
		if want != h {
			return 0, 0, newError(ErrUnsupported, "signature algorithm %v does not match digest %v", a.Algorithm, h)
		}
		return s, 0, nil
	}
	alg := a.Algorithm
	switch {
	case alg.Equal(OIDRSAEncryption):
		return hashMust(h, SchemeRSAPKCS1v15)
	case alg.Equal(OIDSHA256WithRSA):
		return hashMust(crypto.SHA256, SchemeRSAPKCS1v15)
	case alg.Equal(OIDSHA384WithRSA):
		return hashMust(crypto.SHA384, SchemeRSAPKCS1v15)
	case alg.Equal(OIDSHA512WithRSA):
		return hashMust(crypto.SHA512, SchemeRSAPKCS1v15)
	case alg.Equal(OIDECDSAWithSHA256):
		return hashMust(crypto.SHA256, SchemeECDSA)
	case alg.Equal(OIDECDSAWithSHA384):
		return hashMust(crypto.SHA384, SchemeECDSA)
	case alg.Equal(OIDECDSAWithSHA512):
		return hashMust(crypto.SHA512, SchemeECDSA)
	case alg.Equal(OIDECPublicKey):
		// Some producers name the key type here; the digest decides.
		return SchemeECDSA, 0, nil
	case alg.Equal(OIDEd25519):
		if a.Parameters != nil {
			return 0, 0, sdMalformed("Ed25519 with parameters")
		}
		// RFC 8419 §3.1: with signed attributes the digest is SHA-512.
		if h != crypto.SHA512 {
			return 0, 0, newError(ErrUnsupported, "Ed25519 requires SHA-512 as digest algorithm")
		}
		return SchemeEd25519, 0, nil
	case alg.Equal(OIDRSASSAPSS):
		salt, err := sdParsePSSParams(a.Parameters, h)
		return SchemeRSAPSS, salt, err
	case alg.Equal(OIDSHA1WithRSA), alg.Equal(OIDMD5WithRSA), alg.Equal(OIDECDSAWithSHA1):
		return 0, 0, newError(ErrWeakAlgorithm, "signature algorithm %v uses SHA-1 or MD5", alg)
	}
	return 0, 0, newError(ErrUnsupported, "signature algorithm %v", alg)
}

// sdParsePSSParams reads RSASSA-PSS-params (RFC 4055 §3.1) and requires the
// hash and the MGF1 hash to equal the digest algorithm and the trailer
// field to be 1. The defaults (SHA-1) are therefore rejected.
func sdParsePSSParams(params []byte, h crypto.Hash) (int, error) {
	if params == nil {
		return 0, newError(ErrWeakAlgorithm, "RSASSA-PSS without parameters defaults to SHA-1")
	}
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return 0, sdMalformed("RSASSA-PSS parameters")
	}
	var hashField, mgfField cryptobyte.String
	var hasHash, hasMGF bool
	if !seq.ReadOptionalASN1(&hashField, &hasHash, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&mgfField, &hasMGF, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return 0, sdMalformed("RSASSA-PSS parameters")
	}
	var salt, trailer int64
	if !seq.ReadOptionalASN1Integer(&salt, cbasn1.Tag(2).Constructed().ContextSpecific(), int64(20)) ||
		!seq.ReadOptionalASN1Integer(&trailer, cbasn1.Tag(3).Constructed().ContextSpecific(), int64(1)) ||
		!seq.Empty() {
		return 0, sdMalformed("RSASSA-PSS parameters")
	}
	if !hasHash || !hasMGF {
		return 0, newError(ErrWeakAlgorithm, "RSASSA-PSS with the default SHA-1 hash or mask generation")
	}
	ph, err := sdReadAlgorithm(&hashField)
	if err != nil || !hashField.Empty() {
		return 0, sdMalformed("RSASSA-PSS hashAlgorithm")
	}
	hh, err := sdDigestHash(ph)
	if err != nil {
		return 0, err
	}
	mgf, err := sdReadAlgorithm(&mgfField)
	if err != nil || !mgfField.Empty() {
		return 0, sdMalformed("RSASSA-PSS maskGenAlgorithm")
	}
	if !mgf.Algorithm.Equal(OIDMGF1) {
		return 0, newError(ErrUnsupported, "RSASSA-PSS mask generation %v", mgf.Algorithm)
	}
	mp := cryptobyte.String(mgf.Parameters)
	mh, err := sdReadAlgorithm(&mp)
	if err != nil || !mp.Empty() {
		return 0, sdMalformed("RSASSA-PSS MGF1 hash")
	}
	mhh, err := sdDigestHash(mh)
	if err != nil {
		return 0, err
	}
	if hh != h || mhh != h {
		return 0, newError(ErrUnsupported, "RSASSA-PSS hash %v and MGF1 hash %v must both equal the digest %v", hh, mhh, h)
	}
	if trailer != 1 {
		return 0, sdMalformed("RSASSA-PSS trailerField %d", trailer)
	}
	// crypto/rsa treats a salt length of 0 as "any"; refuse it so the
	// length we check is the one the parameters state.
	if salt < 1 || salt > 1<<16 {
		return 0, newError(ErrUnsupported, "RSASSA-PSS salt length %d", salt)
	}
	return int(salt), nil
}

// sdCheckKey applies the key policy for scheme to the signer's key.
func sdCheckKey(pub crypto.PublicKey, scheme SignatureScheme) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if scheme != SchemeRSAPKCS1v15 && scheme != SchemeRSAPSS {
			return newError(ErrBadSignature, "RSA key with %v signature", scheme)
		}
		if k.N.BitLen() < minRSABits {
			return newError(ErrWeakKey, "RSA key of %d bits (minimum %d)", k.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey:
		if scheme != SchemeECDSA {
			return newError(ErrBadSignature, "ECDSA key with %v signature", scheme)
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return newError(ErrUnsupported, "elliptic curve %s", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if scheme != SchemeEd25519 {
			return newError(ErrBadSignature, "Ed25519 key with %v signature", scheme)
		}
	default:
		return newError(ErrUnsupported, "public key type %T", pub)
	}
	return nil
}

// ---- Verification.

// VerifyOptions are the options of [SignedData.Verify]. A nil
// *VerifyOptions is valid for an encapsulated signature.
type VerifyOptions struct {
	// Detached is the signed content of a detached signature. It must be
	// nil when the SignedData encapsulates its content.
	Detached io.Reader
	// Certificates are candidate signer certificates besides those in the
	// message, typically from the keystore. Nothing is fetched.
	Certificates []*x509.Certificate
}

// SignerResult is the verdict on one signerInfo. Valid means only that the
// signature and signed attributes check out with Certificate's key; it
// says nothing about trust in Certificate (path, EKU, email: S13), which
// is the caller's job.
type SignerResult struct {
	Index int // position in SignedData.SignerInfos
	SID   SignerIdentifier
	Valid bool
	Err   error // why not Valid; nil when Valid
	// Certificate is the certificate whose key produced the signature
	// when Valid; otherwise the first certificate matching SID, if any.
	Certificate *x509.Certificate
	Hash        crypto.Hash
	Scheme      SignatureScheme
	// SigningTime is the signing-time attribute as claimed by the signer,
	// zero if absent. It is not trustworthy.
	SigningTime time.Time
	// Capabilities are the smimeCapabilities the signer advertised (RFC
	// 8551 §2.5.2), nil if absent or unreadable. Use them only if Valid.
	Capabilities []AlgorithmIdentifier
}

// VerifyResult holds one SignerResult per signerInfo, in message order.
// There is deliberately no aggregate "valid": each signer stands alone
// (S11).
type VerifyResult struct {
	Signers []SignerResult
	// Unsigned is true when the SignedData has no signerInfos (S12);
	// Verify then also returns an error of kind ErrUnsigned.
	Unsigned bool
}

// Verify checks every signerInfo of sd on its own. The returned error is
// about the message as a whole: the content is missing or given twice
// (ErrContent), reading the detached content failed, or there is no
// signer at all (ErrUnsigned, with a result whose Unsigned is true).
// Per-signer failures are in VerifyResult.Signers.
func (sd *SignedData) Verify(opts *VerifyOptions) (*VerifyResult, error) {
	if opts == nil {
		opts = &VerifyOptions{}
	}
	if len(sd.SignerInfos) == 0 {
		return &VerifyResult{Unsigned: true}, newError(ErrUnsigned, "SignedData has no signerInfos")
	}
	if sd.Encapsulated && opts.Detached != nil {
		return nil, newError(ErrContent, "signature encapsulates its content and detached content was given too")
	}
	if !sd.Encapsulated && opts.Detached == nil {
		return nil, newError(ErrContent, "detached signature without content")
	}
	hashers := map[crypto.Hash]hash.Hash{}
	for _, si := range sd.SignerInfos {
		if h, err := sdDigestHash(si.DigestAlgorithm); err == nil {
			if _, ok := hashers[h]; !ok {
				hashers[h] = h.New()
			}
		}
	}
	ws := make([]io.Writer, 0, len(hashers))
	for _, h := range hashers {
		ws = append(ws, h)
	}
	w := io.MultiWriter(ws...)
	if sd.Encapsulated {
		w.Write(sd.Content)
	} else if _, err := io.Copy(w, opts.Detached); err != nil {
		return nil, &Error{Kind: ErrContent, Offset: -1, Msg: "reading detached content", Err: err}
	}
	digests := map[crypto.Hash][]byte{}
	for h, hh := range hashers {
		digests[h] = hh.Sum(nil)
	}
	res := &VerifyResult{}
	for i := range sd.SignerInfos {
		res.Signers = append(res.Signers, sd.verifySigner(i, digests, opts.Certificates))
	}
	return res, nil
}

func (sd *SignedData) verifySigner(i int, digests map[crypto.Hash][]byte, extra []*x509.Certificate) SignerResult {
	si := &sd.SignerInfos[i]
	r := SignerResult{Index: i, SID: si.SID}
	var candidates []*x509.Certificate
	for _, c := range slices.Concat(sd.Certificates, extra) {
		if si.SID.Matches(c) {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) > 0 {
		r.Certificate = candidates[0]
	}
	fail := func(err error) SignerResult {
		r.Err = err
		return r
	}
	h, err := sdDigestHash(si.DigestAlgorithm)
	if err != nil {
		return fail(err)
	}
	r.Hash = h
	scheme, salt, err := sdScheme(si.SignatureAlgorithm, h)
	if err != nil {
		return fail(err)
	}
	r.Scheme = scheme
	digest := digests[h]
	var message []byte // what the signature covers: a digest, or for Ed25519 the octets
	if si.RawSignedAttributes != nil {
		if err := sdCheckSignedAttributes(si, sd.ContentType, digest, &r); err != nil {
			return fail(err)
		}
		if scheme == SchemeEd25519 {
			message = si.RawSignedAttributes
		} else {
			hh := h.New()
			hh.Write(si.RawSignedAttributes)
			message = hh.Sum(nil)
		}
	} else {
		if scheme == SchemeEd25519 {
			return fail(newError(ErrAttribute, "Ed25519 signer without signed attributes"))
		}
		// RFC 5652 §5.3: signedAttrs MUST be present unless the content is id-data.
		if !sd.ContentType.Equal(OIDData) {
			return fail(newError(ErrAttribute, "content type %v without signed attributes", sd.ContentType))
		}
		message = digest
	}
	if len(candidates) == 0 {
		return fail(newError(ErrSignerNotFound, "no certificate matches the signer identifier"))
	}
	var firstErr error
	for _, c := range candidates {
		err := sdVerifyWithKey(c.PublicKey, scheme, h, salt, message, si.Signature)
		if err == nil {
			r.Certificate, r.Valid, r.Err = c, true, nil
			return r
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return fail(firstErr)
}

func sdVerifyWithKey(pub crypto.PublicKey, scheme SignatureScheme, h crypto.Hash, salt int, message, sig []byte) error {
	if err := sdCheckKey(pub, scheme); err != nil {
		return err
	}
	var err error
	switch scheme {
	case SchemeRSAPKCS1v15:
		err = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), h, message, sig)
	case SchemeRSAPSS:
		err = rsa.VerifyPSS(pub.(*rsa.PublicKey), h, message, sig, &rsa.PSSOptions{SaltLength: salt, Hash: h})
	case SchemeECDSA:
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), message, sig) {
			err = newError(ErrBadSignature, "ECDSA signature does not verify")
		}
	case SchemeEd25519:
		if !ed25519.Verify(pub.(ed25519.PublicKey), message, sig) {
			err = newError(ErrBadSignature, "Ed25519 signature does not verify")
		}
	default:
		err = newError(ErrUnsupported, "signature scheme")
	}
	if err != nil {
		if _, ok := err.(*Error); !ok {
			err = &Error{Kind: ErrBadSignature, Offset: -1, Msg: scheme.String() + " signature does not verify", Err: err}
		}
	}
	return err
}

// sdCheckSignedAttributes enforces RFC 5652 §5.3 and §11: content-type and
// message-digest present once with one value, content-type equal to
// eContentType, message-digest equal to the content's digest; no attribute
// type twice. It fills in SigningTime and Capabilities.
func sdCheckSignedAttributes(si *SignerInfo, eContentType asn1.ObjectIdentifier, digest []byte, r *SignerResult) error {
	var ctype, md []byte
	for i, a := range si.SignedAttributes {
		for _, b := range si.SignedAttributes[:i] {
			if a.Type.Equal(b.Type) {
				return newError(ErrAttribute, "attribute %v appears twice", a.Type)
			}
		}
		single := func() ([]byte, error) {
			if len(a.Values) != 1 {
				return nil, newError(ErrAttribute, "attribute %v must have exactly one value", a.Type)
			}
			return a.Values[0], nil
		}
		var err error
		switch {
		case a.Type.Equal(OIDAttrContentType):
			ctype, err = single()
		case a.Type.Equal(OIDAttrMessageDigest):
			md, err = single()
		case a.Type.Equal(OIDAttrSigningTime):
			var v []byte
			if v, err = single(); err == nil {
				if r.SigningTime, err = sdParseTime(v); err != nil {
					return err
				}
			}
		case a.Type.Equal(OIDAttrSMIMECapabilities):
			if len(a.Values) == 1 {
				r.Capabilities = sdParseCapabilities(a.Values[0])
			}
		}
		if err != nil {
			return err
		}
	}
	if ctype == nil {
		return newError(ErrAttribute, "content-type attribute missing")
	}
	if md == nil {
		return newError(ErrAttribute, "message-digest attribute missing")
	}
	var oid asn1.ObjectIdentifier
	s := cryptobyte.String(ctype)
	if !s.ReadASN1ObjectIdentifier(&oid) || !s.Empty() {
		return newError(ErrAttribute, "malformed content-type attribute")
	}
	if !oid.Equal(eContentType) {
		return newError(ErrAttribute, "content-type attribute %v differs from eContentType %v", oid, eContentType)
	}
	var got []byte
	s = cryptobyte.String(md)
	if !s.ReadASN1Bytes(&got, cbasn1.OCTET_STRING) || !s.Empty() {
		return newError(ErrAttribute, "malformed message-digest attribute")
	}
	if !bytes.Equal(got, digest) {
		return newError(ErrDigestMismatch, "content does not match the signed message digest")
	}
	return nil
}

func sdParseTime(v []byte) (time.Time, error) {
	var t time.Time
	s := cryptobyte.String(v)
	ok := false
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		ok = s.ReadASN1UTCTime(&t)
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		ok = s.ReadASN1GeneralizedTime(&t)
	}
	if !ok || !s.Empty() {
		return time.Time{}, newError(ErrAttribute, "malformed signing-time attribute")
	}
	return t, nil
}

func sdParseCapabilities(v []byte) []AlgorithmIdentifier {
	s := cryptobyte.String(v)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil
	}
	var caps []AlgorithmIdentifier
	for !seq.Empty() {
		a, err := sdReadAlgorithm(&seq)
		if err != nil {
			return nil
		}
		caps = append(caps, a)
	}
	return caps
}

// ---- Signing.

// Signer is one signer for [Sign].
type Signer struct {
	Certificate *x509.Certificate
	Key         crypto.Signer // must match Certificate's public key
	// Hash is the digest algorithm: SHA-256 (the default), SHA-384 or
	// SHA-512. Ed25519 always uses SHA-512 (RFC 8419 §3.1).
	Hash crypto.Hash
	// RSAPSS selects RSASSA-PSS (salt length = hash length) instead of
	// PKCS#1 v1.5 for an RSA key.
	RSAPSS bool
	// SubjectKeyID identifies the signer by the certificate's
	// subjectKeyIdentifier instead of issuer and serial number.
	SubjectKeyID bool
}

// SignOptions are the options of [Sign] and [SignDetached]. A nil
// *SignOptions means the defaults.
type SignOptions struct {
	// Detached leaves the content out of the SignedData ([Sign] only).
	Detached bool
	// ContentType is eContentType; nil means id-data.
	ContentType asn1.ObjectIdentifier
	// Certificates are included besides the signers' own certificates
	// (intermediate CAs, typically).
	Certificates []*x509.Certificate
	// NoCertificates leaves all certificates out, the signers' too.
	NoCertificates bool
	// Now is the clock for the signing-time attribute; nil means time.Now.
	Now func() time.Time
	// NoSigningTime omits the signing-time attribute.
	NoSigningTime bool
	// Capabilities replaces the advertised smimeCapabilities; nil means
	// AES-256-GCM, AES-128-GCM, AES-256-CBC, AES-128-CBC, RSAES-OAEP. NoCapabilities
	// omits the attribute.
	Capabilities   []AlgorithmIdentifier
	NoCapabilities bool
	// Rand is the randomness for the signatures; nil means crypto/rand.
	Rand io.Reader
}

// DefaultCapabilities returns the smimeCapabilities [Sign] advertises by
// default, most preferred first (RFC 8551 §2.7.1).
func DefaultCapabilities() []AlgorithmIdentifier {
	return []AlgorithmIdentifier{
		{Algorithm: OIDAES256GCM},
		{Algorithm: OIDAES128GCM},
		{Algorithm: OIDAES256CBC},
		{Algorithm: OIDAES128CBC},
		{Algorithm: OIDRSAESOAEP},
	}
}

// Sign returns a DER ContentInfo holding SignedData over content, signed
// by every signer, with signed attributes content-type, message-digest,
// signing-time and smimeCapabilities. The content is encapsulated unless
// opts.Detached.
func Sign(content []byte, signers []Signer, opts *SignOptions) ([]byte, error) {
	if opts == nil {
		opts = &SignOptions{}
	}
	var encap []byte
	if !opts.Detached {
		encap = content
		if encap == nil {
			encap = []byte{}
		}
	}
	return sdSign(bytes.NewReader(content), encap, signers, opts, false)
}

// SignDetached returns a DER ContentInfo holding a detached SignedData
// over the content read from r. The content is hashed as it streams and
// not kept.
func SignDetached(r io.Reader, signers []Signer, opts *SignOptions) ([]byte, error) {
	if opts == nil {
		opts = &SignOptions{}
	}
	return sdSign(r, nil, signers, opts, false)
}

type sdPreparedSigner struct {
	Signer
	scheme SignatureScheme
}

// sdSign builds the SignedData; encap is nil for a detached signature.
// allowWeak lets tests build SHA-1 and short-RSA messages (S14) and is
// never set by the exported API.
func sdSign(content io.Reader, encap []byte, signers []Signer, opts *SignOptions, allowWeak bool) ([]byte, error) {
	if len(signers) == 0 {
		return nil, newError(ErrUnsigned, "no signers given")
	}
	ctype := opts.ContentType
	if ctype == nil {
		ctype = OIDData
	}
	caps := opts.Capabilities
	if caps == nil {
		caps = DefaultCapabilities()
	}
	// Builders panic-free: every OID we encode is checked first.
	if !sdValidOID(ctype) {
		return nil, newError(ErrUnsupported, "invalid content type %v", ctype)
	}
	for _, c := range caps {
		if !sdValidOID(c.Algorithm) {
			return nil, newError(ErrUnsupported, "invalid capability %v", c.Algorithm)
		}
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	prepared := make([]sdPreparedSigner, len(signers))
	hashers := map[crypto.Hash]hash.Hash{}
	for i, s := range signers {
		p, err := sdPrepare(s, allowWeak)
		if err != nil {
			return nil, err
		}
		prepared[i] = p
		if _, ok := hashers[p.Hash]; !ok {
			hashers[p.Hash] = p.Hash.New()
		}
	}
	ws := make([]io.Writer, 0, len(hashers))
	for _, h := range hashers {
		ws = append(ws, h)
	}
	if _, err := io.Copy(io.MultiWriter(ws...), content); err != nil {
		return nil, &Error{Kind: ErrContent, Offset: -1, Msg: "reading content", Err: err}
	}
	signingTime := now()
	var digestAlgs, infos, certs [][]byte
	version := int64(1)
	if !ctype.Equal(OIDData) {
		version = 3
	}
	for _, p := range prepared {
		digest := hashers[p.Hash].Sum(nil)
		attrs, err := sdSignedAttributes(ctype, digest, signingTime, !opts.NoSigningTime, caps, !opts.NoCapabilities)
		if err != nil {
			return nil, err
		}
		sig, err := sdSignAttributes(p, attrs, rnd)
		if err != nil {
			return nil, err
		}
		info, err := sdMarshalSignerInfo(p, attrs, sig)
		if err != nil {
			return nil, err
		}
		if p.SubjectKeyID {
			version = 3
		}
		infos = append(infos, info)
		digestAlgs = append(digestAlgs, sdMarshalAlgorithm(AlgorithmIdentifier{Algorithm: sdDigestOID(p.Hash)}))
		if !opts.NoCertificates {
			certs = append(certs, p.Certificate.Raw)
		}
	}
	if !opts.NoCertificates {
		for _, c := range opts.Certificates {
			certs = append(certs, c.Raw)
		}
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(version)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(sdSetOf(digestAlgs)) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(ctype)
					if encap != nil {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(encap)
						})
					}
				})
				if len(certs) > 0 {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddBytes(sdSetOf(certs))
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(sdSetOf(infos)) })
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, &Error{Kind: ErrMalformed, Offset: -1, Msg: "encoding SignedData", Err: err}
	}
	return out, nil
}

func sdPrepare(s Signer, allowWeak bool) (sdPreparedSigner, error) {
	p := sdPreparedSigner{Signer: s}
	if s.Certificate == nil || s.Key == nil {
		return p, newError(ErrSignerNotFound, "signer without certificate or key")
	}
	pub := s.Key.Public()
	if k, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(s.Certificate.PublicKey) {
		return p, newError(ErrSignerNotFound, "signing key does not match the certificate")
	}
	if p.Hash == 0 {
		p.Hash = crypto.SHA256
	}
	switch pub.(type) {
	case *rsa.PublicKey:
		p.scheme = SchemeRSAPKCS1v15
		if s.RSAPSS {
			p.scheme = SchemeRSAPSS
		}
	case *ecdsa.PublicKey:
		p.scheme = SchemeECDSA
	case ed25519.PublicKey:
		p.scheme = SchemeEd25519
		p.Hash = crypto.SHA512
	default:
		return p, newError(ErrUnsupported, "signing key type %T", pub)
	}
	if !allowWeak {
		if !sdHashAllowed(p.Hash) {
			return p, newError(ErrWeakAlgorithm, "digest %v is not allowed", p.Hash)
		}
		if err := sdCheckKey(pub, p.scheme); err != nil {
			return p, err
		}
	}
	if sdDigestOID(p.Hash) == nil {
		return p, newError(ErrUnsupported, "digest %v", p.Hash)
	}
	if s.SubjectKeyID && len(s.Certificate.SubjectKeyId) == 0 {
		return p, newError(ErrSignerNotFound, "certificate has no subjectKeyIdentifier")
	}
	return p, nil
}

// sdSignedAttributes returns the DER SET OF attributes (tag 0x31).
func sdSignedAttributes(ctype asn1.ObjectIdentifier, digest []byte, t time.Time, withTime bool, caps []AlgorithmIdentifier, withCaps bool) ([]byte, error) {
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.BytesOrPanic()
	}
	var attrs [][]byte
	attrs = append(attrs, attr(OIDAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(ctype) }))
	if withTime {
		t = t.UTC().Truncate(time.Second)
		attrs = append(attrs, attr(OIDAttrSigningTime, func(b *cryptobyte.Builder) {
			// RFC 5652 §11.3: UTCTime for 1950–2049, GeneralizedTime otherwise.
			if y := t.Year(); y >= 1950 && y < 2050 {
				b.AddASN1UTCTime(t)
			} else {
				b.AddASN1GeneralizedTime(t)
			}
		}))
	}
	attrs = append(attrs, attr(OIDAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }))
	if withCaps && len(caps) > 0 {
		attrs = append(attrs, attr(OIDAttrSMIMECapabilities, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, c := range caps {
					b.AddBytes(sdMarshalAlgorithm(c))
				}
			})
		}))
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(sdSetOf(attrs)) })
	out, err := b.Bytes()
	if err != nil {
		return nil, &Error{Kind: ErrMalformed, Offset: -1, Msg: "encoding signed attributes", Err: err}
	}
	return out, nil
}

func sdSignAttributes(p sdPreparedSigner, attrs []byte, rnd io.Reader) ([]byte, error) {
	var sig []byte
	var err error
	if p.scheme == SchemeEd25519 {
		sig, err = p.Key.Sign(rnd, attrs, crypto.Hash(0))
	} else {
		h := p.Hash.New()
		h.Write(attrs)
		var opts crypto.SignerOpts = p.Hash
		if p.scheme == SchemeRSAPSS {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: p.Hash}
		}
		sig, err = p.Key.Sign(rnd, h.Sum(nil), opts)
	}
	if err != nil {
		return nil, &Error{Kind: ErrBadSignature, Offset: -1, Msg: "signing failed", Err: err}
	}
	return sig, nil
}

func sdSignatureAlgorithm(p sdPreparedSigner) AlgorithmIdentifier {
	switch p.scheme {
	case SchemeRSAPKCS1v15:
		return AlgorithmIdentifier{Algorithm: OIDRSAEncryption, Parameters: []byte{5, 0}}
	case SchemeRSAPSS:
		hashAlg := sdMarshalAlgorithm(AlgorithmIdentifier{Algorithm: sdDigestOID(p.Hash), Parameters: []byte{5, 0}})
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(hashAlg) })
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(sdMarshalAlgorithm(AlgorithmIdentifier{Algorithm: OIDMGF1, Parameters: hashAlg}))
			})
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1Int64(int64(p.Hash.Size()))
			})
		})
		return AlgorithmIdentifier{Algorithm: OIDRSASSAPSS, Parameters: b.BytesOrPanic()}
	case SchemeECDSA:
		return AlgorithmIdentifier{Algorithm: sdECDSAOID(p.Hash)}
	default:
		return AlgorithmIdentifier{Algorithm: OIDEd25519}
	}
}

func sdMarshalSignerInfo(p sdPreparedSigner, attrs, sig []byte) ([]byte, error) {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if p.SubjectKeyID {
			b.AddASN1Int64(3)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(p.Certificate.SubjectKeyId) })
		} else {
			b.AddASN1Int64(1)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(p.Certificate.RawIssuer)
				b.AddASN1BigInt(p.Certificate.SerialNumber)
			})
		}
		b.AddBytes(sdMarshalAlgorithm(AlgorithmIdentifier{Algorithm: sdDigestOID(p.Hash)}))
		// signedAttrs is [0] IMPLICIT: the same content under tag 0xA0.
		implicit := append([]byte{0xa0}, attrs[1:]...)
		b.AddBytes(implicit)
		b.AddBytes(sdMarshalAlgorithm(sdSignatureAlgorithm(p)))
		b.AddASN1OctetString(sig)
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, &Error{Kind: ErrMalformed, Offset: -1, Msg: "encoding SignerInfo", Err: err}
	}
	return out, nil
}

func sdMarshalAlgorithm(a AlgorithmIdentifier) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(a.Algorithm)
		if a.Parameters != nil {
			b.AddBytes(a.Parameters)
		}
	})
	return b.BytesOrPanic()
}

// sdSetOf concatenates DER elements in the order X.690 §11.6 requires for
// SET OF, dropping exact duplicates.
func sdSetOf(elems [][]byte) []byte {
	sorted := slices.Clone(elems)
	slices.SortFunc(sorted, bytes.Compare)
	sorted = slices.CompactFunc(sorted, bytes.Equal)
	return bytes.Join(sorted, nil)
}

// sdValidOID reports whether cryptobyte can encode oid (X.660 arcs).
func sdValidOID(oid asn1.ObjectIdentifier) bool {
	if len(oid) < 2 || oid[0] > 2 || (oid[0] < 2 && oid[1] >= 40) {
		return false
	}
	for _, v := range oid {
		if v < 0 {
			return false
		}
	}
	return true
}
