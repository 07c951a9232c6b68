package securemail

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/miekg/dns"

	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/smimea"
)

// Directory finds recipients' keys in the DNS: S/MIME certificates in
// SMIMEA records (RFC 8162) and OpenPGP keys in OPENPGPKEY records
// (RFC 7929), each answer validated by DNSSEC from the resolver's trust
// anchors. Only a Secure answer is used (S40); an Insecure one is reported
// and not used; a Bogus one is an error.
type Directory struct {
	// Resolver validates the answers; it must not be nil.
	Resolver *dnssec.Resolver
	// Roots are the PKIX trust anchors for SMIMEA usages 0 and 1; nil
	// means the system's.
	Roots *x509.CertPool
	// Now is the clock for certificate and key validity; nil means
	// time.Now.
	Now func() time.Time
}

// Kinds of DNS key lookups.
const (
	LookupSMIMEA     = "smimea"
	LookupOpenPGPKey = "openpgpkey"
)

// KeyLookup is the outcome of one DNS key lookup.
type KeyLookup struct {
	// Kind is LookupSMIMEA or LookupOpenPGPKey.
	Kind string `json:"kind"`
	// Address is the address asked about; Asked is the address whose
	// owner name was finally asked: Address, or Address with its local
	// part lower-cased when nothing was found as written (LowerCased).
	Address    string `json:"address"`
	Asked      string `json:"asked"`
	LowerCased bool   `json:"lower_cased,omitempty"`
	// Name is the owner name asked.
	Name string `json:"name"`
	// DNSSEC is the verdict on the answer, Reason why it is not Secure.
	DNSSEC dnssec.Status `json:"dnssec"`
	Reason string        `json:"reason,omitempty"`
	// TTL is how many seconds the answer may be relied on.
	TTL uint32 `json:"ttl"`
	// Records are the records found, each with its own verdict.
	Records []LookupRecord `json:"records"`
	// Certificate (SMIMEA) or Key (OPENPGPKEY, a binary transferable
	// public key) is what may be used: set only when the answer is Secure
	// and a record vouches for it as Asked's.
	Certificate *x509.Certificate `json:"-"`
	Key         []byte            `json:"-"`
	// Fingerprint identifies Certificate or Key as the keystore does.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Problem says in words why nothing may be used; empty when Usable.
	Problem string `json:"error"`
}

// LookupRecord is one record of a KeyLookup.
type LookupRecord struct {
	// Usage, Selector and Matching are the SMIMEA fields (nil for
	// OPENPGPKEY).
	Usage    *uint8 `json:"usage,omitempty"`
	Selector *uint8 `json:"selector,omitempty"`
	Matching *uint8 `json:"matching,omitempty"`
	// Certificate is the DER certificate an SMIMEA record carries whole;
	// Key the OpenPGP key an OPENPGPKEY record carries.
	Certificate []byte `json:"certificate,omitempty"`
	Key         []byte `json:"key,omitempty"`
	// Matched says whether the record vouches for the key found for the
	// address; Error why not.
	Matched bool   `json:"matched"`
	Error   string `json:"error,omitempty"`
}

// Usable reports whether the lookup found a key that may be used to
// encrypt: a Secure answer that vouches for it.
func (k *KeyLookup) Usable() bool {
	return k.DNSSEC == dnssec.Secure && (k.Certificate != nil || k.Key != nil)
}

// Found reports whether the DNS had records for the address at all.
func (k *KeyLookup) Found() bool { return len(k.Records) > 0 }

// LookupError is a lookup that could not be made: the address is not one,
// or the context ended.
type LookupError struct {
	Address string
	Err     error
}

func (e *LookupError) Error() string { return "looking up " + e.Address + ": " + e.Err.Error() }
func (e *LookupError) Unwrap() error { return e.Err }

func (d *Directory) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// SMIMEA looks up addr's S/MIME certificate.
func (d *Directory) SMIMEA(ctx context.Context, addr string) (*KeyLookup, error) {
	return d.lookup(ctx, LookupSMIMEA, addr)
}

// OpenPGPKey looks up addr's OpenPGP key.
func (d *Directory) OpenPGPKey(ctx context.Context, addr string) (*KeyLookup, error) {
	return d.lookup(ctx, LookupOpenPGPKey, addr)
}

func (d *Directory) lookup(ctx context.Context, kind, addr string) (*KeyLookup, error) {
	if d == nil || d.Resolver == nil {
		return nil, &LookupError{Address: addr, Err: errors.New("no DNS resolver")}
	}
	k, err := d.ask(ctx, kind, addr, addr)
	if err != nil {
		return nil, err
	}
	// RFC 8162 §3 and RFC 7929 §3: the local part is hashed as written;
	// when that finds nothing, a lower-cased one may.
	if !k.Found() && (k.DNSSEC == dnssec.Secure || k.DNSSEC == dnssec.Insecure) {
		if lower, ok := smimea.LowerCaseFallback(addr); ok {
			k2, err := d.ask(ctx, kind, addr, lower)
			if err != nil {
				return nil, err
			}
			if k2.Found() || k2.DNSSEC == dnssec.Bogus {
				k2.LowerCased = true
				return k2, nil
			}
		}
	}
	return k, nil
}

// ask looks up the records of asked and judges them for addr.
func (d *Directory) ask(ctx context.Context, kind, addr, asked string) (*KeyLookup, error) {
	k := &KeyLookup{Kind: kind, Address: addr, Asked: asked, Records: []LookupRecord{}}
	var err error
	qtype := dns.TypeSMIMEA
	if kind == LookupOpenPGPKey {
		k.Name, err = smimea.OpenPGPKeyName(asked)
		qtype = dns.TypeOPENPGPKEY
	} else {
		k.Name, err = smimea.OwnerName(asked)
	}
	if err != nil {
		return nil, &LookupError{Address: addr, Err: err}
	}
	res, err := d.Resolver.Lookup(ctx, k.Name, qtype)
	if err != nil {
		if ctx.Err() != nil {
			return nil, &LookupError{Address: addr, Err: ctx.Err()}
		}
		k.DNSSEC, k.Reason = dnssec.Indeterminate, err.Error()
		k.Problem = "the DNS lookup failed: " + err.Error()
		return k, nil
	}
	k.DNSSEC, k.Reason, k.TTL = res.Status, res.Reason, res.TTL
	switch res.Status {
	case dnssec.Bogus:
		k.Problem = "the DNS answer is bogus (DNSSEC validation failed: " + res.Reason + "): it may have been forged"
		return k, nil
	case dnssec.Indeterminate:
		k.Problem = "the DNS answer could not be validated: " + res.Reason
		return k, nil
	}
	if kind == LookupOpenPGPKey {
		d.judgeOpenPGPKeys(k, res.Answer)
	} else {
		d.judgeSMIMEA(k, res.Answer)
	}
	switch {
	case !k.Found():
		k.Problem = "no " + strings.ToUpper(kind) + " record for " + asked
	case k.DNSSEC == dnssec.Insecure && k.Problem == "":
		k.Problem = "the records are not protected by DNSSEC (insecure): they are not used"
	}
	if k.DNSSEC != dnssec.Secure {
		k.Certificate, k.Key, k.Fingerprint = nil, nil, ""
	}
	return k, nil
}

func (d *Directory) judgeSMIMEA(k *KeyLookup, answer []dns.RR) {
	var recs []smimea.Record
	for _, rr := range answer {
		r, err := smimea.FromRR(rr)
		if err != nil {
			if _, ok := rr.(*dns.SMIMEA); ok {
				k.Records = append(k.Records, LookupRecord{Error: err.Error()})
			}
			continue
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		if k.Found() {
			k.Problem = "no well-formed SMIMEA record"
		}
		return
	}
	opts := &smimea.Options{Roots: d.Roots, Now: d.now()}
	cert, _, err := smimea.CertificateFor(recs, k.Asked, opts)
	var results []smimea.Result
	if cert != nil {
		results = smimea.EvaluateAll(recs, k.Asked, cert, nil, opts)
	}
	for i, r := range recs {
		lr := LookupRecord{Usage: &recs[i].Usage, Selector: &recs[i].Selector, Matching: &recs[i].MatchingType}
		if c, err := r.Certificate(); err == nil && c != nil {
			lr.Certificate = c.Raw
		}
		switch {
		case results != nil && results[i].Err == nil:
			lr.Matched = true
		case results != nil:
			lr.Error = results[i].Err.Error()
		case err != nil:
			lr.Error = err.Error()
		}
		k.Records = append(k.Records, lr)
	}
	if cert == nil {
		k.Problem = "no SMIMEA record vouches for a usable certificate of " + k.Asked + ": " + err.Error()
		return
	}
	k.Certificate, k.Fingerprint = cert, keystore.CertificateFingerprint(cert.Raw)
}

// judgeOpenPGPKeys keeps the first OPENPGPKEY record holding one key,
// not revoked, able to encrypt now, with a user ID for the address.
func (d *Directory) judgeOpenPGPKeys(k *KeyLookup, answer []dns.RR) {
	now := d.now()
	for _, rr := range answer {
		op, ok := rr.(*dns.OPENPGPKEY)
		if !ok {
			continue
		}
		lr := LookupRecord{}
		raw, err := base64.StdEncoding.DecodeString(op.PublicKey)
		if err == nil {
			lr.Key = raw
			err = openPGPKeyFor(raw, k.Asked, now)
		}
		if err != nil {
			lr.Error = err.Error()
		} else if k.Key == nil {
			lr.Matched = true
			k.Key = raw
			if el, _ := openpgp.ReadKeyRing(bytes.NewReader(raw)); len(el) == 1 {
				k.Fingerprint = strings.ToUpper(fmt.Sprintf("%x", el[0].PrimaryKey.Fingerprint))
			}
		}
		k.Records = append(k.Records, lr)
	}
	if k.Found() && k.Key == nil {
		k.Problem = "no OPENPGPKEY record holds a usable key with a user ID for " + k.Asked
	}
}

// openPGPKeyFor checks that raw is one OpenPGP key, valid now, that can
// encrypt and has a user ID with addr (its domain compared without case).
func openPGPKeyFor(raw []byte, addr string, now time.Time) error {
	el, err := openpgp.ReadKeyRing(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not an OpenPGP key: %v", err)
	}
	if len(el) != 1 {
		return fmt.Errorf("%d OpenPGP keys in one record", len(el))
	}
	e := el[0]
	if e.Revoked(now) {
		return errors.New("the key is revoked")
	}
	if _, ok := e.EncryptionKey(now, nil); !ok {
		return errors.New("the key has no usable encryption key (expired, or none)")
	}
	want := keystore.NormalizeEmail(addr)
	for _, id := range e.Identities {
		if id.UserId != nil && keystore.NormalizeEmail(id.UserId.Email) == want && !id.Revoked(nil, now, nil) {
			return nil
		}
	}
	return fmt.Errorf("no user ID of the key is %s", addr)
}

// Remember stores what a usable lookup found in the keystore, with its
// provenance (smimea or openpgpkey), the owner name, the DNSSEC status and
// the TTL, and returns the fingerprint. An earlier key for the address
// from the same kind of lookup is replaced as the pinned one; a key the
// user pinned otherwise is not (S28): the new one is then kept unpinned
// and an error says so.
func (d *Directory) Remember(st *keystore.Store, k *KeyLookup) (string, error) {
	if !k.Usable() {
		return "", errors.New("securemail: the lookup found nothing usable: " + k.Problem)
	}
	source, kind, data := keystore.SMIMEA, keystore.SMIME, []byte(nil)
	if k.Certificate != nil {
		data = k.Certificate.Raw
	} else {
		source, kind, data = keystore.OpenPGPKey, keystore.PGP, k.Key
	}
	pin := true
	for _, e := range st.Lookup(k.Asked) {
		if e.Kind == kind && e.PinnedFor(k.Asked) && e.Source != source && e.Fingerprint != k.Fingerprint {
			pin = false
		}
	}
	res, err := st.Import([]keystore.Input{{Name: k.Name, Data: data}}, &keystore.ImportOptions{
		Source: source, Origin: k.Name, DNSSEC: k.DNSSEC.String(), TTL: k.TTL, Pin: pin,
	})
	if err != nil {
		return "", err
	}
	if len(res) == 0 {
		return "", errors.New("securemail: the keystore took nothing from the lookup")
	}
	r := res[0] // one certificate or key was imported
	switch r.Status {
	case keystore.StatusRejected:
		return "", fmt.Errorf("securemail: the keystore refused the key %s found for %s: %s", strings.ToUpper(k.Kind), k.Asked, r.Reason)
	case keystore.StatusUnchanged, keystore.StatusMerged, keystore.StatusPinned:
		// Already there: the answer vouches for it again.
		if err := st.Revalidated(r.Fingerprint, k.DNSSEC.String(), k.TTL); err != nil {
			return "", err
		}
	}
	if len(r.Conflicts) > 0 {
		return r.Fingerprint, fmt.Errorf("securemail: %s found for %s is kept but not used: another key you chose is pinned for the address", strings.ToUpper(k.Kind), k.Asked)
	}
	return r.Fingerprint, nil
}

// Stale reports whether a keystore entry came from the DNS and its answer
// has outlived its TTL: it must be looked up again before it is used.
func (d *Directory) Stale(e keystore.Entry) bool {
	if e.Source != keystore.SMIMEA && e.Source != keystore.OpenPGPKey {
		return false
	}
	return !d.now().Before(e.Obtained.Add(time.Duration(e.TTL) * time.Second))
}

// BogusError is a DNS key lookup whose answer failed DNSSEC validation:
// possibly an attack, never used (S40).
type BogusError struct{ Lookup *KeyLookup }

func (e *BogusError) Error() string {
	return fmt.Sprintf("securemail: %s lookup for %s: %s", strings.ToUpper(e.Lookup.Kind), e.Lookup.Asked, e.Lookup.Problem)
}

// StaleError is a key from the DNS whose answer has expired and that a new
// lookup no longer vouches for: it is not used.
type StaleError struct {
	Fingerprint string
	Lookup      *KeyLookup
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("securemail: the %s key %s for %s came from the DNS, and the DNS no longer vouches for it (%s)",
		strings.ToUpper(e.Lookup.Kind), e.Fingerprint, e.Lookup.Address, e.Lookup.Problem)
}

// FindKeys makes sure the keystore has keys of kind (keystore.PGP or
// keystore.SMIME) for addrs where the DNS has them: an address without a
// usable key (as has says) is looked up (OPENPGPKEY or SMIMEA), and so is
// one whose key came from a DNS answer now past its TTL (re-validation).
// Usable answers are remembered (Remember). It returns every lookup made,
// for the caller to show why an address is still without a key; the error
// is a *BogusError for a forged-looking answer, a *StaleError for a DNS
// key the DNS no longer vouches for, or a *LookupError.
func (d *Directory) FindKeys(ctx context.Context, st *keystore.Store, kind keystore.Kind, addrs []string, has func(addr string) bool) ([]*KeyLookup, error) {
	var out []*KeyLookup
	for _, addr := range addrs {
		var stale []keystore.Entry
		for _, e := range st.Lookup(addr) {
			if e.Kind == kind && e.PinnedFor(addr) && d.Stale(e) {
				stale = append(stale, e)
			}
		}
		if has(addr) && len(stale) == 0 {
			continue
		}
		var k *KeyLookup
		var err error
		if kind == keystore.PGP {
			k, err = d.OpenPGPKey(ctx, addr)
		} else {
			k, err = d.SMIMEA(ctx, addr)
		}
		if err != nil {
			return out, err
		}
		out = append(out, k)
		if k.DNSSEC == dnssec.Bogus {
			return out, &BogusError{Lookup: k}
		}
		if !k.Usable() {
			if len(stale) > 0 {
				return out, &StaleError{Fingerprint: stale[0].Fingerprint, Lookup: k}
			}
			continue
		}
		if _, err := d.Remember(st, k); err != nil {
			return out, err
		}
	}
	return out, nil
}
