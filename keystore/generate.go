package keystore

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// DefaultLifetime is how long new keys and certificates are valid.
const DefaultLifetime = 3 * 365 * 24 * time.Hour

// GenerateRequest says what keys to make.
type GenerateRequest struct {
	Email string
	Name  string
	PGP   bool // make an OpenPGP key
	SMIME bool // make a self-signed S/MIME certificate and key
	// Algo is "" (the default: ed25519 for OpenPGP, rsa3072 for S/MIME),
	// "ed25519" (OpenPGP only), "ed25519-v6" (OpenPGP only: an RFC 9580
	// v6 key, which GnuPG 2.2 cannot read), "rsa3072", "rsa4096" or
	// "p256".
	Algo string
	// Lifetime of the keys: 0 means DefaultLifetime, negative means no expiry.
	Lifetime time.Duration
	// Passphrase seals the secret keys. It is required unless NoPassphrase
	// is set: keys are stored unprotected only when asked for (S53).
	Passphrase   []byte
	NoPassphrase bool
	// Pin makes the new keys the pinned keys for Email even when other
	// keys are pinned there.
	Pin bool
}

// Validate checks a request before anything costly (asking for a
// passphrase, making keys) is done.
func (req *GenerateRequest) Validate() error {
	a, err := mail.ParseAddress(req.Email)
	if err != nil || a.Address != req.Email || !plausibleAddress(a.Address) {
		return &FormatError{Reason: fmt.Sprintf("%q is not an email address", req.Email)}
	}
	if (req.Algo == "ed25519" || req.Algo == "ed25519-v6") && (req.SMIME || !req.PGP) {
		return &FormatError{Reason: req.Algo + " is offered for OpenPGP keys only (S/MIME: rsa3072, rsa4096 or p256): add --pgp"}
	}
	switch req.Algo {
	case "", "ed25519", "ed25519-v6", "rsa3072", "rsa4096", "p256":
	default:
		return &FormatError{Reason: fmt.Sprintf("unknown algorithm %q (ed25519, ed25519-v6, rsa3072, rsa4096 or p256)", req.Algo)}
	}
	if req.Lifetime > MaxLifetime {
		return &FormatError{Reason: "keys are valid for 100 years at most"}
	}
	return nil
}

// MaxLifetime is the longest validity a new key can have.
const MaxLifetime = 100 * 366 * 24 * time.Hour

// Generate makes the requested keys and stores them as identities.
func (s *Store) Generate(req GenerateRequest) ([]ImportResult, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if len(req.Passphrase) == 0 && !req.NoPassphrase {
		return nil, &PassphraseError{Err: errors.New("keystore: new secret keys need a passphrase (or NoPassphrase, explicitly)")}
	}
	if req.NoPassphrase {
		req.Passphrase = nil
	}
	addr := NormalizeEmail(req.Email)
	if !req.PGP && !req.SMIME {
		req.PGP, req.SMIME = true, true
	}
	lifetime := req.Lifetime
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	now := s.opts.now()
	opts := &ImportOptions{Source: Generated, Origin: "keys generate", Pin: req.Pin}
	sealWith := func(pt []byte, fpr string) ([]byte, error) {
		return seal(s.opts.rand(), s.opts.kdf(), req.Passphrase, pt, fpr)
	}
	var pgps []pgpItem
	var certs []certItem
	if req.PGP {
		e, err := newPGPKey(addr, req.Name, req.Algo, now, lifetime)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := e.SerializePrivateWithoutSigning(&buf, nil); err != nil {
			return nil, err
		}
		pgps = append(pgps, pgpItem{src: "keys generate", entity: publicOnly(e), secret: buf.Bytes()})
	}
	if req.SMIME {
		key, err := newSMIMEKey(s.opts.rand(), req.Algo)
		if err != nil {
			return nil, err
		}
		der, err := selfSignedSMIME(s.opts.rand(), key, addr, req.Name, now, lifetime)
		if err != nil {
			return nil, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		pk8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		certs = append(certs, certItem{src: "keys generate", cert: cert, key: pk8})
	}
	return s.commit(parsed{pgps: pgps, certs: certs}, opts, sealWith)
}

// newPGPKey makes a v4 OpenPGP key GnuPG 2.2 can use: an Ed25519 (EdDSA
// legacy) primary key with a Curve25519 ECDH subkey by default, or RSA /
// NIST P-256 on request.
func newPGPKey(addr, name, algo string, now time.Time, lifetime time.Duration) (*openpgp.Entity, error) {
	cfg := pgpConfig(func() time.Time { return now })
	switch algo {
	case "", "ed25519":
		cfg.Algorithm, cfg.Curve = packet.PubKeyAlgoEdDSA, packet.Curve25519
	case "ed25519-v6":
		// RFC 9580: a v6 Ed25519 key with an X25519 subkey that asks for
		// SEIPDv2 (AEAD, OCB first), used when every recipient can.
		cfg.V6Keys, cfg.Algorithm = true, packet.PubKeyAlgoEd25519
		cfg.AEADConfig = &packet.AEADConfig{DefaultMode: packet.AEADModeOCB}
	case "rsa3072":
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 3072
	case "rsa4096":
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 4096
	case "p256":
		cfg.Algorithm, cfg.Curve = packet.PubKeyAlgoECDSA, packet.CurveNistP256
	default:
		return nil, &FormatError{Reason: fmt.Sprintf("unknown algorithm %q", algo)}
	}
	if lifetime > 0 {
		cfg.KeyLifetimeSecs = uint32(lifetime / time.Second)
	}
	e, err := openpgp.NewEntity(name, "", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("keystore: generate OpenPGP key: %w", err)
	}
	return e, nil
}
