package keystore

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// PGPKey returns the public OpenPGP key fpr.
func (s *Store) PGPKey(fpr string) (*openpgp.Entity, error) {
	rec, public, _, err := s.loadObjects(fpr)
	if err != nil {
		return nil, err
	}
	if rec.Kind != PGP {
		return nil, &NotFoundError{Query: "OpenPGP key " + fpr}
	}
	return readOnePGP(public, fpr)
}

// Certificate returns the certificate fpr.
func (s *Store) Certificate(fpr string) (*x509.Certificate, error) {
	rec, public, _, err := s.loadObjects(fpr)
	if err != nil {
		return nil, err
	}
	if rec.Kind != SMIME {
		return nil, &NotFoundError{Query: "certificate " + fpr}
	}
	c, err := x509.ParseCertificate(public)
	if err != nil || certFingerprint(c.Raw) != rec.Fingerprint {
		return nil, &IntegrityError{Fingerprint: fpr, Reason: "stored certificate does not parse or is not the one the index names"}
	}
	return c, nil
}

// secretPlaintext opens the sealed secret of rec. A nil passphrase opens
// only keys stored without one.
func (s *Store) secretPlaintext(fpr string, passphrase []byte) (record, []byte, []byte, error) {
	rec, public, env, err := s.loadObjects(fpr)
	if err != nil {
		return rec, nil, nil, err
	}
	if env == nil {
		return rec, nil, nil, &NotFoundError{Query: "secret key " + fpr}
	}
	pt, err := open(env, passphrase, fpr)
	if errors.Is(err, errNeedPassphrase) {
		return rec, nil, nil, &PassphraseError{Err: fmt.Errorf("keystore: key %s is protected: a passphrase is needed", fpr)}
	}
	return rec, public, pt, err
}

// NeedsPassphrase reports whether the secret key fpr is sealed with one.
func (s *Store) NeedsPassphrase(fpr string) bool {
	e, ok := s.Get(fpr)
	return ok && e.Secret && e.Protected
}

// UnlockPGP returns the OpenPGP key fpr with its private keys decrypted.
// The sealed secret must belong to the stored public key: a secret key
// whose public parameters differ is refused (S54).
func (s *Store) UnlockPGP(fpr string, passphrase []byte) (*openpgp.Entity, error) {
	rec, public, pt, err := s.secretPlaintext(fpr, passphrase)
	if err != nil {
		return nil, err
	}
	if rec.Kind != PGP {
		return nil, &NotFoundError{Query: "OpenPGP key " + fpr}
	}
	pub, err := readOnePGP(public, fpr)
	if err != nil {
		return nil, err
	}
	priv, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(pt)))
	if err != nil {
		return nil, &IntegrityError{Fingerprint: fpr, Reason: "sealed secret key does not parse: " + err.Error()}
	}
	if err := checkPGPSecret(priv); err != nil {
		return nil, err
	}
	if err := attachSecret(pub, priv); err != nil {
		return nil, err
	}
	return pub, nil
}

// UnlockSMIME returns the private key and certificate fpr. The key must be
// consistent and belong to the certificate (S54).
func (s *Store) UnlockSMIME(fpr string, passphrase []byte) (crypto.Signer, *x509.Certificate, error) {
	rec, public, pt, err := s.secretPlaintext(fpr, passphrase)
	if err != nil {
		return nil, nil, err
	}
	if rec.Kind != SMIME {
		return nil, nil, &NotFoundError{Query: "S/MIME key " + fpr}
	}
	cert, err := x509.ParseCertificate(public)
	if err != nil || certFingerprint(cert.Raw) != rec.Fingerprint {
		return nil, nil, &IntegrityError{Fingerprint: fpr, Reason: "stored certificate does not parse or is not the one the index names"}
	}
	k, err := x509.ParsePKCS8PrivateKey(pt)
	if err != nil {
		return nil, nil, &IntegrityError{Fingerprint: fpr, Reason: "sealed private key does not parse"}
	}
	if err := checkPrivateKey(k); err != nil || !keyMatchesCert(k, cert) {
		return nil, nil, &IntegrityError{Fingerprint: fpr, Reason: "private key does not match its certificate"}
	}
	return k.(crypto.Signer), cert, nil
}
