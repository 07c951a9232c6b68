package keystore

import (
	"crypto/x509"
	"errors"
	"time"
)

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
	for _, r := range s.all() {
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

// Revalidated records that the DNS answer a key came from (Source SMIMEA
// or OpenPGPKey) was asked again and still vouches for it: Obtained
// becomes now, DNSSEC and TTL those of the new answer.
func (s *Store) Revalidated(fpr, dnssec string, ttl uint32) error {
	return s.update(func(t *tx) error {
		r := t.find(fpr)
		if r == nil || (r.Source != SMIMEA && r.Source != OpenPGPKey) {
			return &NotFoundError{Query: "key from DNS " + fpr}
		}
		r.Obtained, r.DNSSEC, r.TTL = t.s.opts.now().UTC().Truncate(time.Second), dnssec, ttl
		t.changed = true
		return nil
	})
}

// SetCapabilities records what the owner of certificate fpr advertised in
// the smimeCapabilities of a verified signed message: AES-GCM and
// RSAES-OAEP (RFC 8551 §2.5.2). The latest message wins.
func (s *Store) SetCapabilities(fpr string, aesGCM, rsaOAEP bool) error {
	return s.update(func(t *tx) error {
		r := t.find(fpr)
		if r == nil || r.Kind != SMIME {
			return &NotFoundError{Query: "certificate " + fpr}
		}
		if r.AESGCM != aesGCM || r.RSAOAEP != rsaOAEP {
			r.AESGCM, r.RSAOAEP = aesGCM, rsaOAEP
			t.changed = true
		}
		return nil
	})
}
