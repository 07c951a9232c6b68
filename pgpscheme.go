package securemail

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/pgp"
)

// PGP is the OpenPGP scheme of the pipeline: a Handler for received mail
// (PGP/MIME encrypted and signed, inline blocks in a text/plain message)
// and a Protector for outgoing mail (PGP/MIME), with keys from a
// keystore.
type PGP struct {
	Store *keystore.Store
	// Passphrase is asked for the passphrase of a sealed identity.
	Passphrase func(e keystore.Entry) ([]byte, error)
	Options    *pgp.Options

	ring *pgp.StoreKeyring
}

var (
	_ Handler   = (*PGP)(nil)
	_ Protector = (*PGP)(nil)
)

// Keyring is the scheme's keyring, looking at the sender's keys of m
// (if not nil) for signatures by subkeys.
func (s *PGP) Keyring(m *message.Message) *pgp.StoreKeyring {
	if s.ring == nil {
		s.ring = &pgp.StoreKeyring{Store: s.Store, Passphrase: s.Passphrase}
	}
	if m != nil {
		if a, err := mail.ParseAddress(m.Root.Header.Get("From")); err == nil {
			s.ring.Senders = []string{a.Address}
		}
	}
	return s.ring
}

// Handles implements Handler.
func (s *PGP) Handles(m *message.Message) bool {
	root := m.Root
	if pgp.IsSigned(root) || pgp.IsEncrypted(root) {
		return true
	}
	if root.MediaType != "text/plain" || root.Disposition() == "attachment" {
		return false
	}
	text, err := m.TextBytes(root)
	return err == nil && len(pgp.FindBlocks(text)) > 0
}

// Unwrap implements Handler.
func (s *PGP) Unwrap(m *message.Message, opts *OpenOptions) (*Unwrapped, error) {
	root := m.Root
	switch {
	case pgp.IsEncrypted(root):
		data, err := pgp.EncryptedData(m, root)
		if err != nil {
			return failedEncryption(err), nil
		}
		return s.decrypt(m, data)
	case pgp.IsSigned(root):
		signed, sig, err := pgp.SignedParts(m, root)
		if err != nil {
			return failedSignature(nil, err), nil
		}
		sigs, err := pgp.VerifyDetached(bytes.NewReader(signed), sig, s.Keyring(m), s.Options)
		if err != nil {
			return failedSignature(entityMessage(signed), err), nil
		}
		return &Unwrapped{Inner: entityMessage(signed), Signatures: s.SignatureReports(sigs, true)}, nil
	}
	return s.inline(m)
}

// decrypt reads a PGP/MIME encrypted message. A failure to decrypt is
// a verdict in the report, not an error.
func (s *PGP) decrypt(m *message.Message, data []byte) (*Unwrapped, error) {
	res, plain, err := pgp.ReadAll(data, s.Keyring(m), s.Options)
	if err != nil {
		return failedEncryption(err), nil
	}
	u := &Unwrapped{Signatures: s.SignatureReports(res.Signatures, true)}
	u.Encryption = encryptionReport(res)
	if !res.Encrypted {
		// A PGP/MIME encrypted part that is only signed: not encrypted.
		msg := "the encrypted part holds a message that is not encrypted"
		u.Encryption = &EncryptionReport{Kind: "pgp", Error: &msg}
		return u, nil
	}
	if len(bytes.TrimSpace(plain)) == 0 {
		u.Warnings = append(u.Warnings, "the encrypted part is empty")
	}
	u.Inner = entityMessage(plain)
	return u, nil
}

// failedEncryption is the verdict on an encrypted message that cannot
// be read: nothing of it is shown.
func failedEncryption(err error) *Unwrapped {
	msg := strings.TrimPrefix(err.Error(), "pgp: ")
	return &Unwrapped{Encryption: &EncryptionReport{Kind: "pgp", Error: &msg, Err: err}}
}

// failedSignature is the verdict on a signature that cannot be checked
// at all (a malformed signature or structure): not valid.
func failedSignature(inner []byte, err error) *Unwrapped {
	msg := strings.TrimPrefix(err.Error(), "pgp: ")
	return &Unwrapped{Inner: inner, Signatures: []SignatureReport{{Kind: "pgp", CoversRoot: true, Error: &msg}}}
}

func encryptionReport(res *pgp.Result) *EncryptionReport {
	return &EncryptionReport{Kind: "pgp", OK: true, Integrity: res.Integrity, Algorithm: res.Algorithm}
}

// entityMessage makes a MIME entity parseable as a message: an entity
// with no header fields at all is text/plain (RFC 2045 §5.2).
func entityMessage(b []byte) []byte {
	if len(b) == 0 || b[0] == '\r' || b[0] == '\n' {
		return append([]byte("Content-Type: text/plain; charset=us-ascii\r\n"), b...)
	}
	return b
}

// inline reads the first OpenPGP block of a text/plain message. Only the
// block is processed; the text around it is returned as unprotected
// (S22), and other blocks are left as they are, with a warning.
func (s *PGP) inline(m *message.Message) (*Unwrapped, error) {
	text, err := m.TextBytes(m.Root)
	if err != nil {
		return nil, err
	}
	blocks := pgp.FindBlocks(text)
	if len(blocks) == 0 {
		return nil, fmt.Errorf("securemail: no OpenPGP block in the text")
	}
	b := blocks[0]
	block := text[b.Start:b.End]
	outside := strings.TrimSpace(string(text[:b.Start])) + "\n" + strings.TrimSpace(string(text[b.End:]))
	outside = strings.TrimSpace(outside)
	whole := outside == ""
	u := &Unwrapped{Unprotected: outside}
	if !whole {
		u.Warnings = append(u.Warnings, "only part of the text is in the OpenPGP block; the text around it is not protected and is shown apart")
	}
	if len(blocks) > 1 {
		u.Warnings = append(u.Warnings, fmt.Sprintf("the text has %d OpenPGP blocks; only the first was read", len(blocks)))
	}
	var res *pgp.Result
	var plain []byte
	switch b.Kind {
	case pgp.InlineCleartext:
		res, plain, _, err = pgp.VerifyCleartext(block, s.Keyring(m), s.Options)
	default:
		res, plain, err = pgp.ReadAll(block, s.Keyring(m), s.Options)
	}
	if err != nil {
		f := failedEncryption(err)
		if b.Kind == pgp.InlineCleartext {
			f = failedSignature(nil, err)
			f.Signatures[0].CoversRoot = whole
		}
		f.Unprotected, f.Warnings = u.Unprotected, u.Warnings
		return f, nil
	}
	if res.Encrypted {
		u.Encryption = encryptionReport(res)
	}
	u.Signatures = s.SignatureReports(res.Signatures, whole)
	u.Inner = append([]byte("Content-Type: text/plain; charset=utf-8\r\n\r\n"), message.Canonicalize(plain)...)
	return u, nil
}

// SignatureReports turns pgp verdicts into the pipeline's.
func (s *PGP) SignatureReports(sigs []pgp.Signature, coversRoot bool) []SignatureReport {
	out := make([]SignatureReport, 0, len(sigs))
	for _, sig := range sigs {
		r := SignatureReport{
			Kind: "pgp", Valid: sig.Valid, Fingerprint: sig.Fingerprint,
			CoversRoot: coversRoot, Emails: sig.Emails,
		}
		if len(sig.Emails) > 0 {
			r.Signer = sig.Emails[0]
		}
		if sig.Fingerprint == "" {
			r.Fingerprint = "key ID " + sig.KeyID
		}
		if sig.Known {
			r.KeySource = "keystore"
			if e, ok := s.Store.Get(sig.Fingerprint); ok && e.Source == keystore.Message {
				r.KeySource = "message"
			}
		}
		if sig.Err != nil {
			msg := sig.Err.Error()
			if !sig.Known {
				msg = "the signer's key (" + r.Fingerprint + ") is not in the keystore"
			}
			r.Error = &msg
		}
		if !coversRoot && r.Valid {
			msg := "the signature covers only part of the text"
			r.Error = &msg
		}
		out = append(out, r)
	}
	return out
}

// Scheme implements Protector.
func (s *PGP) Scheme() string { return "pgp" }

// MissingKeysError names the recipients without a usable key.
type MissingKeysError struct {
	Scheme    string
	Addresses []string
	Reasons   []string
}

func (e *MissingKeysError) Error() string {
	parts := make([]string, len(e.Addresses))
	for i, a := range e.Addresses {
		parts[i] = a
		if e.Reasons[i] != "" {
			parts[i] += " (" + e.Reasons[i] + ")"
		}
	}
	return fmt.Sprintf("securemail: no usable %s key for %s", e.Scheme, strings.Join(parts, ", "))
}

// Wrap implements Protector: PGP/MIME signed (RFC 3156 §5), or encrypted
// and optionally signed in one pass (§6.2), to every recipient and the
// sender.
func (s *PGP) Wrap(entity []byte, d *message.Draft, p Policy) ([]byte, error) {
	var signer *openpgp.Entity
	if p.Sign || p.Encrypt {
		if d.From == nil {
			return nil, errors.New("securemail: the message has no From address to sign or encrypt for")
		}
	}
	if p.Sign {
		e, err := s.Identity(d.From.Address)
		if err != nil {
			return nil, err
		}
		if signer, err = s.Unlock(e); err != nil {
			return nil, err
		}
	}
	if !p.Encrypt {
		return pgp.WrapSigned(entity, signer, s.Options)
	}
	to, err := s.Recipients(Recipients(d))
	if err != nil {
		return nil, err
	}
	return pgp.WrapEncrypted(entity, to, signer, s.Options)
}

// Unlock returns the user's identity e with its private keys, asking
// for its passphrase when it is sealed with one; the reason a passphrase
// cannot be had (no terminal, say) is the error the user sees.
func (s *PGP) Unlock(e keystore.Entry) (*openpgp.Entity, error) {
	var pass []byte
	if e.Protected && s.Passphrase != nil {
		p, err := s.Passphrase(e)
		if err != nil {
			return nil, err
		}
		pass = p
	}
	return s.Store.UnlockPGP(e.Fingerprint, pass)
}

// Identity finds the user's own OpenPGP key for addr: the one pinned for
// it, else the newest, neither revoked nor expired.
func (s *PGP) Identity(addr string) (keystore.Entry, error) {
	var cands []keystore.Entry
	for _, e := range s.Store.Lookup(addr) {
		if e.Kind == keystore.PGP && e.Secret && !e.Revoked && !e.Expired(s.Options.Time()) {
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return keystore.Entry{}, &keystore.NotFoundError{Query: "OpenPGP secret key for " + addr}
	}
	return newestPinnedFirst(cands, addr), nil
}

// newestPinnedFirst picks the key pinned for addr, else the newest.
func newestPinnedFirst(es []keystore.Entry, addr string) keystore.Entry {
	slices.SortStableFunc(es, func(a, b keystore.Entry) int {
		if pa, pb := a.PinnedFor(addr), b.PinnedFor(addr); pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		return b.Created.Compare(a.Created)
	})
	return es[0]
}

// Recipients resolves each address to its OpenPGP key; the error names
// every address without a usable one.
func (s *PGP) Recipients(addrs []string) ([]pgp.Recipient, error) {
	var out []pgp.Recipient
	missing := &MissingKeysError{Scheme: "OpenPGP"}
	for _, addr := range addrs {
		k, why := s.recipientKey(addr)
		if k == nil {
			missing.Addresses = append(missing.Addresses, addr)
			missing.Reasons = append(missing.Reasons, why)
			continue
		}
		out = append(out, pgp.Recipient{Name: addr, Key: k})
	}
	if len(missing.Addresses) > 0 {
		return nil, missing
	}
	return out, nil
}

// CanEncryptTo reports whether every address has a usable key.
func (s *PGP) CanEncryptTo(addrs []string) bool {
	for _, a := range addrs {
		if k, _ := s.recipientKey(a); k == nil {
			return false
		}
	}
	return true
}

func (s *PGP) recipientKey(addr string) (*openpgp.Entity, string) {
	now := s.Options.Time()
	var cands []keystore.Entry
	why := "no key"
	for _, e := range s.Store.Lookup(addr) {
		switch {
		case e.Kind != keystore.PGP:
		case e.Revoked:
			why = "its key is revoked"
		case e.Expired(now):
			why = "its key has expired"
		default:
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return nil, why
	}
	e := newestPinnedFirst(cands, addr)
	k, err := s.Store.PGPKey(e.Fingerprint)
	if err != nil {
		return nil, err.Error()
	}
	if _, err := k.EncryptionKeyWithError(now, nil); err != nil {
		return nil, "its key has no valid encryption subkey"
	}
	return k, ""
}

// Recipients lists the addresses a draft goes to, and its sender, each
// once, lower-cased: whom an encrypted message must be readable by.
func Recipients(d *message.Draft) []string {
	var out []string
	seen := map[string]bool{}
	add := func(as []*mail.Address) {
		for _, a := range as {
			if a == nil {
				continue
			}
			k := strings.ToLower(a.Address)
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	add(d.To)
	add(d.Cc)
	add(d.Bcc)
	add([]*mail.Address{d.From})
	return out
}
