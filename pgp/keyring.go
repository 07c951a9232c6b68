package pgp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/securemail/securemail/keystore"
)

// Keyring is where the keys for reading a message come from.
type Keyring interface {
	// Public returns the keys that have a primary key or subkey with
	// the key ID id, for verifying signatures.
	Public(id uint64) []*openpgp.Entity
	// Secret returns the user's own keys, unlocked, whose encryption
	// key has the key ID id (0: all of them, for a message to hidden
	// recipients). It returns nothing, and asks for no passphrase, when
	// no identity has such a key.
	Secret(id uint64) ([]*openpgp.Entity, error)
}

// Entities is a Keyring over keys in memory: public keys for verifying,
// and keys whose private parts are decrypted for decrypting.
type Entities []*openpgp.Entity

// Public implements Keyring.
func (es Entities) Public(id uint64) []*openpgp.Entity { return withKeyID(es, id) }

// Secret implements Keyring.
func (es Entities) Secret(id uint64) ([]*openpgp.Entity, error) {
	var out []*openpgp.Entity
	for _, e := range es {
		if e.PrivateKey != nil && !e.PrivateKey.Encrypted && hasEncryptionKey(e, id) {
			out = append(out, e)
		}
	}
	return out, nil
}

// withKeyID returns the entities with a key whose ID is id.
func withKeyID(es []*openpgp.Entity, id uint64) []*openpgp.Entity {
	var out []*openpgp.Entity
	for _, e := range es {
		if hasKeyID(e, id) {
			out = append(out, e)
		}
	}
	return out
}

func hasKeyID(e *openpgp.Entity, id uint64) bool {
	if e.PrimaryKey.KeyId == id {
		return true
	}
	for _, s := range e.Subkeys {
		if s.PublicKey.KeyId == id {
			return true
		}
	}
	return false
}

// hasEncryptionKey reports whether e has a key usable for decryption with
// the key ID id (0: any).
func hasEncryptionKey(e *openpgp.Entity, id uint64) bool {
	for _, k := range e.DecryptionKeys(id, time.Time{}, nil) {
		if id == 0 || k.PublicKey.KeyId == id {
			return true
		}
	}
	return false
}

// StoreKeyring reads keys from a keystore: the user's identities for
// decrypting (unlocked on first use, with Passphrase when they are
// sealed with one) and contacts for verifying.
type StoreKeyring struct {
	Store *keystore.Store
	// Passphrase is asked for the passphrase of a sealed identity, once
	// per key. Nil means protected identities cannot be unlocked.
	Passphrase func(e keystore.Entry) ([]byte, error)
	// Senders are addresses whose keys are looked at when a signature
	// names a key ID that is not a primary key (a signing subkey): the
	// From address of the message being read.
	Senders []string

	mu       sync.Mutex
	loaded   bool
	idents   []identity
	contacts map[string]*openpgp.Entity // by fingerprint
	unlocked map[string]*openpgp.Entity
}

type identity struct {
	entry  keystore.Entry
	public *openpgp.Entity
}

func (s *StoreKeyring) load() {
	if s.loaded {
		return
	}
	s.loaded = true
	s.contacts = map[string]*openpgp.Entity{}
	s.unlocked = map[string]*openpgp.Entity{}
	for _, e := range s.Store.Entries() {
		if e.Kind != keystore.PGP || !e.Secret {
			continue
		}
		if pub, err := s.Store.PGPKey(e.Fingerprint); err == nil {
			s.idents = append(s.idents, identity{e, pub})
			s.contacts[e.Fingerprint] = pub
		}
	}
}

// Public implements Keyring: the key whose primary key ID is id (its
// fingerprint ends with it for v4 keys, starts with it for v6), the
// identities, and the keys of Senders.
func (s *StoreKeyring) Public(id uint64) []*openpgp.Entity {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	var out []*openpgp.Entity
	seen := map[string]bool{}
	add := func(e *openpgp.Entity) {
		f := fingerprint(e)
		if !seen[f] && hasKeyID(e, id) {
			seen[f] = true
			out = append(out, e)
		}
	}
	for _, id := range s.idents {
		add(id.public)
	}
	hexID := fmt.Sprintf("%016X", id)
	for _, e := range s.Store.Entries() {
		if e.Kind == keystore.PGP && (strings.HasSuffix(e.Fingerprint, hexID) || strings.HasPrefix(e.Fingerprint, hexID)) {
			if k := s.contact(e.Fingerprint); k != nil {
				add(k)
			}
		}
	}
	for _, addr := range s.Senders {
		for _, e := range s.Store.Lookup(addr) {
			if e.Kind == keystore.PGP {
				if k := s.contact(e.Fingerprint); k != nil {
					add(k)
				}
			}
		}
	}
	return out
}

func (s *StoreKeyring) contact(fpr string) *openpgp.Entity {
	if k, ok := s.contacts[fpr]; ok {
		return k
	}
	k, err := s.Store.PGPKey(fpr)
	if err != nil {
		k = nil
	}
	s.contacts[fpr] = k
	return k
}

// Secret implements Keyring: it unlocks only identities with an
// encryption key of that ID.
func (s *StoreKeyring) Secret(id uint64) ([]*openpgp.Entity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	var out []*openpgp.Entity
	var errs []error
	for _, ident := range s.idents {
		if !hasEncryptionKey(ident.public, id) {
			continue
		}
		fpr := ident.entry.Fingerprint
		if k, ok := s.unlocked[fpr]; ok {
			if k != nil {
				out = append(out, k)
			}
			continue
		}
		var pass []byte
		if ident.entry.Protected {
			if s.Passphrase == nil {
				errs = append(errs, &keystore.PassphraseError{Err: fmt.Errorf("pgp: key %s is protected: a passphrase is needed", fpr)})
				continue
			}
			p, err := s.Passphrase(ident.entry)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			pass = p
		}
		k, err := s.Store.UnlockPGP(fpr, pass)
		clear(pass)
		if err != nil {
			s.unlocked[fpr] = nil
			errs = append(errs, err)
			continue
		}
		s.unlocked[fpr] = k
		out = append(out, k)
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// fingerprint is the upper-case hex fingerprint of an entity's primary key.
func fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// ring adapts a Keyring to go-crypto's openpgp.KeyRing, remembering why an
// identity could not be unlocked so the caller hears that, not "no key".
type ring struct {
	k   Keyring
	err error
	// found: a secret key for one of the message's recipients was
	// available.
	found bool
}

func (r *ring) EntitiesById(id uint64) []*openpgp.Entity {
	sec, err := r.k.Secret(id)
	if err != nil && r.err == nil {
		r.err = err
	}
	if len(sec) > 0 {
		r.found = true
		return sec
	}
	return r.k.Public(id)
}

func (r *ring) KeysById(id uint64) []openpgp.Key {
	var out []openpgp.Key
	for _, e := range r.EntitiesById(id) {
		out = append(out, openpgp.EntityList{e}.KeysById(id)...)
	}
	return out
}
