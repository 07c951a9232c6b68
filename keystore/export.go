package keystore

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

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
