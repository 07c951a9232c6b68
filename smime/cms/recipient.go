package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha1" // registers SHA-1 for the KDF and OAEP
	"crypto/sha256"
	_ "crypto/sha512" // registers SHA-384/512
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	envOIDRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	envOIDRSAESOAEP     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	envOIDMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	envOIDPSpecified    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}

	envOIDSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	envOIDSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	envOIDSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	envOIDSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	envOIDSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	envOIDECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	envOIDP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	envOIDP384        = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	envOIDP521        = asn1.ObjectIdentifier{1, 3, 132, 0, 35}

	// RFC 5753 §7.1.4 / SEC 1 key agreement schemes.
	envOIDStdDHSHA1KDF      = asn1.ObjectIdentifier{1, 3, 133, 16, 840, 63, 0, 2}
	envOIDCofactorDHSHA1KDF = asn1.ObjectIdentifier{1, 3, 133, 16, 840, 63, 0, 3}
	envOIDStdDHSHA224KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 0}
	envOIDStdDHSHA256KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 1}
	envOIDStdDHSHA384KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 2}
	envOIDStdDHSHA512KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 3}
	envOIDCofDHSHA224KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 0}
	envOIDCofDHSHA256KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 1}
	envOIDCofDHSHA384KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 2}
	envOIDCofDHSHA512KDF    = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 3}

	envOIDAES128Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 5}
	envOIDAES192Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 25}
	envOIDAES256Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}
)

// RSAPadding selects the RSA key-transport padding used when encrypting.
type RSAPadding int

const (
	// RSAPaddingDefault is RSAES-OAEP with SHA-256 and MGF1-SHA-256.
	RSAPaddingDefault RSAPadding = iota
	// RSAPaddingOAEP is RSAES-OAEP with SHA-256 and MGF1-SHA-256, written
	// with explicit parameters (RFC 8017 / RFC 4055), as OpenSSL 3 does.
	RSAPaddingOAEP
	// RSAPaddingPKCS1v15 is RSAES-PKCS1-v1_5 (rsaEncryption), for old
	// recipients.
	RSAPaddingPKCS1v15
)

// RecipientKind tells how the content-encryption key reached us.
type RecipientKind int

const (
	RecipientUnknown RecipientKind = iota
	// RecipientRSAPKCS1v15 is KeyTransRecipientInfo with rsaEncryption.
	RecipientRSAPKCS1v15
	// RecipientRSAOAEP is KeyTransRecipientInfo with RSAES-OAEP.
	RecipientRSAOAEP
	// RecipientECDH is KeyAgreeRecipientInfo, ephemeral-static ECDH.
	RecipientECDH
)

func (k RecipientKind) String() string {
	switch k {
	case RecipientRSAPKCS1v15:
		return "rsa-pkcs1v15"
	case RecipientRSAOAEP:
		return "rsa-oaep"
	case RecipientECDH:
		return "ecdh"
	}
	return "unknown"
}

// ErrNoRecipient means no RecipientInfo in the message names the given
// certificate.
var ErrNoRecipient = errors.New("cms: message is not encrypted to this certificate")

// envRID is a RecipientIdentifier / KeyAgreeRecipientIdentifier.
type envRID struct {
	issuer []byte // DER Name, full element
	serial *big.Int
	ski    []byte
}

func (r *envRID) matches(cert *x509.Certificate) bool {
	if r.ski != nil {
		return len(cert.SubjectKeyId) > 0 && bytes.Equal(r.ski, cert.SubjectKeyId)
	}
	return r.serial != nil && cert.SerialNumber != nil &&
		bytes.Equal(r.issuer, cert.RawIssuer) && r.serial.Cmp(cert.SerialNumber) == 0
}

func envParseIssuerAndSerial(s *cryptobyte.String) (*envRID, error) {
	var ias cryptobyte.String
	r := &envRID{serial: new(big.Int)}
	var name cryptobyte.String
	if !s.ReadASN1(&ias, cbasn1.SEQUENCE) ||
		!ias.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
		!ias.ReadASN1Integer(r.serial) || !ias.Empty() {
		return nil, errors.New("cms: malformed IssuerAndSerialNumber")
	}
	r.issuer = append([]byte(nil), name...)
	return r, nil
}

func envAddIssuerAndSerial(b *cryptobyte.Builder, cert *x509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(cert.RawIssuer)
		b.AddASN1BigInt(cert.SerialNumber)
	})
}

// envKTRI is a parsed KeyTransRecipientInfo (RFC 5652 §6.2.1).
type envKTRI struct {
	rid          *envRID
	oaep         *rsa.OAEPOptions // nil: PKCS#1 v1.5
	encryptedKey []byte
}

// envKARI is a parsed KeyAgreeRecipientInfo (RFC 5652 §6.2.2, RFC 5753).
type envKARI struct {
	origAlgParams []byte // parameters element of the originator key's algorithm, nil if absent
	origPub       []byte // EC point
	ukm           []byte // nil if absent
	kdfHash       crypto.Hash
	wrapAlgID     []byte // DER AlgorithmIdentifier of the key-wrap algorithm
	kekLen        int
	keys          []envREK
}

type envREK struct {
	rid          *envRID
	encryptedKey []byte
}

// envRecipientInfo is one parsed RecipientInfo; unsupported kinds (KEKRI,
// PWRI, ORI) have neither field set.
type envRecipientInfo struct {
	ktri *envKTRI
	kari *envKARI
}

// envParseRecipientInfos parses a SET OF RecipientInfo (full element).
func envParseRecipientInfos(s *cryptobyte.String) ([]envRecipientInfo, error) {
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) {
		return nil, errors.New("cms: malformed RecipientInfos")
	}
	var out []envRecipientInfo
	for !set.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !set.ReadAnyASN1(&elem, &tag) {
			return nil, errors.New("cms: malformed RecipientInfo")
		}
		switch tag {
		case cbasn1.SEQUENCE:
			k, err := envParseKTRI(elem)
			if err != nil {
				return nil, err
			}
			out = append(out, envRecipientInfo{ktri: k})
		case cbasn1.Tag(1).Constructed().ContextSpecific():
			k, err := envParseKARI(elem)
			if err != nil {
				return nil, err
			}
			out = append(out, envRecipientInfo{kari: k})
		case cbasn1.Tag(2).Constructed().ContextSpecific(), // KEKRecipientInfo
			cbasn1.Tag(3).Constructed().ContextSpecific(), // PasswordRecipientInfo
			cbasn1.Tag(4).Constructed().ContextSpecific(): // OtherRecipientInfo
			out = append(out, envRecipientInfo{})
		default:
			return nil, errors.New("cms: unknown RecipientInfo type")
		}
	}
	if len(out) == 0 {
		return nil, errors.New("cms: no RecipientInfo")
	}
	return out, nil
}

func envParseKTRI(s cryptobyte.String) (*envKTRI, error) {
	var version int64
	if !s.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return nil, errors.New("cms: malformed KeyTransRecipientInfo")
	}
	k := &envKTRI{}
	var err error
	switch {
	case s.PeekASN1Tag(cbasn1.SEQUENCE):
		if version != 0 {
			return nil, errors.New("cms: KeyTransRecipientInfo version must be 0 with issuerAndSerialNumber")
		}
		if k.rid, err = envParseIssuerAndSerial(&s); err != nil {
			return nil, err
		}
	case s.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		if version != 2 {
			return nil, errors.New("cms: KeyTransRecipientInfo version must be 2 with subjectKeyIdentifier")
		}
		var ski cryptobyte.String
		if !s.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) || len(ski) == 0 {
			return nil, errors.New("cms: malformed subjectKeyIdentifier")
		}
		k.rid = &envRID{ski: append([]byte(nil), ski...)}
	default:
		return nil, errors.New("cms: malformed RecipientIdentifier")
	}
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("cms: malformed keyEncryptionAlgorithm")
	}
	switch {
	case oid.Equal(envOIDRSAEncryption):
		if !envAbsentOrNull(alg) {
			return nil, errors.New("cms: rsaEncryption parameters must be NULL")
		}
	case oid.Equal(envOIDRSAESOAEP):
		if k.oaep, err = envParseOAEPParams(alg); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("cms: unsupported key transport algorithm %v", oid)
	}
	var ek cryptobyte.String
	if !s.ReadASN1(&ek, cbasn1.OCTET_STRING) || !s.Empty() || len(ek) == 0 {
		return nil, errors.New("cms: malformed encryptedKey")
	}
	k.encryptedKey = append([]byte(nil), ek...)
	return k, nil
}

// envAbsentOrNull reports whether rest (what follows the OID in an
// AlgorithmIdentifier) is empty or a single NULL.
func envAbsentOrNull(rest cryptobyte.String) bool {
	if rest.Empty() {
		return true
	}
	var null cryptobyte.String
	return rest.ReadASN1(&null, cbasn1.NULL) && len(null) == 0 && rest.Empty()
}

func envHashFromOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(envOIDSHA1):
		return crypto.SHA1, true
	case oid.Equal(envOIDSHA224):
		return crypto.SHA224, true
	case oid.Equal(envOIDSHA256):
		return crypto.SHA256, true
	case oid.Equal(envOIDSHA384):
		return crypto.SHA384, true
	case oid.Equal(envOIDSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// envParseHashAlgID parses a hash AlgorithmIdentifier (parameters absent or NULL).
func envParseHashAlgID(s *cryptobyte.String) (crypto.Hash, error) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !envAbsentOrNull(alg) {
		return 0, errors.New("cms: malformed hash AlgorithmIdentifier")
	}
	h, ok := envHashFromOID(oid)
	if !ok {
		return 0, fmt.Errorf("cms: unsupported hash %v", oid)
	}
	return h, nil
}

// envParseOAEPParams parses RSAES-OAEP-params (RFC 8017 A.2.1):
//
//	RSAES-OAEP-params ::= SEQUENCE {
//	    hashAlgorithm      [0] HashAlgorithm     DEFAULT sha1,
//	    maskGenAlgorithm   [1] MaskGenAlgorithm  DEFAULT mgf1SHA1,
//	    pSourceAlgorithm   [2] PSourceAlgorithm  DEFAULT pSpecifiedEmpty }
func envParseOAEPParams(rest cryptobyte.String) (*rsa.OAEPOptions, error) {
	opts := &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}
	if rest.Empty() {
		return opts, nil // all defaults
	}
	var p cryptobyte.String
	if !rest.ReadASN1(&p, cbasn1.SEQUENCE) || !rest.Empty() {
		return nil, errors.New("cms: malformed RSAES-OAEP parameters")
	}
	var err error
	var h cryptobyte.String
	var present bool
	if !p.ReadOptionalASN1(&h, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: malformed OAEP hashAlgorithm")
	}
	if present {
		if opts.Hash, err = envParseHashAlgID(&h); err != nil || !h.Empty() {
			return nil, errors.New("cms: malformed OAEP hashAlgorithm")
		}
	}
	var m cryptobyte.String
	if !p.ReadOptionalASN1(&m, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: malformed OAEP maskGenAlgorithm")
	}
	if present {
		var mgf cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !m.ReadASN1(&mgf, cbasn1.SEQUENCE) || !m.Empty() || !mgf.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(envOIDMGF1) {
			return nil, errors.New("cms: unsupported OAEP mask generation function")
		}
		if opts.MGFHash, err = envParseHashAlgID(&mgf); err != nil || !mgf.Empty() {
			return nil, errors.New("cms: malformed MGF1 hash")
		}
	}
	var ps cryptobyte.String
	if !p.ReadOptionalASN1(&ps, &present, cbasn1.Tag(2).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: malformed OAEP pSourceAlgorithm")
	}
	if present {
		var src, label cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !ps.ReadASN1(&src, cbasn1.SEQUENCE) || !ps.Empty() || !src.ReadASN1ObjectIdentifier(&oid) ||
			!oid.Equal(envOIDPSpecified) || !src.ReadASN1(&label, cbasn1.OCTET_STRING) || !src.Empty() {
			return nil, errors.New("cms: malformed OAEP pSourceAlgorithm")
		}
		if len(label) > 0 {
			opts.Label = append([]byte(nil), label...)
		}
	}
	if !p.Empty() {
		return nil, errors.New("cms: trailing data in RSAES-OAEP parameters")
	}
	return opts, nil
}

func envParseKARI(s cryptobyte.String) (*envKARI, error) {
	var version int64
	if !s.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || version != 3 {
		return nil, errors.New("cms: malformed KeyAgreeRecipientInfo version")
	}
	k := &envKARI{}
	// originator [0] EXPLICIT OriginatorIdentifierOrKey; we support only
	// originatorKey [1] IMPLICIT OriginatorPublicKey (ephemeral-static).
	var orig, opk cryptobyte.String
	if !s.ReadASN1(&orig, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: malformed KeyAgreeRecipientInfo originator")
	}
	if !orig.ReadASN1(&opk, cbasn1.Tag(1).Constructed().ContextSpecific()) || !orig.Empty() {
		return nil, errors.New("cms: unsupported originator (only originatorKey)")
	}
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var pub asn1.BitString
	if !opk.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
		!opk.ReadASN1BitString(&pub) || !opk.Empty() || pub.BitLength%8 != 0 {
		return nil, errors.New("cms: malformed OriginatorPublicKey")
	}
	if !oid.Equal(envOIDECPublicKey) {
		return nil, fmt.Errorf("cms: unsupported originator key algorithm %v", oid)
	}
	if !alg.Empty() {
		k.origAlgParams = append([]byte(nil), alg...)
	}
	k.origPub = append([]byte(nil), pub.Bytes...)
	var ukm cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&ukm, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, errors.New("cms: malformed ukm")
	}
	if present {
		var u cryptobyte.String
		if !ukm.ReadASN1(&u, cbasn1.OCTET_STRING) || !ukm.Empty() {
			return nil, errors.New("cms: malformed ukm")
		}
		k.ukm = append([]byte{}, u...)
	}
	// keyEncryptionAlgorithm: KDF scheme with KeyWrapAlgorithm parameters.
	var kea, wrap cryptobyte.String
	if !s.ReadASN1(&kea, cbasn1.SEQUENCE) || !kea.ReadASN1ObjectIdentifier(&oid) ||
		!kea.ReadASN1Element(&wrap, cbasn1.SEQUENCE) || !kea.Empty() {
		return nil, errors.New("cms: malformed KeyAgreeRecipientInfo keyEncryptionAlgorithm")
	}
	switch {
	case oid.Equal(envOIDStdDHSHA1KDF), oid.Equal(envOIDCofactorDHSHA1KDF):
		k.kdfHash = crypto.SHA1
	case oid.Equal(envOIDStdDHSHA224KDF), oid.Equal(envOIDCofDHSHA224KDF):
		k.kdfHash = crypto.SHA224
	case oid.Equal(envOIDStdDHSHA256KDF), oid.Equal(envOIDCofDHSHA256KDF):
		k.kdfHash = crypto.SHA256
	case oid.Equal(envOIDStdDHSHA384KDF), oid.Equal(envOIDCofDHSHA384KDF):
		k.kdfHash = crypto.SHA384
	case oid.Equal(envOIDStdDHSHA512KDF), oid.Equal(envOIDCofDHSHA512KDF):
		k.kdfHash = crypto.SHA512
	default:
		return nil, fmt.Errorf("cms: unsupported key agreement scheme %v", oid)
	}
	k.wrapAlgID = append([]byte(nil), wrap...)
	var w cryptobyte.String
	if !wrap.ReadASN1(&w, cbasn1.SEQUENCE) || !w.ReadASN1ObjectIdentifier(&oid) || !envAbsentOrNull(w) {
		return nil, errors.New("cms: malformed key wrap algorithm")
	}
	switch {
	case oid.Equal(envOIDAES128Wrap):
		k.kekLen = 16
	case oid.Equal(envOIDAES192Wrap):
		k.kekLen = 24
	case oid.Equal(envOIDAES256Wrap):
		k.kekLen = 32
	default:
		return nil, fmt.Errorf("cms: unsupported key wrap algorithm %v", oid)
	}
	var reks cryptobyte.String
	if !s.ReadASN1(&reks, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("cms: malformed recipientEncryptedKeys")
	}
	for !reks.Empty() {
		var rek cryptobyte.String
		if !reks.ReadASN1(&rek, cbasn1.SEQUENCE) {
			return nil, errors.New("cms: malformed RecipientEncryptedKey")
		}
		var r envREK
		var err error
		switch {
		case rek.PeekASN1Tag(cbasn1.SEQUENCE):
			if r.rid, err = envParseIssuerAndSerial(&rek); err != nil {
				return nil, err
			}
		case rek.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()):
			// rKeyId [0] IMPLICIT RecipientKeyIdentifier ::= SEQUENCE {
			//   subjectKeyIdentifier, date GeneralizedTime OPTIONAL,
			//   other OtherKeyAttribute OPTIONAL }
			var rk, ski cryptobyte.String
			if !rek.ReadASN1(&rk, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
				!rk.ReadASN1(&ski, cbasn1.OCTET_STRING) || len(ski) == 0 {
				return nil, errors.New("cms: malformed RecipientKeyIdentifier")
			}
			if rk.PeekASN1Tag(cbasn1.GeneralizedTime) && !rk.SkipASN1(cbasn1.GeneralizedTime) {
				return nil, errors.New("cms: malformed RecipientKeyIdentifier date")
			}
			if rk.PeekASN1Tag(cbasn1.SEQUENCE) && !rk.SkipASN1(cbasn1.SEQUENCE) {
				return nil, errors.New("cms: malformed RecipientKeyIdentifier other")
			}
			if !rk.Empty() {
				return nil, errors.New("cms: trailing data in RecipientKeyIdentifier")
			}
			r.rid = &envRID{ski: append([]byte(nil), ski...)}
		default:
			return nil, errors.New("cms: malformed KeyAgreeRecipientIdentifier")
		}
		var ek cryptobyte.String
		if !rek.ReadASN1(&ek, cbasn1.OCTET_STRING) || !rek.Empty() {
			return nil, errors.New("cms: malformed RecipientEncryptedKey encryptedKey")
		}
		r.encryptedKey = append([]byte(nil), ek...)
		k.keys = append(k.keys, r)
	}
	if len(k.keys) == 0 {
		return nil, errors.New("cms: KeyAgreeRecipientInfo without recipientEncryptedKeys")
	}
	return k, nil
}

// envNames tells whether a RecipientInfo in ris names cert.
func envNames(ris []envRecipientInfo, cert *x509.Certificate) bool {
	for _, ri := range ris {
		if ri.ktri != nil && ri.ktri.rid.matches(cert) {
			return true
		}
		if ri.kari != nil {
			for _, rek := range ri.kari.keys {
				if rek.rid.matches(cert) {
					return true
				}
			}
		}
	}
	return false
}

// envRecipientDecrypt finds the RecipientInfo addressed to cert and recovers
// the content-encryption key, of cekLen octets, with key.
//
// For RSA PKCS#1 v1.5 a padding failure is not reported: a random key of the
// right length takes the place of the CEK, so that the failure surfaces
// later as ErrContentDecryption, indistinguishable from a tampered content
// (RFC 3218 §2.3.2).
func envRecipientDecrypt(ris []envRecipientInfo, cert *x509.Certificate, key crypto.PrivateKey, cekLen int, rnd io.Reader) ([]byte, RecipientKind, error) {
	if cert == nil {
		return nil, 0, errors.New("cms: no certificate given")
	}
	for _, ri := range ris {
		switch {
		case ri.ktri != nil && ri.ktri.rid.matches(cert):
			return envKTRIDecrypt(ri.ktri, key, cekLen, rnd)
		case ri.kari != nil:
			for _, rek := range ri.kari.keys {
				if rek.rid.matches(cert) {
					cek, err := envKARIDecrypt(ri.kari, rek.encryptedKey, cert, key)
					if err == nil && len(cek) != cekLen {
						err = errors.New("cms: unwrapped key has the wrong length for the content algorithm")
					}
					return cek, RecipientECDH, err
				}
			}
		}
	}
	return nil, 0, ErrNoRecipient
}

func envKTRIDecrypt(k *envKTRI, key crypto.PrivateKey, cekLen int, rnd io.Reader) ([]byte, RecipientKind, error) {
	if k.oaep != nil {
		dec, ok := key.(crypto.Decrypter)
		if !ok {
			return nil, RecipientRSAOAEP, errors.New("cms: RSA-OAEP recipient needs an RSA private key")
		}
		if _, ok := dec.Public().(*rsa.PublicKey); !ok {
			return nil, RecipientRSAOAEP, errors.New("cms: RSA-OAEP recipient needs an RSA private key")
		}
		cek, err := dec.Decrypt(rnd, k.encryptedKey, k.oaep)
		if err != nil {
			return nil, RecipientRSAOAEP, fmt.Errorf("cms: RSA-OAEP decryption failed: %w", err)
		}
		if len(cek) != cekLen {
			return nil, RecipientRSAOAEP, errors.New("cms: decrypted key has the wrong length for the content algorithm")
		}
		return cek, RecipientRSAOAEP, nil
	}
	// PKCS#1 v1.5: Bleichenbacher countermeasure.
	cek := make([]byte, cekLen)
	if _, err := io.ReadFull(rnd, cek); err != nil {
		return nil, RecipientRSAPKCS1v15, fmt.Errorf("cms: reading random key: %w", err)
	}
	switch priv := key.(type) {
	case *rsa.PrivateKey:
		// Errors here depend only on public values (ciphertext length
		// versus modulus), so reporting them reveals nothing.
		//lint:ignore SA1019 S/MIME peers (gpgsm, older clients) still use PKCS #1 v1.5 key transport; OAEP is our default
		if err := rsa.DecryptPKCS1v15SessionKey(nil, priv, k.encryptedKey, cek); err != nil {
			return nil, RecipientRSAPKCS1v15, fmt.Errorf("cms: RSA decryption: %w", err)
		}
		return cek, RecipientRSAPKCS1v15, nil
	case crypto.Decrypter:
		if _, ok := priv.Public().(*rsa.PublicKey); !ok {
			break
		}
		//lint:ignore SA1019 S/MIME peers (gpgsm, older clients) still use PKCS #1 v1.5 key transport; OAEP is our default
		out, err := priv.Decrypt(rnd, k.encryptedKey, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: cekLen})
		if err != nil {
			return nil, RecipientRSAPKCS1v15, fmt.Errorf("cms: RSA decryption: %w", err)
		}
		return out, RecipientRSAPKCS1v15, nil
	}
	return nil, RecipientRSAPKCS1v15, errors.New("cms: RSA recipient needs an RSA private key")
}

func envECDHKey(key crypto.PrivateKey) (*ecdh.PrivateKey, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k.ECDH()
	case *ecdh.PrivateKey:
		return k, nil
	}
	return nil, errors.New("cms: key agreement recipient needs an EC private key")
}

func envCurveOID(c ecdh.Curve) asn1.ObjectIdentifier {
	switch c {
	case ecdh.P256():
		return envOIDP256
	case ecdh.P384():
		return envOIDP384
	case ecdh.P521():
		return envOIDP521
	}
	return nil
}

func envKARIDecrypt(k *envKARI, encryptedKey []byte, cert *x509.Certificate, key crypto.PrivateKey) ([]byte, error) {
	priv, err := envECDHKey(key)
	if err != nil {
		return nil, err
	}
	curve := priv.Curve()
	curveOID := envCurveOID(curve)
	if curveOID == nil {
		return nil, errors.New("cms: unsupported curve for key agreement")
	}
	// RFC 5753 §3.1.1: parameters absent, NULL or the recipient's curve.
	if k.origAlgParams != nil {
		p := cryptobyte.String(k.origAlgParams)
		var oid asn1.ObjectIdentifier
		if !envAbsentOrNull(p) {
			p = cryptobyte.String(k.origAlgParams)
			if !p.ReadASN1ObjectIdentifier(&oid) || !p.Empty() || !oid.Equal(curveOID) {
				return nil, errors.New("cms: originator key is not on the recipient's curve")
			}
		}
	}
	if pk, ok := cert.PublicKey.(*ecdsa.PublicKey); ok {
		cpk, err := pk.ECDH()
		if err != nil || !cpk.Equal(priv.PublicKey()) {
			return nil, errors.New("cms: private key does not match the certificate")
		}
	}
	pub, err := curve.NewPublicKey(k.origPub)
	if err != nil {
		return nil, errors.New("cms: invalid originator public key")
	}
	z, err := priv.ECDH(pub)
	if err != nil {
		return nil, errors.New("cms: ECDH failed")
	}
	si, err := envECCCMSSharedInfo(k.wrapAlgID, k.ukm, k.kekLen)
	if err != nil {
		return nil, err
	}
	kek, err := envX963KDF(k.kdfHash, z, si, k.kekLen)
	if err != nil {
		return nil, err
	}
	return envAESKeyUnwrap(kek, encryptedKey)
}

// envAddRecipientInfo appends a RecipientInfo that carries cek to cert.
// It returns the RecipientInfo's version (for the EnvelopedData version).
func envAddRecipientInfo(b *cryptobyte.Builder, cert *x509.Certificate, cek []byte, opts *EncryptOptions, rnd io.Reader) (int, error) {
	useSKI := opts.UseSubjectKeyID
	if useSKI && len(cert.SubjectKeyId) == 0 {
		return 0, errors.New("cms: recipient certificate has no subjectKeyIdentifier")
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		var ek []byte
		var err error
		oaep := opts.RSAPadding != RSAPaddingPKCS1v15
		if oaep {
			ek, err = rsa.EncryptOAEP(sha256.New(), rnd, pub, cek, nil)
		} else {
			//lint:ignore SA1019 S/MIME peers (gpgsm, older clients) still use PKCS #1 v1.5 key transport; OAEP is our default
			ek, err = rsa.EncryptPKCS1v15(rnd, pub, cek)
		}
		if err != nil {
			return 0, fmt.Errorf("cms: RSA encryption: %w", err)
		}
		version := 0
		if useSKI {
			version = 2
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(version))
			if useSKI {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(cert.SubjectKeyId)
				})
			} else {
				envAddIssuerAndSerial(b, cert)
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if oaep {
					b.AddASN1ObjectIdentifier(envOIDRSAESOAEP)
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(envAlgIDNoParams(envOIDSHA256))
						})
						b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(envOIDMGF1)
								b.AddBytes(envAlgIDNoParams(envOIDSHA256))
							})
						})
					})
				} else {
					b.AddASN1ObjectIdentifier(envOIDRSAEncryption)
					b.AddASN1NULL()
				}
			})
			b.AddASN1OctetString(ek)
		})
		return version, nil
	case *ecdsa.PublicKey:
		rpub, err := pub.ECDH()
		if err != nil {
			return 0, fmt.Errorf("cms: recipient EC key: %w", err)
		}
		var kdfOID asn1.ObjectIdentifier
		var h crypto.Hash
		switch pub.Curve {
		case elliptic.P256():
			kdfOID, h = envOIDStdDHSHA256KDF, crypto.SHA256
		case elliptic.P384():
			kdfOID, h = envOIDStdDHSHA384KDF, crypto.SHA384
		case elliptic.P521():
			kdfOID, h = envOIDStdDHSHA512KDF, crypto.SHA512
		default:
			return 0, errors.New("cms: unsupported recipient curve")
		}
		eph, err := rpub.Curve().GenerateKey(rnd)
		if err != nil {
			return 0, fmt.Errorf("cms: generating ephemeral key: %w", err)
		}
		z, err := eph.ECDH(rpub)
		if err != nil {
			return 0, fmt.Errorf("cms: ECDH: %w", err)
		}
		wrapAlgID := envAlgIDNoParams(envOIDAES256Wrap)
		si, err := envECCCMSSharedInfo(wrapAlgID, nil, 32)
		if err != nil {
			return 0, err
		}
		kek, err := envX963KDF(h, z, si, 32)
		if err != nil {
			return 0, err
		}
		ek, err := envAESKeyWrap(kek, cek)
		if err != nil {
			return 0, err
		}
		b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(3)
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddBytes(envAlgIDNoParams(envOIDECPublicKey))
					b.AddASN1BitString(eph.PublicKey().Bytes())
				})
			})
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(kdfOID)
				b.AddBytes(wrapAlgID)
			})
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					if useSKI {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(cert.SubjectKeyId)
						})
					} else {
						envAddIssuerAndSerial(b, cert)
					}
					b.AddASN1OctetString(ek)
				})
			})
		})
		return 3, nil
	}
	return 0, fmt.Errorf("cms: unsupported recipient public key type %T", cert.PublicKey)
}
