package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/transport"
)

// lookupTimeout bounds the DNS key lookups of one command.
const lookupTimeout = 20 * time.Second

// authTimeout bounds one DKIM/SPF/DMARC evaluation.
const authTimeout = 15 * time.Second

// backend is the TUI's door to the pipeline. Its methods run inside
// tea.Cmds, on other goroutines than Update: the keystore is not safe for
// concurrent use, so every call that touches it holds mu. Nothing here
// reads or changes the model.
type backend struct {
	mu  sync.Mutex
	cfg Config
	pw  []byte // the passphrase of the call in progress (under mu)
	// from is the user's address (Config.Me, or found in the keystore):
	// read by Update, so never behind mu, which a DNS lookup can hold.
	from atomic.Pointer[mail.Address]
}

func newBackend(cfg Config) *backend {
	b := &backend{cfg: cfg}
	b.from.Store(cfg.Me)
	if cfg.Me == nil {
		b.from.Store(firstIdentity(cfg.Store))
	}
	return b
}

// firstIdentity is the first address of the first identity, or nil.
func firstIdentity(st *keystore.Store) *mail.Address {
	for _, e := range st.Entries() {
		if e.Secret && len(e.Emails) > 0 {
			return &mail.Address{Address: e.Emails[0]}
		}
	}
	return nil
}

// pgp and smime are the schemes over the keystore, made afresh for each
// call: a scheme's keyring caches the identities it loaded and the
// unlocks that failed, which a session that lasts must not keep (keys
// are added, a passphrase typed again).
func (b *backend) pgp() *securemail.PGP {
	return &securemail.PGP{Store: b.cfg.Store, Passphrase: b.keyPassphrase}
}

func (b *backend) smime() *securemail.SMIME {
	return &securemail.SMIME{Store: b.cfg.Store, Passphrase: b.keyPassphrase}
}

// needPassphraseError says a sealed key needs a passphrase the TUI has
// not been given: the user is asked, and the action runs again.
type needPassphraseError struct {
	Fingerprint string
}

func (e *needPassphraseError) Error() string {
	return "a passphrase is needed for key " + e.Fingerprint
}

// keyPassphrase is the schemes' passphrase callback: the one the user
// typed for this action, else the configured source, else ask.
func (b *backend) keyPassphrase(e keystore.Entry) ([]byte, error) {
	if b.pw != nil {
		// A copy: the keyring clears what it is given once used.
		return bytes.Clone(b.pw), nil
	}
	if b.cfg.Passphrase != nil {
		return b.cfg.Passphrase(e)
	}
	return nil, &needPassphraseError{Fingerprint: e.Fingerprint}
}

// locked runs f holding the keystore lock, with pw as the passphrase of
// the call.
func (b *backend) locked(pw []byte, f func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pw = pw
	defer func() { b.pw = nil }()
	return f()
}

func (b *backend) openOptions() *securemail.OpenOptions {
	return &securemail.OpenOptions{Handlers: []securemail.Handler{b.pgp(), b.smime()}}
}

func (b *backend) protectOptions() *securemail.ProtectOptions {
	return &securemail.ProtectOptions{Protectors: []securemail.Protector{b.pgp(), b.smime()}}
}

// me is the user's address: the configured one, else the first address
// of the first identity.
func (b *backend) me() *mail.Address {
	return b.from.Load()
}

// identityAdded looks for the user's address again once a key was made
// or imported (when none was configured).
func (b *backend) identityAdded() {
	if b.cfg.Me != nil || b.from.Load() != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.from.Store(firstIdentity(b.cfg.Store))
}

// opened is a message read and opened by the pipeline.
type opened struct {
	folder, id string
	raw        []byte
	report     *securemail.Report
	view       *securemail.View
	auth       *mailauth.Verdict
}

// open reads a message and opens it: decryption, signatures, the safe
// view, and the auth verdict. A failed verdict is in the report; the
// error is for a message that cannot be read at all, or a key that
// needs a passphrase (*needPassphraseError).
func (b *backend) open(ctx context.Context, folder, id string, pw []byte) (*opened, error) {
	return b.openWith(ctx, folder, id, pw, true)
}

// check opens a message for the list's badges: no passphrase is asked,
// and the auth verdict is computed only when the configuration allows
// it in the background (a DKIM key lookup tells the sender's DNS that
// the message is being looked at).
func (b *backend) check(ctx context.Context, folder, id string) (*opened, error) {
	return b.openWith(ctx, folder, id, nil, b.cfg.CheckAuthInList)
}

func (b *backend) openWith(ctx context.Context, folder, id string, pw []byte, auth bool) (*opened, error) {
	raw, err := mailbox.ReadMessage(b.cfg.Mailbox, folder, id, nil)
	if err != nil {
		return nil, err
	}
	o := &opened{folder: folder, id: id, raw: raw}
	opts := b.openOptions()
	if auth && b.cfg.Auth != nil {
		actx, cancel := context.WithTimeout(ctx, authTimeout)
		defer cancel()
		opts.Auth, opts.Context = b.cfg.Auth, actx
	}
	err = b.locked(pw, func() error {
		var err error
		o.report, o.view, err = securemail.Open(raw, opts)
		return err
	})
	if err != nil {
		return nil, passphraseNeeded(err)
	}
	if e := passphraseNeeded(o.report.Encryption.Err); e != o.report.Encryption.Err {
		return nil, e
	}
	o.auth = o.report.Auth
	return o, nil
}

// sourcesOf looks up in the keystore where each signer's key came from.
func (b *backend) sourcesOf(rep *securemail.Report) map[string]keySource {
	out := map[string]keySource{}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range rep.Signatures {
		if e, ok := b.cfg.Store.Get(s.Fingerprint); ok {
			out[s.Fingerprint] = keySource{source: e.Source, dnssec: e.DNSSEC, origin: e.Origin}
		}
	}
	return out
}

// passphraseNeeded returns the *needPassphraseError or wrong passphrase
// inside err, so the caller can ask; otherwise err itself.
func passphraseNeeded(err error) error {
	var need *needPassphraseError
	if errors.As(err, &need) {
		return need
	}
	if errors.Is(err, keystore.ErrWrongPassphrase) {
		return keystore.ErrWrongPassphrase
	}
	return err
}

// setFlags sets flags on a message; a failure is not worth an error
// line.
func (b *backend) setFlags(folder, id string, set mailbox.Flags) {
	_, _ = b.cfg.Mailbox.SetFlags(folder, id, set, 0)
}

// attachmentData finds the bytes of an attachment the view lists: the
// leaf part of the (decrypted) message with the same safe name, media
// type and decoded size. The pipeline's View does not carry the bytes.
func (b *backend) attachmentData(raw []byte, a securemail.Attachment, pw []byte) ([]byte, error) {
	var plain []byte
	err := b.locked(pw, func() error {
		var err error
		_, plain, err = securemail.Decrypt(raw, b.openOptions())
		return err
	})
	if err != nil {
		return nil, passphraseNeeded(err)
	}
	m, err := message.Parse(plain, nil)
	if err != nil {
		return nil, err
	}
	var found []byte
	m.Root.Walk(func(p *message.Part) bool {
		if found != nil {
			return false
		}
		if p.IsMultipart() && !strings.HasPrefix(a.MediaType, "multipart/") {
			return true
		}
		if p.MediaType != a.MediaType || message.SafeFilename(p.Filename()) != a.Name {
			return true
		}
		data, err := m.TransferDecode(p)
		if err != nil {
			data = m.Body(p)
		}
		if len(data) == a.Size {
			found = data
			return false
		}
		return true
	})
	if found == nil {
		return nil, fmt.Errorf("the attachment %q cannot be found in the message", a.Name)
	}
	return found, nil
}

// saveFile writes data to path, never replacing a file that exists, mode
// 0600 (the content may be private).
func saveFile(path string, data []byte) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: choose another name", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Key status of a recipient, as compose shows it.
type keyState int

const (
	keyUnknown    keyState = iota // not checked yet
	keyChecking                   // a lookup is under way
	keyInStore                    // a usable key or certificate in the keystore
	keyFoundDNS                   // found in the DNS, DNSSEC secure
	keyInsecure                   // records in the DNS, not DNSSEC-protected: not used
	keyNone                       // nothing usable anywhere
	keyBogus                      // the DNS answer failed validation: possibly forged
	keyFailed                     // the lookup could not be made (network)
	keyBadAddress                 // not an address
)

// recipientStatus is what is known of one recipient's keys.
type recipientStatus struct {
	Addr   string
	State  keyState
	Scheme string // "pgp" or "smime": the kind of key found
	Detail string // in words: fingerprint, reason
	// Stale: the keystore's key came from the DNS and is past its TTL: it
	// will be looked up again before it is used.
	Stale bool
}

// inStore reports the scheme for which the keystore has a usable key for
// addr, preferring want ("" = OpenPGP first).
func (b *backend) inStore(addr, want string) (scheme, fpr string, stale bool) {
	dir := &securemail.Directory{}
	for _, s := range schemesFor(want) {
		ok := false
		if s == "pgp" {
			ok = b.pgp().CanEncryptTo([]string{addr})
		} else {
			ok = b.smime().CanEncryptTo([]string{addr})
		}
		if !ok {
			continue
		}
		kind := keystore.Kind(s)
		if e, ok := b.cfg.Store.Pinned(kind, addr); ok {
			fpr, stale = e.Fingerprint, dir.Stale(e)
		} else {
			for _, e := range b.cfg.Store.Lookup(addr) {
				if e.Kind == kind {
					fpr = e.Fingerprint
					break
				}
			}
		}
		return s, fpr, stale
	}
	return "", "", false
}

func schemesFor(want string) []string {
	switch want {
	case "pgp":
		return []string{"pgp"}
	case "smime":
		return []string{"smime"}
	}
	return []string{"pgp", "smime"}
}

// keyStatus says, for each address, whether a key for scheme ("" =
// either) is in the keystore; addresses without one are looked up in the
// DNS when lookup is set (nothing is stored: that happens on sending).
func (b *backend) keyStatus(ctx context.Context, addrs []string, scheme string, lookup bool) []recipientStatus {
	out := make([]recipientStatus, len(addrs))
	var missing []int
	b.mu.Lock()
	for i, a := range addrs {
		out[i].Addr = a
		if _, err := mail.ParseAddress(a); err != nil {
			out[i].State, out[i].Detail = keyBadAddress, "not an address"
			continue
		}
		if s, fpr, stale := b.inStore(a, scheme); s != "" {
			out[i] = recipientStatus{Addr: a, State: keyInStore, Scheme: s, Detail: fpr, Stale: stale}
			continue
		}
		out[i].State = keyNone
		missing = append(missing, i)
	}
	b.mu.Unlock()
	if !lookup || b.cfg.Directory == nil {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	for _, i := range missing {
		out[i] = b.lookupOne(ctx, addrs[i], scheme)
	}
	return out
}

// lookupOne asks the DNS for addr's keys of scheme ("" = OPENPGPKEY,
// then SMIMEA) and sums up the best outcome.
func (b *backend) lookupOne(ctx context.Context, addr, scheme string) recipientStatus {
	st := recipientStatus{Addr: addr, State: keyNone, Detail: "no key in the keystore or the DNS"}
	for _, s := range schemesFor(scheme) {
		var k *securemail.KeyLookup
		var err error
		if s == "pgp" {
			k, err = b.cfg.Directory.OpenPGPKey(ctx, addr)
		} else {
			k, err = b.cfg.Directory.SMIMEA(ctx, addr)
		}
		switch {
		case err != nil:
			if st.State == keyNone {
				st = recipientStatus{Addr: addr, State: keyFailed, Scheme: s, Detail: err.Error()}
			}
		case k.Usable():
			return recipientStatus{Addr: addr, State: keyFoundDNS, Scheme: s, Detail: k.Fingerprint}
		case k.DNSSEC == dnssec.Bogus:
			st = recipientStatus{Addr: addr, State: keyBogus, Scheme: s, Detail: k.Reason}
		case k.Found() && st.State != keyBogus:
			detail := k.Problem
			if k.DNSSEC == dnssec.Insecure {
				detail = "records found, but not protected by DNSSEC: not used"
			}
			st = recipientStatus{Addr: addr, State: keyInsecure, Scheme: s, Detail: detail}
		}
	}
	return st
}

// sendRequest is a message to protect and deliver.
type sendRequest struct {
	draft  *message.Draft
	policy securemail.Policy
	folder string
	flags  mailbox.Flags
	// answered, when set, is the message this one replies to: it is
	// marked Answered once this one is stored.
	answered *msgRef
	pw       []byte
}

type msgRef struct{ folder, id string }

// send protects the draft as the policy says (finding missing keys in the
// DNS first, as encrypt does) and delivers it to the folder.
func (b *backend) send(ctx context.Context, r sendRequest) (string, error) {
	p := r.policy
	addrs := securemail.Recipients(r.draft)
	if p.Encrypt {
		scheme, err := b.findKeys(ctx, addrs, p.Scheme)
		if err != nil {
			return "", err
		}
		p.Scheme = scheme
	} else if p.Sign && p.Scheme == "" && r.draft.From != nil {
		p.Scheme = b.signingScheme(r.draft.From.Address)
	}
	var out []byte
	err := b.locked(r.pw, func() error {
		var err error
		out, err = securemail.Protect(r.draft, p, b.protectOptions())
		return err
	})
	if err != nil {
		return "", passphraseNeeded(err)
	}
	if b.cfg.Transport != nil {
		return "", b.transmit(ctx, r, out)
	}
	return b.deliver(r.folder, out, r.flags, r.answered)
}

// transmit sends a protected message with the transport and files a copy
// in the Sent folder (r.folder, "" for none). A copy that could not be
// filed is a *transport.SaveError: the message has gone all the same.
func (b *backend) transmit(ctx context.Context, r sendRequest, msg []byte) error {
	if r.draft.From == nil {
		return errors.New("no From address: set the account's address in config.toml")
	}
	// The envelope's recipients are To, Cc and Bcc, each once (not the
	// sender, whom an encrypted message is readable by too).
	env := &transport.Envelope{From: r.draft.From.Address}
	seen := map[string]bool{}
	for _, l := range [][]*mail.Address{r.draft.To, r.draft.Cc, r.draft.Bcc} {
		for _, a := range l {
			if k := strings.ToLower(a.Address); !seen[k] {
				seen[k] = true
				env.To = append(env.To, a.Address)
			}
		}
	}
	var save transport.Saver
	if r.folder != "" {
		// A failure here shows as the SaveError of the copy.
		_ = b.cfg.Mailbox.CreateFolder(r.folder)
		save = transport.SaveToFolder(b.cfg.Mailbox, r.folder)
	}
	err := transport.SendAndSave(ctx, b.cfg.Transport, env, msg, save)
	var saveErr *transport.SaveError
	if err == nil || errors.As(err, &saveErr) {
		if r.answered != nil {
			b.setFlags(r.answered.folder, r.answered.id, mailbox.Answered)
		}
	}
	return err
}

func (b *backend) deliver(folder string, msg []byte, flags mailbox.Flags, answered *msgRef) (string, error) {
	if err := b.cfg.Mailbox.CreateFolder(folder); err != nil {
		return "", err
	}
	id, err := b.cfg.Mailbox.Deliver(folder, bytes.NewReader(msg), flags)
	if err != nil {
		return "", err
	}
	if answered != nil {
		b.setFlags(answered.folder, answered.id, mailbox.Answered)
	}
	return id, nil
}

// signingScheme is the scheme the user has an identity for, OpenPGP
// first.
func (b *backend) signingScheme(addr string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.pgp().Identity(addr); err == nil {
		return "pgp"
	}
	for _, e := range b.cfg.Store.Lookup(addr) {
		if e.Kind == keystore.SMIME && e.Secret {
			return "smime"
		}
	}
	return "pgp"
}

// findKeys makes sure every address has a key of scheme ("" = whichever
// covers everyone, OpenPGP first), looking in the DNS for what the
// keystore lacks, and returns the scheme to use. Without a key for
// someone the error names them all.
func (b *backend) findKeys(ctx context.Context, addrs []string, scheme string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var firstErr error
	for _, s := range schemesFor(scheme) {
		err := b.locked(nil, func() error {
			var has func(string) bool
			kind := keystore.PGP
			if s == "pgp" {
				pgp := b.pgp()
				has = func(a string) bool { return pgp.CanEncryptTo([]string{a}) }
			} else {
				kind = keystore.SMIME
				sm := b.smime()
				has = func(a string) bool { return sm.CanEncryptTo([]string{a}) }
			}
			if b.cfg.Directory != nil {
				if _, err := b.cfg.Directory.FindKeys(ctx, b.cfg.Store, kind, addrs, has); err != nil {
					return err
				}
			}
			for _, a := range addrs {
				if !has(a) {
					return missingKeys(s, addrs, has)
				}
			}
			return nil
		})
		if err == nil {
			return s, nil
		}
		var bogus *securemail.BogusError
		if errors.As(err, &bogus) {
			return "", err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", firstErr
}

func missingKeys(scheme string, addrs []string, has func(string) bool) error {
	e := &securemail.MissingKeysError{Scheme: scheme}
	for _, a := range addrs {
		if !has(a) {
			e.Addresses = append(e.Addresses, a)
			e.Reasons = append(e.Reasons, "")
		}
	}
	return e
}

// saveDraft stores a draft in the drafts folder. A draft of encrypted
// mail (encrypt on, or a reply that must stay encrypted) is stored
// encrypted to the user alone (S26).
func (b *backend) saveDraft(ctx context.Context, r sendRequest) (string, error) {
	raw, err := message.Compose(r.draft, nil)
	if err != nil {
		return "", err
	}
	if r.policy.Encrypt || r.policy.RequireEncryption {
		me := r.draft.From.Address
		scheme := r.policy.Scheme
		if scheme == "" {
			scheme = b.signingScheme(me)
		}
		p := securemail.Policy{Encrypt: true, Scheme: scheme}
		err := b.locked(r.pw, func() error {
			var err error
			raw, err = securemail.ProtectMessage(raw, p, []string{me}, me, b.protectOptions())
			return err
		})
		if err != nil {
			return "", passphraseNeeded(err)
		}
	}
	return b.deliver(r.folder, raw, mailbox.Draft|mailbox.Seen, nil)
}

// entries is a copy of the keystore's entries.
func (b *backend) entries() []keystore.Entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg.Store.Entries()
}

// importFile imports the keys in a file.
func (b *backend) importFile(path string, pw []byte) ([]keystore.ImportResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res []keystore.ImportResult
	err = b.locked(pw, func() error {
		opts := &keystore.ImportOptions{Origin: path}
		if pw != nil {
			opts.Passphrase = func() ([]byte, error) { return pw, nil }
		} else {
			opts.Passphrase = func() ([]byte, error) { return nil, &needPassphraseError{Fingerprint: filepath.Base(path)} }
		}
		var err error
		res, err = b.cfg.Store.Import([]keystore.Input{{Name: path, Data: data}}, opts)
		return err
	})
	return res, passphraseNeeded(err)
}

// generate makes a new identity (OpenPGP Ed25519 and an S/MIME P-256
// certificate) sealed with pw, or unprotected when pw is empty.
func (b *backend) generate(email, name string, pw []byte) ([]keystore.ImportResult, error) {
	var res []keystore.ImportResult
	err := b.locked(nil, func() error {
		for _, req := range []keystore.GenerateRequest{
			{Email: email, Name: name, PGP: true, Algo: "ed25519"},
			{Email: email, Name: name, SMIME: true, Algo: "p256"},
		} {
			req.Passphrase, req.NoPassphrase = pw, len(pw) == 0
			if err := req.Validate(); err != nil {
				return err
			}
			r, err := b.cfg.Store.Generate(req)
			res = append(res, r...)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// lookupKeys asks the DNS for addr's SMIMEA and OPENPGPKEY records.
func (b *backend) lookupKeys(ctx context.Context, addr string) ([]*securemail.KeyLookup, error) {
	if b.cfg.Directory == nil {
		return nil, errors.New("no DNS resolver is configured")
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var out []*securemail.KeyLookup
	var errs []error
	for _, f := range []func(context.Context, string) (*securemail.KeyLookup, error){b.cfg.Directory.SMIMEA, b.cfg.Directory.OpenPGPKey} {
		k, err := f(ctx, addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// remember stores a usable lookup in the keystore and pins it.
func (b *backend) remember(k *securemail.KeyLookup) (string, error) {
	var fpr string
	err := b.locked(nil, func() error {
		var err error
		fpr, err = b.cfg.Directory.Remember(b.cfg.Store, k)
		return err
	})
	return fpr, err
}
