package keystore

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/securemail/securemail/keystore/internal/pkcs8"
)

// Export formats.
const (
	ExportArmor  = "armor"  // OpenPGP, ASCII-armored
	ExportBinary = "binary" // OpenPGP, binary packets
	ExportPEM    = "pem"    // X.509 certificate; with the secret: encrypted PKCS#8 then the certificate
	ExportDER    = "der"    // X.509 certificate; with the secret: encrypted PKCS#8
	ExportP12    = "p12"    // PKCS#12 (AES-256-CBC, PBKDF2-SHA256, HMAC-SHA256) with the secret
)

// FormatKind returns the kind of key an export format is for, or "".
func FormatKind(format string) Kind {
	switch format {
	case ExportArmor, ExportBinary:
		return PGP
	case ExportPEM, ExportDER, ExportP12:
		return SMIME
	}
	return ""
}

// pbkdf2Iterations protects exported PKCS#8 keys.
const pbkdf2Iterations = 600000

// Export writes the public key or certificate fpr in format ("" picks
// armor for OpenPGP and pem for S/MIME).
func (s *Store) Export(w io.Writer, fpr, format string) error {
	rec, public, _, err := s.loadObjects(fpr)
	if err != nil {
		return err
	}
	format, err = exportFormat(rec.Kind, format)
	if err != nil {
		return err
	}
	switch format {
	case ExportArmor:
		return armorPGP(w, openpgp.PublicKeyType, public)
	case ExportBinary, ExportDER:
		_, err = w.Write(public)
		return err
	case ExportPEM:
		return pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: public})
	}
	return &FormatError{Reason: "a PKCS#12 file carries the private key: export it with the secret"}
}

// ExportSecret writes the secret key fpr protected by a passphrase, in a
// form other tools read: for OpenPGP a transferable secret key GnuPG
// imports; for S/MIME encrypted PKCS#8 (openssl pkey) or PKCS#12 (openssl
// pkcs12). The passphrase unlocks the stored key and protects the export.
func (s *Store) ExportSecret(w io.Writer, fpr, format string, passphrase []byte) error {
	if len(passphrase) == 0 {
		return &PassphraseError{Err: errors.New("keystore: an exported secret key needs a passphrase to protect it")}
	}
	rec, err := s.Resolve(fpr, "")
	if err != nil {
		return err
	}
	format, err = exportFormat(rec.Kind, format)
	if err != nil {
		return err
	}
	if !rec.Secret {
		return &NotFoundError{Query: "secret key " + rec.Fingerprint}
	}
	if rec.Kind == PGP {
		e, err := s.UnlockPGP(rec.Fingerprint, passphrase)
		if err != nil {
			return err
		}
		data, err := exportPGPSecret(e, passphrase)
		if err != nil {
			return err
		}
		if format == ExportBinary {
			_, err = w.Write(data)
			return err
		}
		return armorPGP(w, openpgp.PrivateKeyType, data)
	}
	key, cert, err := s.UnlockSMIME(rec.Fingerprint, passphrase)
	if err != nil {
		return err
	}
	if format == ExportP12 {
		data, err := pkcs12.Modern2023.WithIterations(pbkdf2Iterations).WithRand(s.opts.rand()).Encode(key, cert, nil, string(passphrase))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	enc, err := pkcs8.Encrypt(s.opts.rand(), der, passphrase, pbkdf2Iterations)
	if err != nil {
		return err
	}
	if format == ExportDER {
		_, err = w.Write(enc)
		return err
	}
	if err := pem.Encode(w, &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc}); err != nil {
		return err
	}
	return pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func exportFormat(kind Kind, format string) (string, error) {
	if format == "" {
		if kind == PGP {
			return ExportArmor, nil
		}
		return ExportPEM, nil
	}
	fk := FormatKind(format)
	if fk == "" {
		return "", &FormatError{Reason: fmt.Sprintf("unknown format %q (armor, binary, pem, der or p12)", format)}
	}
	if fk != kind {
		return "", &FormatError{Reason: fmt.Sprintf("format %s is not for %s keys", format, kind)}
	}
	return format, nil
}

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
	if err != nil {
		return nil, &IntegrityError{Fingerprint: fpr, Reason: "stored certificate does not parse"}
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
	if err != nil {
		return nil, nil, &IntegrityError{Fingerprint: fpr, Reason: "stored certificate does not parse"}
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

// SecretKeyError says a secret key would be deleted without the caller
// saying so.
type SecretKeyError struct {
	Fingerprint string
}

func (e *SecretKeyError) Error() string {
	return "keystore: " + e.Fingerprint + " is one of your secret keys: deleting it needs --secret"
}

// Delete removes the key fpr. Deleting a secret key needs secret set.
func (s *Store) Delete(fpr string, secret bool) error {
	return s.update(func(t *tx) error {
		r := t.find(fpr)
		if r == nil {
			return &NotFoundError{Query: fpr}
		}
		if r.Secret && !secret {
			return &SecretKeyError{Fingerprint: fpr}
		}
		t.remove(fpr)
		return nil
	})
}

// NotCAError says a certificate that is not a CA was offered as an S/MIME
// trust anchor.
type NotCAError struct {
	Fingerprint string
}

func (e *NotCAError) Error() string {
	return "keystore: certificate " + e.Fingerprint + " is not a CA certificate (basicConstraints cA is not set): only CAs can be trust anchors"
}

// SetTrustAnchor makes the CA certificate fpr an S/MIME trust anchor, or
// removes it as one.
func (s *Store) SetTrustAnchor(fpr string, on bool) error {
	return s.update(func(t *tx) error {
		r := t.find(fpr)
		if r == nil || r.Kind != SMIME {
			return &NotFoundError{Query: "certificate " + fpr}
		}
		if on && !r.CA {
			return &NotCAError{Fingerprint: fpr}
		}
		if r.TrustAnchor != on {
			r.TrustAnchor = on
			t.changed = true
		}
		return nil
	})
}

// TrustAnchors returns the certificates the user made S/MIME trust anchors.
func (s *Store) TrustAnchors() ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, r := range s.recs {
		if !r.TrustAnchor {
			continue
		}
		c, err := s.Certificate(r.Fingerprint)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// AddTrustAnchor imports the one CA certificate in in (if it is not stored
// yet) and makes it an S/MIME trust anchor. Anything but a single CA
// certificate is refused before the store changes.
func (s *Store) AddTrustAnchor(in Input) (Entry, error) {
	p, err := parseInput(in, func() ([]byte, error) { return nil, errors.New("keystore: a trust anchor file needs no passphrase") })
	if err != nil {
		return Entry{}, err
	}
	if len(p.certs) != 1 || len(p.pgps)+len(p.keys)+len(p.revs) != 0 || p.certs[0].key != nil {
		return Entry{}, &FormatError{Source: in.Name, Reason: "a trust anchor file must hold exactly one certificate and nothing else"}
	}
	cert := p.certs[0].cert
	ent := smimeEntry(cert)
	if !ent.CA {
		return Entry{}, &NotCAError{Fingerprint: ent.Fingerprint}
	}
	err = s.update(func(t *tx) error {
		if t.find(ent.Fingerprint) == nil {
			r, err := t.importCert(p.certs[0], &ImportOptions{AllowExpired: true}, nil)
			if err != nil {
				return err
			}
			if r.Status == StatusRejected {
				return &RejectedError{Fingerprint: r.Fingerprint, Reason: r.Reason}
			}
		}
		r := t.find(ent.Fingerprint)
		if !r.TrustAnchor {
			r.TrustAnchor = true
			t.changed = true
		}
		ent = r.Entry
		return nil
	})
	return ent, err
}
