package keystore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind is the scheme a key belongs to.
type Kind string

// The kinds of keys a store holds.
const (
	PGP   Kind = "pgp"
	SMIME Kind = "smime"
)

// Source says how a key came into the store.
type Source string

// The provenances of a key.
const (
	Generated Source = "generated"
	Imported  Source = "imported"
	SMIMEA    Source = "smimea"
	// OpenPGPKey: an OpenPGP key from a DNSSEC-validated OPENPGPKEY
	// record (RFC 7929).
	OpenPGPKey Source = "openpgpkey"
	Message    Source = "message"
)

// Entry is what the store knows about one key or certificate without
// reading its key material. Entries with Secret set are the user's own
// identities; the others are contacts.
type Entry struct {
	Kind        Kind       `json:"kind"`
	Fingerprint string     `json:"fingerprint"`
	Emails      []string   `json:"emails"`
	UserIDs     []string   `json:"user_ids,omitempty"`
	Subject     string     `json:"subject,omitempty"`
	Issuer      string     `json:"issuer,omitempty"`
	Algorithm   string     `json:"algorithm"`
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires"`
	Revoked     bool       `json:"revoked"`
	CA          bool       `json:"ca,omitempty"`
	Secret      bool       `json:"secret"`
	Protected   bool       `json:"protected"`
	Source      Source     `json:"source"`
	Obtained    time.Time  `json:"obtained"`
	Origin      string     `json:"origin,omitempty"`
	DNSSEC      string     `json:"dnssec,omitempty"`
	TTL         uint32     `json:"ttl,omitempty"`
	Pinned      []string   `json:"pinned"`
	TrustAnchor bool       `json:"trust_anchor"`
	// AESGCM and RSAOAEP: the certificate's owner advertised AES-GCM
	// (AuthEnvelopedData) and RSAES-OAEP in the smimeCapabilities of a
	// verified signed message (RFC 8551 §2.5.2), so mail to them can use
	// them; without that, AES-CBC and RSA PKCS#1 v1.5, which every S/MIME
	// agent reads.
	AESGCM  bool `json:"aes_gcm,omitempty"`
	RSAOAEP bool `json:"rsa_oaep,omitempty"`
}

// Expired reports whether the key has expired at t.
func (e *Entry) Expired(t time.Time) bool { return e.Expires != nil && !t.Before(*e.Expires) }

// PinnedFor reports whether the key is pinned for addr.
func (e *Entry) PinnedFor(addr string) bool { return slices.Contains(e.Pinned, NormalizeEmail(addr)) }

// HasEmail reports whether the key carries addr.
func (e *Entry) HasEmail(addr string) bool { return slices.Contains(e.Emails, NormalizeEmail(addr)) }

// record is an Entry as the index stores it, with the names of its objects.
type record struct {
	Entry
	PublicObject string
	SecretObject string
}

// Options configure a Store. A nil *Options means the defaults.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the source of randomness; nil means crypto/rand.
	Rand io.Reader
	// KDF are the Argon2id parameters for newly sealed keys; nil means DefaultKDF.
	KDF *KDFParams

	// afterTempWrite, when set (by tests), runs after an index temp file is
	// written and before it is renamed into place.
	afterTempWrite func()
}

func (o *Options) now() time.Time {
	if o != nil && o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) rand() io.Reader {
	if o != nil && o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

func (o *Options) kdf() KDFParams {
	if o != nil && o.KDF != nil {
		return *o.KDF
	}
	return DefaultKDF
}

// Store is a directory of keys: an index (see index.go) naming
// content-addressed objects (objects/<sha256>), changed only under an
// exclusive file lock by writing new objects first and then replacing the
// index atomically. Readers see either the old or the new index, never a
// mix, and a crash at any point leaves the previous store intact.
//
// A Store is a snapshot taken at Open (and refreshed after each change it
// makes); it is not safe for concurrent use by several goroutines.
type Store struct {
	dir     string
	opts    *Options
	recs    []record
	byFpr   map[string]int   // built on first use
	byEmail map[string][]int // built on first use

	// lines are the index's record lines not parsed yet: Open only checks
	// the index; a command that looks up one key scans the lines for it
	// instead of parsing all of them (see Lookup). all() parses them.
	lines []string
	scans int
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, opts *Options) (*Store, error) {
	s := &Store{dir: dir, opts: opts}
	for _, d := range []string{dir, s.objectDir()} {
		if err := ensureDir(d); err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
	}
	// The index is replaced by rename, so it is read without the lock:
	// readers never wait for a writer.
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if s.lines, err = indexLines(data); err != nil {
		return nil, &IntegrityError{Reason: fmt.Sprintf("%s is corrupt: %v", s.indexPath(), err)}
	}
	if len(s.lines) == 0 {
		s.lines = nil
	}
	return s, nil
}

// all parses the lines Open left unparsed, once, and returns every record.
// A line that passed the index's checksum but does not parse (an index
// edited by hand, checksum recomputed) is left out here; any change to the
// store reads the index strictly and reports it.
func (s *Store) all() []record {
	if s.lines != nil {
		s.setRecords(parseLines(s.lines))
	}
	return s.recs
}

// parseLines parses record lines, in parallel for a large index (each
// line is independent), dropping the ones that do not parse.
func parseLines(lines []string) []record {
	recs := make([]record, len(lines))
	ok := make([]bool, len(lines))
	workers := min(runtime.GOMAXPROCS(0), len(lines)/2000+1)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(lines)/workers, (w+1)*len(lines)/workers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				r, err := parseRecordLine(lines[i])
				recs[i], ok[i] = r, err == nil
			}
		})
	}
	wg.Wait()
	out := recs[:0]
	for i := range recs {
		if ok[i] {
			out = append(out, recs[i])
		}
	}
	return out
}

// scan returns the records of the unparsed lines that contain needle (a
// cheap pre-filter: callers check the parsed record).
func (s *Store) scan(needle string) []record {
	var out []record
	for _, l := range s.lines {
		if strings.Contains(l, needle) {
			if r, err := parseRecordLine(l); err == nil {
				out = append(out, r)
			}
		}
	}
	return out
}

// scanning reports whether a lookup should scan the unparsed lines rather
// than parse them all: the first two lookups of a Store do (a command
// looks up one or two keys); later ones parse everything and use maps.
func (s *Store) scanning() bool {
	if s.lines == nil || s.scans >= 2 {
		return false
	}
	s.scans++
	return true
}

// Dir is the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

func (s *Store) indexPath() string { return filepath.Join(s.dir, "index") }
func (s *Store) lockPath() string  { return filepath.Join(s.dir, "lock") }
func (s *Store) objectDir() string { return filepath.Join(s.dir, "objects") }

func (s *Store) readIndex() ([]record, error) {
	data, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	recs, err := decodeIndex(data)
	if err != nil {
		return nil, &IntegrityError{Reason: fmt.Sprintf("%s is corrupt: %v", s.indexPath(), err)}
	}
	return recs, nil
}

func compareRecords(a, b record) int {
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	return strings.Compare(a.Fingerprint, b.Fingerprint)
}

func (s *Store) setRecords(recs []record) {
	if !slices.IsSortedFunc(recs, compareRecords) {
		slices.SortFunc(recs, compareRecords)
	}
	s.recs = recs
	s.lines = nil
	s.byFpr, s.byEmail = nil, nil
}

// maps builds the lookup maps on first use: listing needs none of them.
func (s *Store) maps() {
	s.all()
	if s.byFpr != nil {
		return
	}
	s.byFpr = make(map[string]int, len(s.recs))
	s.byEmail = make(map[string][]int, len(s.recs))
	for i := range s.recs {
		s.byFpr[s.recs[i].Fingerprint] = i
		for _, e := range s.recs[i].Emails {
			s.byEmail[e] = append(s.byEmail[e], i)
		}
	}
}

// Entries returns every entry, ordered by kind and fingerprint.
func (s *Store) Entries() []Entry {
	s.all()
	out := make([]Entry, len(s.recs))
	for i := range s.recs {
		out[i] = s.recs[i].Entry
	}
	return out
}

// Len is the number of keys in the store.
func (s *Store) Len() int {
	if s.lines != nil {
		return len(s.lines)
	}
	return len(s.recs)
}

// Lookup returns the entries that carry addr, pinned ones first.
func (s *Store) Lookup(addr string) []Entry {
	addr = NormalizeEmail(addr)
	var out []Entry
	if s.scanning() {
		for _, r := range s.scan(addr) {
			if r.HasEmail(addr) {
				out = append(out, r.Entry)
			}
		}
	} else {
		s.maps()
		for _, i := range s.byEmail[addr] {
			out = append(out, s.recs[i].Entry)
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		ap, bp := a.PinnedFor(addr), b.PinnedFor(addr)
		switch {
		case ap && !bp:
			return -1
		case bp && !ap:
			return 1
		}
		return 0
	})
	return out
}

// Pinned returns the key of kind pinned for addr.
func (s *Store) Pinned(kind Kind, addr string) (Entry, bool) {
	for _, e := range s.Lookup(addr) {
		if e.Kind == kind && e.PinnedFor(addr) {
			return e, true
		}
	}
	return Entry{}, false
}

// Get returns the entry with a full fingerprint.
func (s *Store) Get(fingerprint string) (Entry, bool) {
	fpr, err := NormalizeFingerprint(fingerprint)
	if err != nil {
		return Entry{}, false
	}
	return s.byFingerprint(fpr)
}

// byFingerprint finds a record by its normalised fingerprint.
func (s *Store) byFingerprint(fpr string) (Entry, bool) {
	if s.scanning() {
		for _, r := range s.scan("\t" + fpr + "\t") {
			if r.Fingerprint == fpr {
				return r.Entry, true
			}
		}
		return Entry{}, false
	}
	s.maps()
	i, ok := s.byFpr[fpr]
	if !ok {
		return Entry{}, false
	}
	return s.recs[i].Entry, true
}

// Resolve finds the one key a user named by an address or a full
// fingerprint, optionally restricted to kind (empty means any). For an
// address, a key pinned for it wins over others of the same kind.
func (s *Store) Resolve(query string, kind Kind) (Entry, error) {
	if strings.Contains(query, "@") {
		var matches []Entry
		for _, e := range s.Lookup(query) {
			if kind == "" || e.Kind == kind {
				matches = append(matches, e)
			}
		}
		if len(matches) == 0 {
			return Entry{}, &NotFoundError{Query: query}
		}
		var pinned []Entry
		for _, e := range matches {
			if e.PinnedFor(query) {
				pinned = append(pinned, e)
			}
		}
		if len(pinned) == 1 {
			return pinned[0], nil
		}
		if len(matches) == 1 {
			return matches[0], nil
		}
		fprs := make([]string, len(matches))
		for i, e := range matches {
			fprs[i] = e.Fingerprint
		}
		return Entry{}, &AmbiguousError{Query: query, Fingerprints: fprs}
	}
	fpr, err := NormalizeFingerprint(query)
	if err != nil {
		return Entry{}, err
	}
	e, ok := s.byFingerprint(fpr)
	if !ok || (kind != "" && e.Kind != kind) {
		return Entry{}, &NotFoundError{Query: query}
	}
	return e, nil
}

// NormalizeEmail lower-cases an address and trims spaces and angle brackets.
func NormalizeEmail(addr string) string {
	addr = strings.TrimSpace(addr)
	addr = strings.TrimPrefix(addr, "<")
	addr = strings.TrimSuffix(addr, ">")
	return strings.ToLower(addr)
}

// plausibleAddress reports whether addr can stand for a mailbox in the
// store: one @, no spaces, control characters or bidi controls, which could
// make one address look like another on screen (S25).
func plausibleAddress(addr string) bool {
	at := strings.IndexByte(addr, '@')
	if at <= 0 || at != strings.LastIndexByte(addr, '@') || at == len(addr)-1 {
		return false
	}
	for _, r := range addr {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Bidi_Control, r) ||
			r == 0x200b || r == 0x200c || r == 0x200d || r == 0xfeff || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// NormalizeFingerprint upper-cases a fingerprint and removes spaces, colons
// and a 0x prefix. It accepts only full fingerprints: 40 hex digits (OpenPGP
// v4) or 64 (OpenPGP v6, and the SHA-256 of an X.509 certificate).
func NormalizeFingerprint(s string) (string, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	t = strings.NewReplacer(" ", "", ":", "").Replace(t)
	t = strings.ToUpper(t)
	if _, err := hex.DecodeString(t); err != nil || t == "" {
		return "", &FormatError{Reason: fmt.Sprintf("%q is neither an email address nor a fingerprint", s)}
	}
	switch len(t) {
	case 40, 64:
		return t, nil
	case 8, 16:
		return "", &ShortKeyIDError{ID: s}
	}
	return "", &FormatError{Reason: fmt.Sprintf("%q is not a full fingerprint (40 or 64 hex digits)", s)}
}

// readObject reads a content-addressed object and checks its hash.
func (s *Store) readObject(name string) ([]byte, error) {
	if len(name) != 64 {
		return nil, &IntegrityError{Reason: fmt.Sprintf("index names a malformed object %q", name)}
	}
	data, err := os.ReadFile(filepath.Join(s.objectDir(), name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", errObjectMissing, name)
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != name {
		return nil, &IntegrityError{Reason: fmt.Sprintf("object %s is corrupt (its hash does not match)", name)}
	}
	return data, nil
}

// loadObjects returns the public and (if any) secret objects of a record.
// It takes no lock: objects are immutable and checked against their names;
// one removed meanwhile by another process (its key deleted or replaced)
// is reported as missing.
//
// Another process may have replaced or deleted the key since this Store
// read the index, and collected its old objects: then the index is read
// again and the key looked up anew, once.
func (s *Store) loadObjects(fpr string) (rec record, public, secret []byte, err error) {
	for attempt := 0; ; attempt++ {
		rec, public, secret, err = s.readObjects(fpr)
		if !errors.Is(err, errObjectMissing) {
			return rec, public, secret, err
		}
		if attempt > 0 {
			return rec, nil, nil, &IntegrityError{Fingerprint: fpr, Reason: err.Error() + " (the store is damaged)"}
		}
		recs, rerr := s.readIndex()
		if rerr != nil {
			return rec, nil, nil, rerr
		}
		s.setRecords(recs)
	}
}

func (s *Store) readObjects(fpr string) (rec record, public, secret []byte, err error) {
	s.maps()
	i, ok := s.byFpr[fpr]
	if !ok {
		return rec, nil, nil, &NotFoundError{Query: fpr}
	}
	rec = s.recs[i]
	if public, err = s.readObject(rec.PublicObject); err != nil {
		return rec, nil, nil, err
	}
	if rec.SecretObject != "" {
		if secret, err = s.readObject(rec.SecretObject); err != nil {
			return rec, nil, nil, err
		}
	}
	return rec, public, secret, nil
}

// errObjectMissing marks an object the index names but the disk lacks.
var errObjectMissing = errors.New("keystore: object missing")

// HomeWarning returns a warning when dir, or a directory of the store
// below it (dir/keys, dir/keys/objects), can be read or entered by users
// other than its owner (S55), or "" when all are private.
func HomeWarning(dir string) string {
	for _, d := range []string{dir, filepath.Join(dir, "keys"), filepath.Join(dir, "keys", "objects")} {
		st, err := os.Stat(d)
		if err != nil {
			continue
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			return fmt.Sprintf("%s is accessible by other users (mode %04o): run chmod 700 %s", d, perm, d)
		}
	}
	return ""
}
