package keystore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// tx is one change to the store, made under the exclusive lock on the
// freshest index, so two processes importing at once both keep their keys.
type tx struct {
	s       *Store
	recs    []record
	byFpr   map[string]int
	byEmail map[string][]int
	changed bool
	pending map[string][]byte // objects to write at commit, by name
}

func (t *tx) reindex() {
	t.byFpr = make(map[string]int, len(t.recs))
	t.byEmail = make(map[string][]int, len(t.recs))
	for i := range t.recs {
		t.indexRecord(i)
	}
}

func (t *tx) indexRecord(i int) {
	t.byFpr[t.recs[i].Fingerprint] = i
	for _, e := range t.recs[i].Emails {
		t.byEmail[e] = append(t.byEmail[e], i)
	}
}

// update runs fn on the current index under the exclusive lock and, if fn
// changed anything, commits: new objects are already on disk (fsynced,
// linked exclusively), then the index is replaced atomically. Objects no
// longer referenced are removed afterwards.
func (s *Store) update(fn func(*tx) error) error {
	unlock, err := lockFile(s.lockPath())
	if err != nil {
		return err
	}
	defer unlock()
	current, err := s.readIndex()
	if err != nil {
		return err
	}
	t := &tx{s: s, recs: slices.Clone(current)}
	t.reindex()
	if err := fn(t); err != nil {
		s.collectGarbage(current)
		return err
	}
	if !t.changed {
		s.setRecords(current)
		return nil
	}
	// New objects are written (each fsynced) in parallel; one fsync of
	// their directory then makes their names durable before the index
	// that refers to them is.
	if err := s.writeObjects(t.pending); err != nil {
		s.collectGarbage(current)
		return err
	}
	if err := syncDir(s.objectDir()); err != nil {
		return err
	}
	slices.SortFunc(t.recs, compareRecords)
	renamed, err := s.writeIndex(t.recs)
	if !renamed {
		s.collectGarbage(current)
		return err
	}
	// From the rename on, the new index is live: its objects must stay,
	// even if making the rename durable failed.
	s.collectGarbage(t.recs)
	s.setRecords(t.recs)
	return err
}

// writeIndex replaces the index with recs. It reports whether the rename
// happened: after it, the new index is the store, whatever error follows.
func (s *Store) writeIndex(recs []record) (renamed bool, err error) {
	tmp, err := writeTemp(s.dir, encodeIndex(recs))
	if err != nil {
		return false, err
	}
	if s.opts != nil && s.opts.afterTempWrite != nil {
		s.opts.afterTempWrite()
	}
	if err := os.Rename(tmp, s.indexPath()); err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, syncDir(s.dir)
}

// collectGarbage removes objects that recs do not reference and temp files
// left by writers that died. It runs under the exclusive lock, so no other
// writer is between writing an object and committing the index. Failures
// are ignored: garbage costs only disk space.
func (s *Store) collectGarbage(recs []record) {
	live := make(map[string]bool, 2*len(recs))
	for i := range recs {
		live[recs[i].PublicObject] = true
		if recs[i].SecretObject != "" {
			live[recs[i].SecretObject] = true
		}
	}
	if ents, err := os.ReadDir(s.objectDir()); err == nil {
		for _, e := range ents {
			if !live[e.Name()] {
				os.Remove(filepath.Join(s.objectDir(), e.Name()))
			}
		}
	}
	if ents, err := os.ReadDir(s.dir); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				os.Remove(filepath.Join(s.dir, e.Name()))
			}
		}
	}
}

// objectName is the name of an object: the hex SHA-256 of its content.
func objectName(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// putObject schedules data to be stored, at commit, under the hex SHA-256
// of its content, and returns that name. An existing object of that name
// already holds the same bytes and is left alone.
func (t *tx) putObject(data []byte) (string, error) {
	name := objectName(data)
	if t.pending == nil {
		t.pending = map[string][]byte{}
	}
	t.pending[name] = data
	return name, nil
}

// writeObjects creates the objects, several at a time: each one costs an
// fsync, and the disk serves several at once.
func (s *Store) writeObjects(objs map[string][]byte) error {
	if len(objs) == 0 {
		return nil
	}
	names := make(chan string)
	errs := make(chan error, objectWriters)
	var wg sync.WaitGroup
	for range min(objectWriters, len(objs)) {
		wg.Go(func() {
			var first error
			for name := range names {
				if first != nil {
					continue
				}
				if _, err := createFile(filepath.Join(s.objectDir(), name), objs[name]); err != nil {
					first = err
				}
			}
			errs <- first
		})
	}
	for name := range objs {
		names <- name
	}
	close(names)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return fmt.Errorf("keystore: %w", err)
		}
	}
	return nil
}

// objectWriters is how many objects are written at once.
const objectWriters = 16

// find returns the record with fingerprint fpr. The pointer is valid until
// the next add or remove.
func (t *tx) find(fpr string) *record {
	if i, ok := t.byFpr[fpr]; ok {
		return &t.recs[i]
	}
	return nil
}

func (t *tx) add(r record) {
	t.recs = append(t.recs, r)
	t.indexRecord(len(t.recs) - 1)
	t.changed = true
}

// setEmails changes the addresses of the record at fpr, keeping the index.
func (t *tx) setEmails(fpr string, emails []string) {
	r := t.find(fpr)
	if r == nil || slices.Equal(r.Emails, emails) {
		return
	}
	r.Emails = emails
	t.reindex()
	t.changed = true
}

func (t *tx) remove(fpr string) {
	t.recs = slices.DeleteFunc(t.recs, func(r record) bool { return r.Fingerprint == fpr })
	t.reindex()
	t.changed = true
}

// pinnedFor returns the record of kind pinned for addr, other than except.
func (t *tx) pinnedFor(kind Kind, addr, except string) *record {
	for _, i := range t.byEmail[addr] {
		r := &t.recs[i]
		if r.Kind == kind && r.Fingerprint != except && r.PinnedFor(addr) {
			return r
		}
	}
	return nil
}

// Conflict reports that a key for Email arrived while another key of the
// same kind was pinned for it (S28). The new key is kept but not used for
// Email until the user pins it.
type Conflict struct {
	Email  string `json:"email"`
	Pinned string `json:"pinned"` // fingerprint of the key that stays pinned
}

// pin decides, for each address of r, whether r becomes the pinned key.
// A key that is not usable (revoked, expired) is never pinned, even with
// force. Otherwise it is pinned when no other key of its kind is pinned
// for the address and auto is set, or when force is set (the other key is
// unpinned); a key pinned elsewhere is reported as a conflict.
func (t *tx) pin(r *record, force, usable, auto bool) []Conflict {
	if !usable {
		return nil
	}
	var conflicts []Conflict
	for _, addr := range r.Emails {
		if r.PinnedFor(addr) {
			continue
		}
		other := t.pinnedFor(r.Kind, addr, r.Fingerprint)
		switch {
		case other == nil && (auto || force):
			r.Pinned = append(r.Pinned, addr)
			t.changed = true
		case other != nil && force:
			other.Pinned = slices.DeleteFunc(other.Pinned, func(a string) bool { return a == addr })
			r.Pinned = append(r.Pinned, addr)
			t.changed = true
		case other != nil:
			conflicts = append(conflicts, Conflict{Email: addr, Pinned: other.Fingerprint})
		}
	}
	slices.Sort(r.Pinned)
	return conflicts
}
