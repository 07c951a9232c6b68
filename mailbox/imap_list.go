package mailbox

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
)

// cachedListFields are fetched, besides those a listing asks for, when it
// asks for some fields: the ones message lists show and sort by, so that
// the next listing (with another choice of fields) finds them cached.
var cachedListFields = []string{
	"From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date",
	"Message-ID", "In-Reply-To", "References", "Content-Type", "MIME-Version",
}

// imapHeaderBatch is how many header blocks one FETCH asks for.
const imapHeaderBatch = 250

// snapEntry is one message of a folder as a listing found it.
type snapEntry struct {
	uid    uint32
	flags  Flags
	recent bool
}

// List yields the messages of a folder, oldest first (by UID, which grows
// with each arrival in the folder); their IDs are their UIDs. It asks the
// server for the UID and flags of every message in one FETCH; then, as
// the caller iterates, for the header blocks, sizes and arrival times
// (INTERNALDATE, as ModTime) of the page (ListOptions.Offset, Limit) that
// the header cache does not know, a batch at a time (BODY.PEEK, so nothing
// becomes \Seen). New is the \Recent flag. With SkipHeaders nothing but
// UIDs and flags is fetched: Size and ModTime are those the cache knows,
// zero for a message never listed with its header. The connection is free
// between batches, for the caller's other operations.
func (m *IMAP) List(folder string, opts *ListOptions) iter.Seq2[Message, error] {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxHeaderSize <= 0 {
		o.MaxHeaderSize = DefaultMaxHeaderSize
	}
	if o.HeaderFields != nil {
		o.HeaderFields = slices.DeleteFunc(slices.Clone(o.HeaderFields), func(n string) bool { return !validFieldName(n) })
	}
	return func(yield func(Message, error) bool) {
		name, err := imapFolder(folder)
		if err != nil {
			yield(Message{}, err)
			return
		}
		fc := m.cache.folder(name)
		defer fc.flush()
		snap, uidValidity, err := m.snapshot(name, fc)
		if err != nil {
			yield(Message{}, err)
			return
		}
		snap = snap[min(max(o.Offset, 0), len(snap)):]
		if o.Limit > 0 && o.Limit < len(snap) {
			snap = snap[:o.Limit]
		}
		var want string
		var fetchFields []string
		if o.HeaderFields != nil {
			fetchFields = append(slices.Clone(o.HeaderFields), cachedListFields...)
			want = fieldKey(fetchFields)
		}
		for start := 0; start < len(snap); start += imapHeaderBatch {
			batch := snap[start:min(start+imapHeaderBatch, len(snap))]
			if !o.SkipHeaders {
				if err := m.fillHeaders(name, fc, uidValidity, batch, want, fetchFields, o.MaxHeaderSize); err != nil {
					yield(Message{}, err)
					return
				}
			}
			for _, s := range batch {
				msg, ok := m.message(folder, fc, s, &o, want)
				if !ok {
					continue // expunged meanwhile
				}
				if !yield(msg, nil) {
					return
				}
			}
			if start > 0 && start%(8*imapHeaderBatch) == 0 {
				fc.flush()
			}
		}
	}
}

// message builds the Message of a snapshot entry from the cache.
func (m *IMAP) message(folder string, fc *folderCache, s snapEntry, o *ListOptions, want string) (Message, bool) {
	msg := Message{
		ID:     uidString(imap.UID(s.uid)),
		Folder: folder,
		Flags:  s.flags,
		New:    s.recent,
	}
	e, ok := fc.get(s.uid)
	if ok && e.hasMeta() {
		msg.Size, msg.ModTime = e.size, time.Unix(e.date, 0)
	}
	if o.SkipHeaders {
		return msg, true
	}
	if !ok || !e.covers(want, o.MaxHeaderSize) {
		return msg, false // expunged before its header was fetched
	}
	h := e.header
	truncated := e.truncated
	if len(h) > o.MaxHeaderSize {
		h = h[:o.MaxHeaderSize]
		if i := bytes.LastIndexByte(h, '\n'); i >= 0 {
			h = h[:i+1]
		}
		truncated = true
	}
	msg.HeaderTruncated = truncated
	if o.HeaderFields != nil {
		msg.Header = selectFields(h, o.HeaderFields)
	} else {
		msg.Header = Header(bytes.Clone(h))
	}
	if msg.Header == nil {
		msg.Header = Header{}
	}
	return msg, true
}

// folderSnap is a listing of a folder: its messages by UID, and the
// highest modification sequence (CONDSTORE) among them.
type folderSnap struct {
	folder      string
	uidValidity uint32
	modSeq      uint64
	entries     []snapEntry // sorted by UID, which is sequence order
}

// snapshot returns every message of the folder with its flags, and the
// folder's UIDVALIDITY. On a server with CONDSTORE, a folder listed
// before over the same connection is brought up to date with the changes
// since (FETCH CHANGEDSINCE, and UID SEARCH when messages went away)
// instead of being fetched whole again.
func (m *IMAP) snapshot(folder string, fc *folderCache) ([]snapEntry, uint32, error) {
	var snap []snapEntry
	var uidValidity uint32
	err := m.run(m.base, "list", func(ctx context.Context, ic *imapConn) error {
		uv, n, err := m.selectLocked(ic, folder, true)
		if err != nil {
			return err
		}
		uidValidity = uv
		if s := ic.snap; s != nil && s.folder == folder && s.uidValidity == uv && s.modSeq != 0 {
			next, err := m.refreshSnap(ic, s, n)
			if err != nil {
				return err
			}
			if next != nil {
				ic.snap, snap = next, next.entries
				m.noteFlags(fc, uv, next.entries)
				return nil
			}
		}
		next, err := m.fetchSnap(ic, folder, uv, n)
		if err != nil {
			return err
		}
		ic.snap, snap = next, next.entries
		m.noteFlags(fc, uv, next.entries)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return snap, uidValidity, nil
}

// noteFlags remembers the flags of a listing and forgets the cached
// messages that are gone.
func (m *IMAP) noteFlags(fc *folderCache, uv uint32, entries []snapEntry) {
	present := make(map[uint32]bool, len(entries))
	for _, s := range entries {
		present[s.uid] = true
		fc.setFlags(s.uid, s.flags)
	}
	fc.prune(uv, func(uid uint32) bool { return present[uid] })
}

// fetchSnap fetches the UID and flags of every message. It asks for
// nothing else: a server may have to read a message to tell its
// RFC822.SIZE, so sizes and dates come with the headers of the messages
// shown.
func (m *IMAP) fetchSnap(ic *imapConn, folder string, uv, n uint32) (*folderSnap, error) {
	condStore := ic.caps.Has(imap.CapCondStore)
	s := &folderSnap{folder: folder, uidValidity: uv, entries: make([]snapEntry, 0, n)}
	if n == 0 {
		return s, nil
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	cmd := ic.c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, ModSeq: condStore})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			cmd.Close()
			return nil, err
		}
		if buf.UID == 0 {
			continue
		}
		e := snapEntry{uid: uint32(buf.UID)}
		e.flags, e.recent = flagsFromIMAP(buf.Flags)
		s.entries = append(s.entries, e)
		s.modSeq = max(s.modSeq, buf.ModSeq)
	}
	if err := cmd.Close(); err != nil {
		return nil, serverError(fmt.Sprintf("list %q", folder), err)
	}
	slices.SortFunc(s.entries, func(a, b snapEntry) int { return cmp.Compare(a.uid, b.uid) })
	s.entries = slices.CompactFunc(s.entries, func(a, b snapEntry) bool { return a.uid == b.uid })
	if !condStore {
		s.modSeq = 0
	}
	return s, nil
}

// refreshSnap brings s up to date: the messages whose flags changed or
// that arrived since (FETCH CHANGEDSINCE), and, when the count says some
// went away, the UIDs still there (UID SEARCH ALL). It returns nil when
// the answers do not add up, and the folder must be fetched whole.
func (m *IMAP) refreshSnap(ic *imapConn, s *folderSnap, n uint32) (*folderSnap, error) {
	next := &folderSnap{folder: s.folder, uidValidity: s.uidValidity, modSeq: s.modSeq, entries: slices.Clone(s.entries)}
	if n == 0 {
		next.entries = next.entries[:0]
		return next, nil
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	bufs, err := ic.c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, ModSeq: true, ChangedSince: s.modSeq}).Collect()
	if err != nil {
		return nil, serverError(fmt.Sprintf("list %q", s.folder), err)
	}
	var maxUID uint32
	if len(next.entries) > 0 {
		maxUID = next.entries[len(next.entries)-1].uid
	}
	added := 0
	for _, b := range bufs {
		if b.UID == 0 {
			continue
		}
		uid := uint32(b.UID)
		flags, recent := flagsFromIMAP(b.Flags)
		next.modSeq = max(next.modSeq, b.ModSeq)
		i, found := slices.BinarySearchFunc(next.entries, uid, func(e snapEntry, uid uint32) int { return cmp.Compare(e.uid, uid) })
		switch {
		case found:
			next.entries[i].flags, next.entries[i].recent = flags, recent
		case uid > maxUID:
			next.entries = append(next.entries, snapEntry{uid: uid, flags: flags, recent: recent})
			added++
		default:
			return nil, nil // an old UID we never saw: start again
		}
	}
	slices.SortFunc(next.entries, func(a, b snapEntry) int { return cmp.Compare(a.uid, b.uid) })
	gone := len(s.entries) + added - int(n)
	switch {
	case gone < 0:
		return nil, nil
	case gone > 0:
		res, err := ic.c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		if err != nil {
			return nil, serverError(fmt.Sprintf("list %q", s.folder), err)
		}
		present := map[uint32]bool{}
		for _, uid := range res.AllUIDs() {
			present[uint32(uid)] = true
		}
		next.entries = slices.DeleteFunc(next.entries, func(e snapEntry) bool { return !present[e.uid] })
		if len(next.entries) != int(n) {
			return nil, nil
		}
	}
	return next, nil
}

// errFolderChanged says a folder's UIDVALIDITY changed during a listing:
// its messages are not the ones listed.
var errFolderChanged = errors.New("the folder was replaced on the server (UIDVALIDITY changed); list it again")

// fillHeaders fetches the header blocks of the batch that the cache does
// not cover, into the cache.
func (m *IMAP) fillHeaders(folder string, fc *folderCache, uidValidity uint32, batch []snapEntry, want string, fields []string, limit int) error {
	var need imap.UIDSet
	for _, s := range batch {
		if e, ok := fc.get(s.uid); !ok || !e.covers(want, limit) || !e.hasMeta() {
			need.AddNum(imap.UID(s.uid))
		}
	}
	if len(need) == 0 {
		return nil
	}
	return m.run(m.base, "list", func(ctx context.Context, ic *imapConn) error {
		uv, _, err := m.selectLocked(ic, folder)
		if err != nil {
			return err
		}
		if uv != uidValidity {
			return fmt.Errorf("mailbox: list %q: %w", folder, errFolderChanged)
		}
		section := &imap.FetchItemBodySection{
			Specifier:    imap.PartSpecifierHeader,
			HeaderFields: fields,
			Peek:         true,
			Partial:      &imap.SectionPartial{Offset: 0, Size: int64(limit) + 1},
		}
		cmd := ic.c.Fetch(need, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section}})
		for {
			msg := cmd.Next()
			if msg == nil {
				break
			}
			buf, err := msg.Collect()
			if err != nil {
				cmd.Close()
				return err
			}
			if buf.UID == 0 || len(buf.BodySection) == 0 {
				continue
			}
			raw := buf.BodySection[0].Bytes
			header, truncated := cutHeader(raw, limit)
			fc.putMeta(uv, uint32(buf.UID), buf.RFC822Size, buf.InternalDate.Unix())
			fc.putHeader(uv, uint32(buf.UID), want, header, truncated, limit)
		}
		if err := cmd.Close(); err != nil {
			return serverError(fmt.Sprintf("list %q", folder), err)
		}
		return nil
	})
}

// cutHeader returns the header block at the start of raw (without the
// empty line that ends it) and whether raw was longer than limit, in which
// case the block is cut after its last complete line within limit.
func cutHeader(raw []byte, limit int) ([]byte, bool) {
	truncated := false
	if len(raw) > limit {
		raw = raw[:limit]
		truncated = true
	}
	end, found := headerEnd(raw)
	h := raw[:end]
	if !found && truncated {
		if i := bytes.LastIndexByte(h, '\n'); i >= 0 {
			h = h[:i+1]
		}
	} else if found {
		truncated = false
	}
	return bytes.Clone(h), truncated
}
