package mailbox

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// entry is one message file found by a listing.
type entry struct {
	key  int64 // timeKey of the ID
	name Name
	file string
	new  bool
}

// List yields the messages in the folder's new/ and cur/ directories,
// oldest first (see [ListOptions]). It reads the directories first, then
// one header block per message as the caller asks for the next one: it
// opens the file, reads up to the empty line that ends the header (at most
// [ListOptions.MaxHeaderSize] bytes) and closes it. A message that another
// program renames while the listing runs (a flag change, a move from new/
// to cur/) is looked up again and comes last; one it deletes is left out.
// A file name that is not a Maildir name is reported as a
// [NameError] and the listing goes on; names starting with '.' are
// skipped. The first listing of a folder also removes stale files from its
// tmp/ ([Maildir.CleanTmp]).
func (m *Maildir) List(folder string, opts *ListOptions) iter.Seq2[Message, error] {
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
		dir, err := folderDir(folder)
		if err != nil {
			yield(Message{}, err)
			return
		}
		m.mu.Lock()
		cleaned := m.cleaned[dir]
		m.mu.Unlock()
		if !cleaned {
			// A failure here is not the listing's business.
			m.cleanTmp(dir, folder)
		}
		entries, bad, err := m.scan(dir, folder)
		if err != nil {
			yield(Message{}, err)
			return
		}
		for _, err := range bad {
			if !yield(Message{Folder: folder}, err) {
				return
			}
		}
		entries = entries[min(max(o.Offset, 0), len(entries)):]
		if o.Limit > 0 && o.Limit < len(entries) {
			entries = entries[:o.Limit]
		}
		if len(entries) == 0 {
			return
		}
		l := lister{m: m, folder: folder, opts: &o}
		defer l.close()
		if l.new, err = openMsgDir(m.root, join(dir, "new")); err == nil {
			l.cur, err = openMsgDir(m.root, join(dir, "cur"))
		}
		if err != nil {
			yield(Message{}, fmt.Errorf("mailbox: list %q: %w", folder, err))
			return
		}
		if missed, complete := l.run(entries, yield); complete && len(missed) > 0 {
			l.retry(dir, missed, yield)
		}
	}
}

// scan reads new/ and then cur/, so that a message moved from one to the
// other meanwhile is seen at least once, and returns the entries sorted,
// one per ID (the one in cur/ when there are two).
func (m *Maildir) scan(dir, folder string) ([]entry, []error, error) {
	var names [2][]string
	for i, sub := range [...]string{"new", "cur"} {
		var err error
		names[i], err = m.readNames(join(dir, sub))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil, &NotFoundError{Folder: folder}
			}
			return nil, nil, fmt.Errorf("mailbox: list %q: %w", folder, err)
		}
	}
	entries := make([]entry, 0, len(names[0])+len(names[1]))
	var bad []error
	for i := range names {
		for _, file := range names[i] {
			if isHidden(file) {
				continue
			}
			n, err := ParseName(file)
			if err != nil {
				bad = append(bad, err)
				continue
			}
			entries = append(entries, entry{key: timeKey(n.ID), name: n, file: file, new: i == 0})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.name.ID, b.name.ID); c != 0 {
			return c
		}
		if a.new != b.new {
			if a.new {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.file, b.file)
	})
	entries = slices.CompactFunc(entries, func(a, b entry) bool { return a.name.ID == b.name.ID })
	return entries, bad, nil
}

// lister reads the messages of one listing.
type lister struct {
	m      *Maildir
	folder string
	opts   *ListOptions
	new    *msgDir
	cur    *msgDir
}

// listBatch is how many messages the workers of a listing read ahead of
// the caller.
const listBatch = 256

// run yields the entries in order and returns those whose files had gone
// (renamed or deleted since the directory was read) and whether the caller
// took every message.
//
// Header blocks are read by several workers, one batch ahead of the caller:
// a listing spends its time in open/read/close system calls, which run in
// parallel on several cores and, when the files are not in the page cache,
// keep several reads in flight (hence at least 4 workers, and at most 8).
func (l *lister) run(entries []entry, yield func(Message, error) bool) (missed []entry, complete bool) {
	workers := min(max(runtime.GOMAXPROCS(0), 4), 8)
	if len(entries) < 2*listBatch {
		workers = 1
	}
	readers := make([]headerReader, workers)
	for i := range readers {
		readers[i].limit = l.opts.MaxHeaderSize
	}
	if workers == 1 {
		for i := range entries {
			msg, err := l.read(&entries[i], &readers[0])
			if errors.Is(err, fs.ErrNotExist) {
				missed = append(missed, entries[i])
				continue
			}
			if !yield(msg, err) {
				return nil, false
			}
		}
		return missed, true
	}

	type batch struct {
		part []entry
		msgs []Message
		errs []error
		done chan struct{}
	}
	var stop atomic.Bool
	start := func(part []entry) *batch {
		b := &batch{part: part, msgs: make([]Message, len(part)), errs: make([]error, len(part)), done: make(chan struct{})}
		go func() {
			defer close(b.done)
			var next atomic.Int64
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for {
						i := int(next.Add(1) - 1)
						if i >= len(part) || stop.Load() {
							return
						}
						b.msgs[i], b.errs[i] = l.read(&part[i], &readers[w])
					}
				})
			}
			wg.Wait()
		}()
		return b
	}
	cur := start(entries[:listBatch])
	// However the caller leaves (break, panic), the workers are done before
	// the directories they read are closed.
	defer func() {
		if cur != nil {
			stop.Store(true)
			<-cur.done
		}
	}()
	for off := 0; off < len(entries); off += listBatch {
		<-cur.done
		b := cur
		cur = nil
		if next := off + listBatch; next < len(entries) {
			cur = start(entries[next:min(next+listBatch, len(entries))])
		}
		for i := range b.msgs {
			if errors.Is(b.errs[i], fs.ErrNotExist) {
				missed = append(missed, b.part[i])
				continue
			}
			if !yield(b.msgs[i], b.errs[i]) {
				return nil, false
			}
		}
	}
	return missed, true
}

// retry reads the folder's directories again and yields the messages whose
// files had gone during the listing and are now found under another name
// (another program changed their flags). Those deleted stay out.
func (l *lister) retry(dir string, missed []entry, yield func(Message, error) bool) {
	again, _, err := l.m.scan(dir, l.folder)
	if err != nil {
		return
	}
	gone := make(map[string]bool, len(missed))
	for _, e := range missed {
		gone[e.name.ID] = true
	}
	h := headerReader{limit: l.opts.MaxHeaderSize}
	for i := range again {
		if !gone[again[i].name.ID] {
			continue
		}
		msg, err := l.read(&again[i], &h)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if !yield(msg, err) {
			return
		}
	}
}

func (l *lister) close() {
	if l.new != nil {
		l.new.close()
	}
	if l.cur != nil {
		l.cur.close()
	}
}

// read reads one message with h; it may run in several goroutines at once,
// each with its own headerReader.
func (l *lister) read(e *entry, h *headerReader) (Message, error) {
	msg := Message{ID: e.name.ID, Folder: l.folder, Flags: e.name.Flags, New: e.new}
	d := l.cur
	if e.new {
		d = l.new
	}
	if l.opts.SkipHeaders {
		h = nil
	}
	size, mtime, header, truncated, err := d.read(e.file, h)
	if err != nil {
		return msg, fmt.Errorf("mailbox: list %q: %w", l.folder, err)
	}
	msg.Size, msg.ModTime, msg.HeaderTruncated = size, mtime, truncated
	switch {
	case l.opts.SkipHeaders:
	case l.opts.HeaderFields != nil:
		msg.Header = selectFields(header, l.opts.HeaderFields)
	default:
		msg.Header = Header(bytes.Clone(header))
		if msg.Header == nil {
			msg.Header = Header{}
		}
	}
	return msg, nil
}

var errNotRegular = errors.New("not a regular file")

// headerReader reads header blocks into a buffer it reuses.
type headerReader struct {
	buf   []byte
	limit int
}

// readChunk is the first read of a header: most header blocks fit.
const readChunk = 16 << 10

// readHeader reads the header block at the start of f, a file of the given
// size, and returns it (valid until the next call with h) and whether it
// was cut at the size limit.
func readHeader[R io.Reader](h *headerReader, f R, size int64) ([]byte, bool, error) {
	limit := h.limit
	want := min(int64(readChunk), size, int64(limit))
	n := 0
	for {
		if int64(cap(h.buf)) < want {
			h.buf = slices.Grow(h.buf[:0], int(want))[:0]
		}
		b := h.buf[:want]
		m, err := io.ReadFull(f, b[n:])
		n += m
		b = b[:n]
		end, found := headerEnd(b)
		if found {
			return b[:end], false, nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return b, false, nil // a message that is all header
		}
		if err != nil {
			return nil, false, err
		}
		if n >= limit {
			if int64(n) >= size {
				return b, false, nil // all header, exactly the limit
			}
			// Cut after the last complete line.
			if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
				b = b[:i+1]
			}
			return b, true, nil
		}
		want = min(2*want, int64(limit))
		if want <= int64(n) {
			want = int64(n) + readChunk
		}
	}
}
