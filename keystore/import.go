package keystore

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/securemail/securemail/keystore/internal/pkcs8"
)

// Input is one file (or standard input) to import.
type Input struct {
	Name string // shown in errors; "-" for standard input
	Data []byte
}

// ImportOptions say where keys come from and how to treat them.
type ImportOptions struct {
	// Source is the provenance recorded for new keys; empty means Imported.
	Source Source
	// Origin says where exactly: a file name, a DNS owner name, a Message-ID.
	Origin string
	// DNSSEC and TTL record the DNS answer a key came from (Source SMIMEA).
	DNSSEC string
	TTL    uint32
	// Pin makes the imported keys the pinned keys for their addresses even
	// when other keys are pinned there (S28).
	Pin bool
	// AllowExpired keeps keys that have already expired (to verify old
	// signatures or decrypt old mail) instead of refusing them.
	AllowExpired bool
	// Passphrase is asked, at most once per call, when input is protected
	// (encrypted secret keys, PKCS#12), and to seal secret keys at rest
	// unless SealPassphrase is set.
	Passphrase func() ([]byte, error)
	// SealPassphrase, if set, is asked for the passphrase that seals
	// secret keys at rest (once per call); a CLI asks it twice on a
	// terminal, or reuses what Passphrase returned.
	SealPassphrase func() ([]byte, error)
	// NoPassphrase stores secret keys without a passphrase; unprotected
	// input then needs none.
	NoPassphrase bool
	// Sender, for keys found in a received message (Source Message), is the
	// address the message came from: keys that do not carry it, and keys
	// that claim one of the user's own addresses, are ignored (S28).
	Sender string
}

// ImportStatus says what an import did with one key.
type ImportStatus string

// The outcomes of importing one key.
const (
	StatusNew       ImportStatus = "new"       // the key was not in the store
	StatusMerged    ImportStatus = "merged"    // new user IDs, subkeys, signatures or the secret part were added
	StatusUnchanged ImportStatus = "unchanged" // the store had all of it already
	StatusRejected  ImportStatus = "rejected"  // refused: revoked, or expired without AllowExpired
	StatusPinned    ImportStatus = "pinned"    // already in the store, and now pinned for its addresses (Pin)
)

// ImportResult reports on one key.
type ImportResult struct {
	Kind        Kind         `json:"kind"`
	Fingerprint string       `json:"fingerprint"`
	Emails      []string     `json:"emails"`
	Secret      bool         `json:"secret"`
	Status      ImportStatus `json:"status"`
	Reason      string       `json:"reason,omitempty"`
	Conflicts   []Conflict   `json:"conflicts,omitempty"`
}

type pgpItem struct {
	src    string
	entity *openpgp.Entity // public part
	secret []byte          // unencrypted transferable secret key, or nil

	// Worked out before the store is locked (prepare).
	entry  Entry
	blob   []byte // serializePGP(entity)
	object string // its object name
	err    error  // why the key cannot be described (no valid self-signature)
}

// prepare does the costly work on an item (verifying self-signatures,
// serializing) before the store is locked, so readers and other writers
// wait as little as possible.
func (it *pgpItem) prepare(now time.Time) {
	if it.entry, it.err = pgpEntry(it.entity, now); it.err != nil {
		return
	}
	if it.blob, it.err = serializePGP(it.entity); it.err == nil {
		it.object = objectName(it.blob)
	}
}

type certItem struct {
	src  string
	cert *x509.Certificate
	key  []byte // PKCS#8 DER of the matching private key, or nil
}

type keyItem struct {
	src string
	key crypto.PrivateKey
	der []byte // PKCS#8
}

// Import reads keys and certificates from inputs and adds them to the
// store. Every input is parsed, and protected input decrypted, before the
// store is touched: malformed input, a wrong passphrase or tampered key
// material (S54) leave the store unchanged. Keys already present are
// merged (new user IDs, subkeys, revocations, a secret part).
func (s *Store) Import(inputs []Input, opts *ImportOptions) ([]ImportResult, error) {
	if opts == nil {
		opts = &ImportOptions{}
	}
	pass := onceFunc(opts.Passphrase)
	sealPass := pass
	if opts.SealPassphrase != nil {
		sealPass = onceFunc(opts.SealPassphrase)
	}
	var all parsed
	for _, in := range inputs {
		p, err := parseInput(in, pass)
		if err != nil {
			return nil, err
		}
		all.pgps = append(all.pgps, p.pgps...)
		all.certs = append(all.certs, p.certs...)
		all.keys = append(all.keys, p.keys...)
		all.revs = append(all.revs, p.revs...)
	}
	certs, keys := all.certs, all.keys
	// Pair loose private keys with certificates from the same import.
	for j := range keys {
		i := slices.IndexFunc(certs, func(c certItem) bool { return keyMatchesCert(keys[j].key, c.cert) })
		if i < 0 {
			continue
		}
		certs[i].key = keys[j].der
		keys[j].der = nil
	}
	keys = slices.DeleteFunc(keys, func(k keyItem) bool { return k.der == nil })

	seal := func(plaintext []byte, fpr string) ([]byte, error) {
		if opts.NoPassphrase {
			return seal(s.opts.rand(), s.opts.kdf(), nil, plaintext, fpr)
		}
		pw, err := sealPass()
		if err != nil {
			return nil, err
		}
		return seal(s.opts.rand(), s.opts.kdf(), pw, plaintext, fpr)
	}
	return s.commit(parsed{pgps: all.pgps, certs: certs, keys: keys, revs: all.revs}, opts, seal)
}

// commit adds parsed keys to the store in one transaction. Private keys
// that came without their certificate must match a stored one.
func (s *Store) commit(in parsed, opts *ImportOptions, seal sealFunc) ([]ImportResult, error) {
	now := s.opts.now()
	for i := range in.pgps {
		in.pgps[i].prepare(now)
	}
	var results []ImportResult
	err := s.update(func(t *tx) error {
		results = results[:0]
		for _, it := range in.pgps {
			r, err := t.importPGP(it, opts, seal)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
		for _, rev := range in.revs {
			r, err := t.importRevocation(rev)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
		all := slices.Clone(in.certs)
		for _, k := range in.keys {
			cert, err := t.findCertFor(k.key)
			if err != nil {
				return err
			}
			if cert == nil {
				return &FormatError{Source: k.src, Reason: "private key has no matching certificate: import the certificate with it"}
			}
			all = append(all, certItem{src: k.src, cert: cert, key: k.der})
		}
		for _, it := range all {
			r, err := t.importCert(it, opts, seal)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

func onceFunc(f func() ([]byte, error)) func() ([]byte, error) {
	var pw []byte
	var err error
	done := false
	return func() ([]byte, error) {
		if done {
			return pw, err
		}
		done = true
		if f == nil {
			err = &PassphraseError{Err: errors.New("keystore: a passphrase is needed and none was given")}
			return nil, err
		}
		pw, err = f()
		if err != nil {
			err = &PassphraseError{Err: err}
		}
		return pw, err
	}
}

// parsed is what the inputs of one import hold.
type parsed struct {
	pgps  []pgpItem
	certs []certItem
	keys  []keyItem // private keys without their certificate
	revs  []revItem // stand-alone key revocation certificates
}

type revItem struct {
	src string
	sig *packet.Signature
}

func parseInput(in Input, pass func() ([]byte, error)) (parsed, error) {
	blocks, err := Detect(in.Data)
	if err != nil {
		return parsed{}, &FormatError{Source: in.Name, Reason: err.Error()}
	}
	var pgps []pgpItem
	var certs []certItem
	var keys []keyItem
	var revs []revItem
	bad := func(format string, args ...any) error {
		return &FormatError{Source: in.Name, Reason: fmt.Sprintf(format, args...)}
	}
	addKey := func(key crypto.PrivateKey) error {
		if err := checkPrivateKey(key); errors.Is(err, errUnsupportedKey) {
			return bad("%v", err)
		} else if err != nil {
			return &IntegrityError{Reason: in.Name + ": private key is inconsistent: " + err.Error()}
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return bad("private key: %v", err)
		}
		keys = append(keys, keyItem{src: in.Name, key: key, der: der})
		return nil
	}
	for _, b := range blocks {
		switch b.Format {
		case FormatPGP:
			es, err := readPGP(b.Data)
			if err != nil {
				return parsed{}, bad("%v", err)
			}
			for _, e := range es {
				it := pgpItem{src: in.Name, entity: publicOnly(verifiedPGP(e))}
				if hasSecret(e) {
					if it.secret, err = pgpSecretPlaintext(e, pass); err != nil {
						return parsed{}, wrapSource(in.Name, err)
					}
				}
				pgps = append(pgps, it)
			}
		case FormatPGPSignature:
			sigs, err := readRevocations(b.Data)
			if err != nil {
				return parsed{}, bad("%v", err)
			}
			for _, sig := range sigs {
				revs = append(revs, revItem{src: in.Name, sig: sig})
			}
		case FormatCertificate:
			c, err := x509.ParseCertificate(b.Data)
			if err != nil {
				return parsed{}, bad("certificate: %v", err)
			}
			certs = append(certs, certItem{src: in.Name, cert: c})
		case FormatPKCS8, FormatPKCS8Enc, FormatPKCS1, FormatSEC1:
			k, err := parsePrivateKey(b, pass)
			if errors.Is(err, ErrWrongPassphrase) {
				return parsed{}, wrapSource(in.Name, err)
			} else if err != nil {
				var pe *PassphraseError
				if errors.As(err, &pe) {
					return parsed{}, err
				}
				return parsed{}, bad("%v", err)
			}
			if err := addKey(k); err != nil {
				return parsed{}, err
			}
		case FormatPKCS12:
			pw, err := pass()
			if err != nil {
				return parsed{}, err
			}
			k, c, cas, err := pkcs12.DecodeChain(b.Data, string(pw))
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				return parsed{}, wrapSource(in.Name, ErrWrongPassphrase)
			} else if err != nil {
				return parsed{}, bad("PKCS#12: %v", err)
			}
			if err := addKey(k); err != nil {
				return parsed{}, err
			}
			certs = append(certs, certItem{src: in.Name, cert: c})
			for _, ca := range cas {
				certs = append(certs, certItem{src: in.Name, cert: ca})
			}
		}
	}
	return parsed{pgps: pgps, certs: certs, keys: keys, revs: revs}, nil
}

// parsePrivateKey reads a PKCS#8 (plain or encrypted), PKCS#1 or SEC1
// private key.
func parsePrivateKey(b Block, pass func() ([]byte, error)) (crypto.PrivateKey, error) {
	der := b.Data
	switch b.Format {
	case FormatPKCS1:
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("RSA private key: %v", err)
		}
		return k, nil
	case FormatSEC1:
		k, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("EC private key: %v", err)
		}
		return k, nil
	case FormatPKCS8Enc:
		pw, err := pass()
		if err != nil {
			return nil, err
		}
		der, err = pkcs8.Decrypt(der, pw)
		if errors.Is(err, pkcs8.ErrIncorrectPassphrase) {
			return nil, ErrWrongPassphrase
		} else if err != nil {
			return nil, fmt.Errorf("encrypted PKCS#8 private key: %v", err)
		}
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("PKCS#8 private key: %v", err)
	}
	return k, nil
}

// SourceError says which input an error came from.
type SourceError struct {
	Source string
	Err    error
}

func (e *SourceError) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

func wrapSource(src string, err error) error {
	if src == "" {
		return err
	}
	return &SourceError{Source: src, Err: err}
}

type sealFunc func(plaintext []byte, fpr string) ([]byte, error)

func provenance(opts *ImportOptions, src string) (Source, string, string, uint32) {
	source := opts.Source
	if source == "" {
		source = Imported
	}
	origin := opts.Origin
	if origin == "" {
		origin = src
	}
	return source, origin, opts.DNSSEC, opts.TTL
}

func (t *tx) importPGP(it pgpItem, opts *ImportOptions, seal sealFunc) (ImportResult, error) {
	now := t.s.opts.now()
	if it.err != nil {
		return ImportResult{}, &FormatError{Source: it.src, Reason: it.err.Error()}
	}
	ent := it.entry
	res := ImportResult{Kind: PGP, Fingerprint: ent.Fingerprint, Secret: it.secret != nil}
	if reason := t.foreign(&ent, opts); reason != "" {
		res.Status, res.Reason, res.Emails = StatusRejected, reason, ent.Emails
		return res, nil
	}
	if cur := t.find(ent.Fingerprint); cur != nil {
		return t.mergePGPRecord(cur, it, opts, seal, res)
	}
	if reason := unusable(&ent, now, opts.AllowExpired); reason != "" {
		res.Status, res.Reason, res.Emails = StatusRejected, reason, ent.Emails
		return res, nil
	}
	rec := record{Entry: ent}
	var err error
	if rec.PublicObject, err = t.putObject(it.blob); err != nil {
		return res, err
	}
	if it.secret != nil {
		if err := t.addSecret(&rec, it.secret, opts, seal); err != nil {
			return res, err
		}
	}
	rec.Source, rec.Origin, rec.DNSSEC, rec.TTL = provenance(opts, it.src)
	rec.Obtained = now.UTC().Truncate(time.Second)
	usable := !rec.Revoked && !rec.Expired(now)
	res.Conflicts = t.pin(&rec, opts.Pin, usable, usable)
	t.add(rec)
	res.Status, res.Emails, res.Secret = StatusNew, rec.Emails, rec.Secret
	return res, nil
}

func (t *tx) mergePGPRecord(cur *record, it pgpItem, opts *ImportOptions, seal sealFunc, res ImportResult) (ImportResult, error) {
	now := t.s.opts.now()
	fpr := cur.Fingerprint
	if cur.Kind != PGP {
		return res, &IntegrityError{Fingerprint: fpr, Reason: "fingerprint collides with a certificate in the store"}
	}
	res.Status = StatusUnchanged
	if cur.PublicObject == it.object && (it.secret == nil || cur.SecretObject != "") && !opts.Pin && !cur.Revoked {
		// The very same key: nothing to merge.
		res.Emails, res.Secret = cur.Emails, cur.Secret
		return res, nil
	}
	blob, err := t.s.readObject(cur.PublicObject)
	if err != nil {
		return res, err
	}
	stored, err := readOnePGP(blob, fpr)
	if err != nil {
		return res, err
	}
	if mergePGP(stored, it.entity) {
		merged, err := serializePGP(stored)
		if err != nil {
			return res, err
		}
		ent, err := pgpEntry(stored, now)
		if err != nil {
			return res, err
		}
		name, err := t.putObject(merged)
		if err != nil {
			return res, err
		}
		cur = t.find(fpr)
		cur.PublicObject = name
		cur.UserIDs, cur.Expires, cur.Revoked = ent.UserIDs, ent.Expires, ent.Revoked
		if cur.Revoked {
			cur.Pinned = []string{}
		}
		t.setEmails(fpr, messageEmails(ent.Emails, cur.Emails, opts))
		cur = t.find(fpr)
		cur.Pinned = slices.DeleteFunc(cur.Pinned, func(a string) bool { return !slices.Contains(cur.Emails, a) })
		t.changed = true
		res.Status = StatusMerged
	}
	if it.secret != nil && cur.SecretObject == "" {
		if err := t.addSecret(cur, it.secret, opts, seal); err != nil {
			return res, err
		}
		t.changed = true
		res.Status = StatusMerged
	}
	if opts.Pin || res.Status == StatusMerged {
		before := len(cur.Pinned)
		usable := !cur.Revoked && !cur.Expired(now)
		res.Conflicts = t.pin(cur, opts.Pin, usable, usable)
		if res.Status == StatusUnchanged && len(cur.Pinned) > before {
			res.Status = StatusPinned
		}
	}
	if cur.Revoked {
		res.Reason = "the key is revoked"
	}
	res.Emails, res.Secret = cur.Emails, cur.Secret
	return res, nil
}

func (t *tx) addSecret(rec *record, plaintext []byte, opts *ImportOptions, seal sealFunc) error {
	env, err := seal(plaintext, rec.Fingerprint)
	if err != nil {
		return err
	}
	name, err := t.putObject(env)
	if err != nil {
		return err
	}
	rec.SecretObject, rec.Secret, rec.Protected = name, true, sealed(env)
	return nil
}

// foreign says why a key found in a message must not be taken, or "": it
// does not carry the sender's address, or it claims an address the user
// has a secret key for (S28).
func (t *tx) foreign(e *Entry, opts *ImportOptions) string {
	if opts.Source != Message {
		return ""
	}
	if opts.Sender == "" || !e.HasEmail(opts.Sender) {
		return "it does not belong to the sender of the message"
	}
	// Only the sender's address is taken from a key found in a message:
	// its other user IDs are the sender's claim, not a fact (S28).
	e.Emails = []string{NormalizeEmail(opts.Sender)}
	for _, addr := range e.Emails {
		for _, i := range t.byEmail[addr] {
			if t.recs[i].Secret && t.recs[i].Fingerprint != e.Fingerprint {
				return "it claims your own address " + addr
			}
		}
	}
	return ""
}

// messageEmails returns the addresses a stored key keeps after a merge:
// all that the merged key carries, except that a key arriving in a message
// adds only the sender's address to those it had (S28).
func messageEmails(merged, had []string, opts *ImportOptions) []string {
	if opts.Source != Message {
		return merged
	}
	out := slices.Clone(had)
	if s := NormalizeEmail(opts.Sender); slices.Contains(merged, s) && !slices.Contains(out, s) {
		out = append(out, s)
		slices.Sort(out)
	}
	return out
}

// unusable says why a new key is refused, or "".
func unusable(e *Entry, now time.Time, allowExpired bool) string {
	switch {
	case e.Revoked:
		return "it is revoked"
	case e.Expired(now) && !allowExpired:
		return fmt.Sprintf("it expired on %s (use --allow-expired to keep it anyway)", e.Expires.Format(time.DateOnly))
	}
	return ""
}

// findCertFor returns the stored certificate whose public key matches key.
func (t *tx) findCertFor(key crypto.PrivateKey) (*x509.Certificate, error) {
	for i := range t.recs {
		r := &t.recs[i]
		if r.Kind != SMIME {
			continue
		}
		der, err := t.s.readObject(r.PublicObject)
		if err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, &IntegrityError{Fingerprint: r.Fingerprint, Reason: "stored certificate does not parse"}
		}
		if keyMatchesCert(key, c) {
			return c, nil
		}
	}
	return nil, nil
}

func (t *tx) importCert(it certItem, opts *ImportOptions, seal sealFunc) (ImportResult, error) {
	now := t.s.opts.now()
	ent := smimeEntry(it.cert)
	res := ImportResult{Kind: SMIME, Fingerprint: ent.Fingerprint, Emails: ent.Emails, Secret: it.key != nil, Status: StatusUnchanged}
	if reason := t.foreign(&ent, opts); reason != "" {
		res.Status, res.Reason = StatusRejected, reason
		return res, nil
	}
	if cur := t.find(ent.Fingerprint); cur != nil {
		if it.key != nil && cur.SecretObject == "" {
			if err := t.addSecret(cur, it.key, opts, seal); err != nil {
				return res, err
			}
			t.changed = true
			res.Status = StatusMerged
		}
		if opts.Pin {
			before := len(cur.Pinned)
			res.Conflicts = t.pin(cur, true, !cur.Expired(now), true)
			if res.Status == StatusUnchanged && len(cur.Pinned) > before {
				res.Status = StatusPinned
			}
		}
		res.Secret = cur.Secret
		return res, nil
	}
	if reason := unusable(&ent, now, opts.AllowExpired); reason != "" {
		res.Status, res.Reason = StatusRejected, reason
		return res, nil
	}
	rec := record{Entry: ent}
	var err error
	if rec.PublicObject, err = t.putObject(it.cert.Raw); err != nil {
		return res, err
	}
	if it.key != nil {
		if err := t.addSecret(&rec, it.key, opts, seal); err != nil {
			return res, err
		}
	}
	rec.Source, rec.Origin, rec.DNSSEC, rec.TTL = provenance(opts, it.src)
	rec.Obtained = now.UTC().Truncate(time.Second)
	// A CA certificate is not pinned for the addresses it may carry, unless
	// it is your own (it came with its private key: openssl req -x509 makes
	// CA certificates by default).
	res.Conflicts = t.pin(&rec, opts.Pin, !rec.Expired(now), !rec.CA || rec.Secret)
	if rec.CA && !rec.Secret && len(rec.Emails) > 0 && len(rec.Pinned) == 0 {
		res.Reason = "a CA certificate is not pinned for its addresses (use --pin to use it for them)"
	}
	t.add(rec)
	res.Status = StatusNew
	return res, nil
}

// importRevocation applies a stand-alone revocation certificate to the key
// it names, after checking that key made it.
func (t *tx) importRevocation(it revItem) (ImportResult, error) {
	var cur *record
	if fp := it.sig.IssuerFingerprint; len(fp) > 0 {
		cur = t.find(strings.ToUpper(hex.EncodeToString(fp)))
	} else if it.sig.IssuerKeyId != nil {
		id := fmt.Sprintf("%016X", *it.sig.IssuerKeyId)
		for i := range t.recs {
			if t.recs[i].Kind == PGP && strings.HasSuffix(t.recs[i].Fingerprint, id) {
				cur = &t.recs[i]
				break
			}
		}
	}
	if cur == nil {
		return ImportResult{}, &NotFoundError{Query: "the key this revocation certificate revokes (" + it.src + ")"}
	}
	fpr := cur.Fingerprint
	blob, err := t.s.readObject(cur.PublicObject)
	if err != nil {
		return ImportResult{}, err
	}
	stored, err := readOnePGP(blob, fpr)
	if err != nil {
		return ImportResult{}, err
	}
	if err := stored.PrimaryKey.VerifyRevocationSignature(it.sig); err != nil {
		return ImportResult{}, &IntegrityError{Fingerprint: fpr, Reason: it.src + ": the revocation certificate does not verify"}
	}
	res := ImportResult{Kind: PGP, Fingerprint: fpr, Emails: cur.Emails, Secret: cur.Secret, Status: StatusUnchanged, Reason: "the key is revoked"}
	if containsSig(stored.Revocations, it.sig) {
		return res, nil
	}
	stored.Revocations = append(stored.Revocations, packet.NewVerifiableSig(it.sig))
	merged, err := serializePGP(stored)
	if err != nil {
		return res, err
	}
	ent, err := pgpEntry(stored, t.s.opts.now())
	if err != nil {
		return res, err
	}
	if cur.PublicObject, err = t.putObject(merged); err != nil {
		return res, err
	}
	cur.Revoked = ent.Revoked
	if cur.Revoked {
		cur.Pinned = []string{}
	}
	t.changed = true
	res.Status = StatusMerged
	return res, nil
}
