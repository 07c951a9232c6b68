package keystore

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// pgpConfig is the one place where the OpenPGP algorithm policy of the
// store lives: SHA-1 and weaker are never accepted for self-signatures we
// rely on, and new keys are v4 so that GnuPG 2.2 can use them.
func pgpConfig(now func() time.Time) *packet.Config {
	return &packet.Config{
		Time:                 now,
		DefaultHash:          crypto.SHA256,
		DefaultCipher:        packet.CipherAES256,
		RejectHashAlgorithms: map[crypto.Hash]bool{crypto.MD5: true, crypto.RIPEMD160: true},
		MinRSABits:           2048,
	}
}

// pgpFingerprint is the upper-case hex fingerprint of an entity.
func pgpFingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// readPGP parses every key in an OpenPGP keyring (binary).
func readPGP(data []byte) ([]*openpgp.Entity, error) {
	r := packet.NewReader(bytes.NewReader(data))
	var out []*openpgp.Entity
	for {
		e, err := openpgp.ReadEntity(r)
		if err == io.EOF {
			if len(out) == 0 {
				return nil, fmt.Errorf("no OpenPGP key in input")
			}
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("malformed OpenPGP key (after %d good keys): %v", len(out), err)
		}
		out = append(out, e)
	}
}

// readOnePGP parses a stored keyring object that holds exactly one key.
func readOnePGP(data []byte, fpr string) (*openpgp.Entity, error) {
	es, err := readPGP(data)
	if err != nil {
		return nil, &IntegrityError{Fingerprint: fpr, Reason: err.Error()}
	}
	if len(es) != 1 || pgpFingerprint(es[0]) != fpr {
		return nil, &IntegrityError{Fingerprint: fpr, Reason: "stored key does not have the fingerprint the index names"}
	}
	return es[0], nil
}

// serializePGP writes the public part of e in a stable order (identities
// sorted by user ID), so that the same key always yields the same bytes.
func serializePGP(e *openpgp.Entity) ([]byte, error) { return serializeEntity(e, false) }

// serializeEntity writes e as a transferable public key, or, with secret,
// as a transferable secret key (private key packets as they are: encrypted
// or not), in the stable order of serializePGP.
func serializeEntity(e *openpgp.Entity, secret bool) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if secret && e.PrivateKey == nil {
		return nil, errors.New("keystore: no secret primary key to serialize")
	}
	if secret {
		err = e.PrivateKey.Serialize(&buf)
	} else {
		err = e.PrimaryKey.Serialize(&buf)
	}
	if err != nil {
		return nil, err
	}
	for _, s := range slices.Concat(e.Revocations, e.DirectSignatures) {
		if err := s.Packet.Serialize(&buf); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedIdentities(e) {
		if err := e.Identities[name].Serialize(&buf); err != nil {
			return nil, err
		}
	}
	for i := range e.Subkeys {
		if err := e.Subkeys[i].Serialize(&buf, secret && e.Subkeys[i].PrivateKey != nil); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func sortedIdentities(e *openpgp.Entity) []string {
	names := make([]string, 0, len(e.Identities))
	for n := range e.Identities {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// pgpEntry describes a key: addresses of its valid, unrevoked user IDs,
// expiry and revocation from its verified self-signatures.
func pgpEntry(e *openpgp.Entity, now time.Time) (Entry, error) {
	cfg := pgpConfig(func() time.Time { return now })
	ent := Entry{
		Kind:        PGP,
		Fingerprint: pgpFingerprint(e),
		Algorithm:   pgpAlgorithm(e.PrimaryKey),
		Created:     e.PrimaryKey.CreationTime.UTC(),
		Emails:      []string{},
		Pinned:      []string{},
	}
	// The self-signature that carries the key's expiry, checked without a
	// clock so that an expired key still describes itself.
	selfSig, err := e.PrimarySelfSignature(time.Time{}, cfg)
	if err != nil {
		return ent, fmt.Errorf("key %s has no valid self-signature", ent.Fingerprint)
	}
	if selfSig.KeyLifetimeSecs != nil && *selfSig.KeyLifetimeSecs != 0 {
		exp := e.PrimaryKey.CreationTime.Add(time.Duration(*selfSig.KeyLifetimeSecs) * time.Second).UTC()
		ent.Expires = &exp
	}
	ent.Revoked = e.Revoked(now)
	for _, name := range sortedIdentities(e) {
		id := e.Identities[name]
		if _, err := id.Verify(time.Time{}, cfg); err != nil {
			continue // no valid self-certification, or revoked
		}
		ent.UserIDs = append(ent.UserIDs, name)
		if addr := userIDEmail(id.UserId); addr != "" && !slices.Contains(ent.Emails, addr) {
			ent.Emails = append(ent.Emails, addr)
		}
	}
	slices.Sort(ent.Emails)
	return ent, nil
}

// userIDEmail extracts the address of a user ID: "Name <addr>" or a bare
// address. Anything that does not parse as an address yields "".
func userIDEmail(uid *packet.UserId) string {
	cand := uid.Email
	if cand == "" {
		cand = strings.TrimSpace(uid.Id)
	}
	a, err := mail.ParseAddress(cand)
	if err != nil || !plausibleAddress(a.Address) {
		return ""
	}
	return NormalizeEmail(a.Address)
}

func pgpAlgorithm(pk *packet.PublicKey) string {
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		bits, _ := pk.BitLength()
		return fmt.Sprintf("rsa%d", bits)
	case packet.PubKeyAlgoEdDSA, packet.PubKeyAlgoEd25519:
		return "ed25519"
	case packet.PubKeyAlgoEd448:
		return "ed448"
	case packet.PubKeyAlgoECDSA:
		c, _ := pk.Curve()
		return "ecdsa-" + strings.ToLower(string(c))
	case packet.PubKeyAlgoDSA:
		return "dsa"
	}
	return fmt.Sprintf("algo%d", pk.PubKeyAlgo)
}

// mergePGP adds to old what new carries that old lacks: user IDs and their
// signatures, subkeys and their bindings, revocations and direct-key
// signatures. Only self-signatures that verify against the primary key are
// taken, so a third party cannot add a user ID or a subkey; third-party
// certifications are dropped. It reports whether anything was added.
func mergePGP(old, add *openpgp.Entity) bool {
	pk := old.PrimaryKey
	changed := false
	mergeSigs := func(dst *[]*packet.VerifiableSignature, src []*packet.VerifiableSignature, verify func(*packet.Signature) error) {
		for _, s := range src {
			if verify != nil && verify(s.Packet) != nil {
				continue
			}
			if !containsSig(*dst, s.Packet) {
				*dst = append(*dst, s)
				changed = true
			}
		}
	}
	mergeSigs(&old.Revocations, add.Revocations, pk.VerifyRevocationSignature)
	mergeSigs(&old.DirectSignatures, add.DirectSignatures, pk.VerifyDirectKeySignature)
	for name, id := range add.Identities {
		verifyUID := func(s *packet.Signature) error { return pk.VerifyUserIdSignature(name, pk, s) }
		cur, ok := old.Identities[name]
		if !ok {
			fresh := &openpgp.Identity{Primary: old, Name: name, UserId: id.UserId}
			mergeSigs(&fresh.SelfCertifications, id.SelfCertifications, verifyUID)
			if len(fresh.SelfCertifications) == 0 {
				continue
			}
			mergeSigs(&fresh.Revocations, id.Revocations, verifyUID)
			old.Identities[name] = fresh
			continue
		}
		mergeSigs(&cur.SelfCertifications, id.SelfCertifications, verifyUID)
		mergeSigs(&cur.Revocations, id.Revocations, verifyUID)
		// Third-party certifications are not kept: nothing here uses a web
		// of trust, and unverifiable signatures only let anyone flood a key.
	}
	for _, sk := range add.Subkeys {
		verifyBinding := func(s *packet.Signature) error { return pk.VerifyKeySignature(sk.PublicKey, s) }
		verifyRev := func(s *packet.Signature) error { return pk.VerifySubkeyRevocationSignature(s, sk.PublicKey) }
		i := slices.IndexFunc(old.Subkeys, func(o openpgp.Subkey) bool {
			return bytes.Equal(o.PublicKey.Fingerprint, sk.PublicKey.Fingerprint)
		})
		if i < 0 {
			fresh := openpgp.Subkey{Primary: old, PublicKey: sk.PublicKey}
			mergeSigs(&fresh.Bindings, sk.Bindings, verifyBinding)
			if len(fresh.Bindings) == 0 {
				continue
			}
			mergeSigs(&fresh.Revocations, sk.Revocations, verifyRev)
			old.Subkeys = append(old.Subkeys, fresh)
			continue
		}
		mergeSigs(&old.Subkeys[i].Bindings, sk.Bindings, verifyBinding)
		mergeSigs(&old.Subkeys[i].Revocations, sk.Revocations, verifyRev)
	}
	return changed
}

func containsSig(list []*packet.VerifiableSignature, s *packet.Signature) bool {
	var want bytes.Buffer
	if s.Serialize(&want) != nil {
		return false
	}
	for _, o := range list {
		var got bytes.Buffer
		if o.Packet.Serialize(&got) == nil && bytes.Equal(got.Bytes(), want.Bytes()) {
			return true
		}
	}
	return false
}

// verifiedPGP returns a copy of e holding only what its primary key vouches
// for: user IDs with a valid self-certification, subkeys with a valid
// binding (with their private keys, if any), and revocations and direct-key
// signatures that verify. A subkey whose public parameters were altered no
// longer matches its binding and is dropped.
func verifiedPGP(e *openpgp.Entity) *openpgp.Entity {
	v := &openpgp.Entity{PrimaryKey: e.PrimaryKey, PrivateKey: e.PrivateKey, Identities: map[string]*openpgp.Identity{}}
	mergePGP(v, e)
	for i := range v.Subkeys {
		for _, sk := range e.Subkeys {
			if bytes.Equal(sk.PublicKey.Fingerprint, v.Subkeys[i].PublicKey.Fingerprint) {
				v.Subkeys[i].PrivateKey = sk.PrivateKey
			}
		}
	}
	return v
}

// publicOnly returns a copy of e with its private key material removed.
func publicOnly(e *openpgp.Entity) *openpgp.Entity {
	c := *e
	c.PrivateKey = nil
	c.Subkeys = slices.Clone(e.Subkeys)
	for i := range c.Subkeys {
		c.Subkeys[i].PrivateKey = nil
	}
	return &c
}

// hasSecret reports whether e carries private key material (not only GNU
// dummy stubs).
func hasSecret(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && !e.PrivateKey.Dummy() {
		return true
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil && !sk.PrivateKey.Dummy() {
			return true
		}
	}
	return false
}

// pgpSecretPlaintext unlocks every encrypted private key of e with
// passphrase (when needed) and returns the unencrypted transferable secret
// key, which the store then seals. go-crypto checks that each decrypted
// private key matches its public parameters (S54); we check again that the
// packets we keep describe the same key.
func pgpSecretPlaintext(e *openpgp.Entity, passphrase func() ([]byte, error)) ([]byte, error) {
	fpr := pgpFingerprint(e)
	if e.PrivateKey == nil {
		// Secret subkeys under a public primary key packet: not a
		// transferable secret key (RFC 9580 §10.2).
		return nil, &FormatError{Reason: "key " + fpr + " has secret subkeys but no secret (or stub) primary key"}
	}
	if needsDecryption(e) {
		pw, err := passphrase()
		if err != nil {
			return nil, err
		}
		if err := e.DecryptPrivateKeys(pw); err != nil {
			var invalid pgperrors.KeyInvalidError
			var structural pgperrors.StructuralError
			switch {
			case errors.As(err, &invalid):
				// The secret decrypted, but does not fit the public
				// parameters beside it (S54).
				return nil, &IntegrityError{Fingerprint: fpr, Reason: "secret key does not match its public key: " + err.Error()}
			case errors.As(err, &structural) && strings.Contains(err.Error(), "checksum"):
				return nil, ErrWrongPassphrase
			case errors.Is(err, pgperrors.ErrKeyIncorrect):
				return nil, ErrWrongPassphrase
			}
			// AEAD-protected keys (S2K usage 253) fail authentication
			// both for a wrong passphrase and for tampering.
			return nil, fmt.Errorf("%w (or the key is corrupt): %v", ErrWrongPassphrase, err)
		}
	}
	if err := checkPGPSecret(e); err != nil {
		return nil, err
	}
	return serializeEntity(verifiedPGP(e), true)
}

func needsDecryption(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && e.PrivateKey.Encrypted {
		return true
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil && sk.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

// checkPGPSecret verifies that every private key of e belongs to the public
// key beside it: same fingerprint, and a signing key can make a signature
// that its public key verifies (S54).
func checkPGPSecret(e *openpgp.Entity) error {
	fpr := pgpFingerprint(e)
	check := func(priv *packet.PrivateKey, pub *packet.PublicKey) error {
		if priv == nil || priv.Dummy() {
			return nil
		}
		if priv.Encrypted {
			return &IntegrityError{Fingerprint: fpr, Reason: "secret key is still encrypted"}
		}
		if !bytes.Equal(priv.PublicKey.Fingerprint, pub.Fingerprint) {
			return &IntegrityError{Fingerprint: fpr, Reason: "secret key packet belongs to another key"}
		}
		if !priv.CanSign() {
			return nil
		}
		sig := &packet.Signature{Version: priv.Version, SigType: packet.SigTypeBinary, PubKeyAlgo: priv.PubKeyAlgo, Hash: crypto.SHA256, CreationTime: time.Unix(0, 0), IssuerKeyId: &priv.KeyId}
		h := crypto.SHA256.New()
		h.Write([]byte("securemail keystore self-test"))
		h2 := crypto.SHA256.New()
		h2.Write([]byte("securemail keystore self-test"))
		if err := sig.Sign(h, priv, nil); err != nil {
			return &IntegrityError{Fingerprint: fpr, Reason: "secret key cannot sign: " + err.Error()}
		}
		if err := pub.VerifySignature(h2, sig); err != nil {
			return &IntegrityError{Fingerprint: fpr, Reason: "secret key does not match its public parameters"}
		}
		return nil
	}
	if err := check(e.PrivateKey, e.PrimaryKey); err != nil {
		return err
	}
	for _, sk := range e.Subkeys {
		if err := check(sk.PrivateKey, sk.PublicKey); err != nil {
			return err
		}
	}
	return nil
}

// attachSecret moves the private keys of priv onto pub (the stored public
// key, which may have gained user IDs or subkeys since the secret was
// sealed), matching keys by fingerprint.
func attachSecret(pub, priv *openpgp.Entity) error {
	if priv.PrivateKey == nil || !bytes.Equal(pub.PrimaryKey.Fingerprint, priv.PrimaryKey.Fingerprint) {
		return &IntegrityError{Fingerprint: pgpFingerprint(pub), Reason: "sealed secret key belongs to another key"}
	}
	pub.PrivateKey = priv.PrivateKey
	pub.PrimaryKey = &priv.PrivateKey.PublicKey
	for i := range pub.Subkeys {
		for _, ps := range priv.Subkeys {
			if ps.PrivateKey != nil && bytes.Equal(ps.PublicKey.Fingerprint, pub.Subkeys[i].PublicKey.Fingerprint) {
				pub.Subkeys[i].PrivateKey = ps.PrivateKey
				pub.Subkeys[i].PublicKey = &ps.PrivateKey.PublicKey
			}
		}
	}
	return nil
}

// armorPGP ASCII-armors data with the given block type.
func armorPGP(w io.Writer, blockType string, data []byte) error {
	aw, err := armor.Encode(w, blockType, nil)
	if err != nil {
		return err
	}
	if _, err := aw.Write(data); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// exportPGPSecret protects every private key of e with passphrase the way
// GnuPG 2.2 reads it (iterated+salted S2K with SHA-256, AES-256, usage 254)
// and returns the transferable secret key.
func exportPGPSecret(e *openpgp.Entity, passphrase []byte) ([]byte, error) {
	cfg := &packet.Config{
		DefaultCipher: packet.CipherAES256,
		S2KConfig:     &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256, S2KCount: 65011712},
	}
	if err := e.EncryptPrivateKeys(passphrase, cfg); err != nil {
		return nil, err
	}
	return serializeEntity(e, true)
}

// readRevocations reads a revocation certificate: key revocation signature
// packets and nothing else.
func readRevocations(data []byte) ([]*packet.Signature, error) {
	r := packet.NewReader(bytes.NewReader(data))
	var out []*packet.Signature
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed revocation certificate: %v", err)
		}
		sig, ok := p.(*packet.Signature)
		if !ok || sig.SigType != packet.SigTypeKeyRevocation {
			return nil, fmt.Errorf("signatures alone are only accepted as key revocation certificates")
		}
		out = append(out, sig)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty revocation certificate")
	}
	return out, nil
}
