package keystore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"time"
)

var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// certFingerprint is the upper-case hex SHA-256 of a certificate's DER.
func certFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// smimeEntry describes a certificate: its addresses come from the
// rfc822Name SANs and, for old certificates, the subject's emailAddress.
func smimeEntry(cert *x509.Certificate) Entry {
	ent := Entry{
		Kind:        SMIME,
		Fingerprint: certFingerprint(cert.Raw),
		Emails:      []string{},
		Pinned:      []string{},
		Subject:     cert.Subject.String(),
		Issuer:      cert.Issuer.String(),
		Algorithm:   certAlgorithm(cert.PublicKey),
		Created:     cert.NotBefore.UTC(),
		CA:          cert.BasicConstraintsValid && cert.IsCA,
	}
	exp := cert.NotAfter.UTC()
	ent.Expires = &exp
	add := func(a string) {
		a = NormalizeEmail(a)
		if plausibleAddress(a) && !slices.Contains(ent.Emails, a) {
			ent.Emails = append(ent.Emails, a)
		}
	}
	for _, a := range cert.EmailAddresses {
		add(a)
	}
	for _, n := range cert.Subject.Names {
		if n.Type.Equal(oidEmailAddress) {
			if s, ok := n.Value.(string); ok {
				add(s)
			}
		}
	}
	slices.Sort(ent.Emails)
	return ent
}

func certAlgorithm(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ecdsa-" + strings.ToLower(strings.ReplaceAll(k.Curve.Params().Name, "-", ""))
	case ed25519.PublicKey:
		return "ed25519"
	}
	return "unknown"
}

// keyMatchesCert reports whether priv is the private half of cert's key.
func keyMatchesCert(priv crypto.PrivateKey, cert *x509.Certificate) bool {
	s, ok := priv.(crypto.Signer)
	if !ok {
		return false
	}
	pub, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

// checkPrivateKey verifies a private key is internally consistent, so that
// tampered public parameters inside it are caught before use (S54).
func checkPrivateKey(priv crypto.PrivateKey) error {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return k.Validate()
	case *ecdsa.PrivateKey:
		priv, err := k.ECDH()
		if err != nil {
			return err
		}
		pub, err := k.PublicKey.ECDH()
		if err != nil {
			return err
		}
		if !priv.PublicKey().Equal(pub) {
			return fmt.Errorf("public point does not match the private scalar")
		}
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return fmt.Errorf("bad ed25519 key length")
		}
		derived := ed25519.NewKeyFromSeed(k.Seed())
		if !derived.Equal(k) {
			return fmt.Errorf("public key does not match the seed")
		}
	default:
		return errUnsupportedKey
	}
	return nil
}

// errUnsupportedKey: a private key of a type S/MIME keys here are not
// (X25519, Ed448, ...). Malformed input, not tampering.
var errUnsupportedKey = errors.New("unsupported private key type (RSA, ECDSA and Ed25519 are)")

// newSMIMEKey makes a key pair for an S/MIME certificate.
func newSMIMEKey(rnd io.Reader, algo string) (crypto.Signer, error) {
	switch algo {
	case "", "rsa3072":
		return rsa.GenerateKey(rnd, 3072)
	case "rsa4096":
		return rsa.GenerateKey(rnd, 4096)
	case "p256":
		return ecdsa.GenerateKey(elliptic.P256(), rnd)
	}
	return nil, fmt.Errorf("keystore: S/MIME keys are rsa3072, rsa4096 or p256, not %q", algo)
}

// selfSignedSMIME makes a self-signed end-entity certificate for addr:
// emailProtection EKU, an rfc822Name SAN, and key usage fitting the key
// (RSA: signatures and key transport; EC: signatures and key agreement).
func selfSignedSMIME(rnd io.Reader, key crypto.Signer, addr, name string, now time.Time, lifetime time.Duration) ([]byte, error) {
	serial, err := randSerial(rnd)
	if err != nil {
		return nil, err
	}
	cn := name
	if cn == "" {
		cn = addr
	}
	usage := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	if _, ok := key.Public().(*rsa.PublicKey); ok {
		usage |= x509.KeyUsageKeyEncipherment
	} else {
		usage |= x509.KeyUsageKeyAgreement
	}
	notAfter := now.Add(lifetime)
	if lifetime <= 0 {
		notAfter = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) // RFC 5280 §4.1.2.5: no well-defined expiry
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-5 * time.Minute).UTC(),
		NotAfter:              notAfter.UTC(),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses:        []string{addr},
		BasicConstraintsValid: true,
	}
	return x509.CreateCertificate(rnd, tmpl, tmpl, key.Public(), key)
}

func randSerial(rnd io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, err
	}
	b[0] &= 0x7f
	b[0] |= 0x01
	return new(big.Int).SetBytes(b), nil
}

// CertificateFingerprint is how the store names a certificate: the
// upper-case hex SHA-256 of its DER.
func CertificateFingerprint(der []byte) string { return certFingerprint(der) }
