package mailbox

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Watcher is a [Mailbox] that reports changes to a folder as they happen:
// [IMAP] does. A caller finds it by type assertion.
type Watcher interface {
	// Watch reports the changes to folder on the returned channel until
	// ctx ends (or the mailbox is closed); then the channel is closed.
	Watch(ctx context.Context, folder string) (<-chan Event, error)
}

var _ Watcher = (*IMAP)(nil)

// EventKind says what an [Event] reports.
type EventKind int

// The kinds of events.
const (
	// EventNew: messages arrived; IDs lists them.
	EventNew EventKind = iota + 1
	// EventExpunged: messages left the folder (deleted or moved away);
	// IDs lists those known.
	EventExpunged
	// EventFlags: the flags of message ID are now Flags.
	EventFlags
	// EventDisconnected: the connection broke (Err says why); the watcher
	// reconnects by itself, waiting longer after each failure.
	EventDisconnected
	// EventReconnected: the connection is back. Changes made meanwhile
	// were not reported one by one: list the folder again.
	EventReconnected
	// EventError: a queued change was refused when replayed (Err), or the
	// folder cannot be watched.
	EventError
)

func (k EventKind) String() string {
	switch k {
	case EventNew:
		return "new"
	case EventExpunged:
		return "expunged"
	case EventFlags:
		return "flags"
	case EventDisconnected:
		return "disconnected"
	case EventReconnected:
		return "reconnected"
	case EventError:
		return "error"
	}
	return "unknown"
}

// Event is a change to a watched folder.
type Event struct {
	Kind   EventKind
	Folder string
	IDs    []string
	ID     string
	Flags  Flags
	Err    error
}

// watcher is one Watch: its own connection, in IDLE (RFC 2177) when the
// server has it, else polling with NOOP.
type watcher struct {
	m      *IMAP
	folder string
	out    chan Event

	mu      sync.Mutex
	changes []watchChange
	signal  chan struct{}
}

// watchChange is what the server said unasked: one of its fields is set.
type watchChange struct {
	expunge uint32
	exists  *uint32
	fetch   *imapclient.FetchMessageBuffer
}

// Watch watches a folder over a connection of its own: IDLE when the
// server offers it (restarted before the 29 minutes of RFC 2177), else a
// NOOP every [IMAPOptions.PollInterval]. When the connection breaks it
// sends [EventDisconnected] and connects again with backoff (a quarter of
// a second, doubling up to 30 s), then sends [EventReconnected] and
// replays the queued changes.
func (m *IMAP) Watch(ctx context.Context, folder string) (<-chan Event, error) {
	name, err := imapFolder(folder)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	closed := m.closed
	if !closed {
		m.watchers.Add(1)
	}
	m.mu.Unlock()
	if closed {
		return nil, errors.New("mailbox: watch: the IMAP mailbox is closed")
	}
	w := &watcher{m: m, folder: name, out: make(chan Event, 64), signal: make(chan struct{}, 1)}
	m.watchMu.Lock()
	m.watching = append(m.watching, w)
	m.watchMu.Unlock()
	go w.run(ctx)
	return w.out, nil
}

// notify sends an event to every watcher of its folder, without waiting.
func (m *IMAP) notify(ev Event) {
	m.watchMu.Lock()
	defer m.watchMu.Unlock()
	for _, w := range m.watching {
		if ev.Folder == "" || ev.Folder == w.folder {
			select {
			case w.out <- ev:
			default:
			}
		}
	}
}

func (w *watcher) run(ctx context.Context) {
	m := w.m
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(m.base, cancel)
	defer stop()
	defer func() {
		m.watchMu.Lock()
		m.watching = slices.DeleteFunc(m.watching, func(x *watcher) bool { return x == w })
		close(w.out)
		m.watchMu.Unlock()
		m.watchers.Done()
	}()
	backoff := 250 * time.Millisecond
	down := false // the last session failed or broke
	for {
		connected, err := w.session(ctx, down)
		if ctx.Err() != nil {
			return
		}
		var nf *NotFoundError
		var fe *FolderNameError
		var ae *AuthError
		var te *TLSError
		if errors.As(err, &nf) || errors.As(err, &fe) || errors.As(err, &ae) || errors.As(err, &te) {
			w.emit(ctx, Event{Kind: EventError, Folder: w.folder, Err: err})
			return
		}
		if connected || !down {
			if err == nil {
				err = errors.New("connection closed")
			}
			w.emit(ctx, Event{Kind: EventDisconnected, Folder: w.folder, Err: err})
		}
		if connected {
			backoff = 250 * time.Millisecond
		} else if down {
			backoff = min(2*backoff, 30*time.Second)
		}
		down = true
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// emit sends ev unless ctx ends first. Only the watcher's goroutine calls
// it, the one that closes out.
func (w *watcher) emit(ctx context.Context, ev Event) bool {
	select {
	case w.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *watcher) record(ch watchChange) {
	w.mu.Lock()
	w.changes = append(w.changes, ch)
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

func (w *watcher) take() []watchChange {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := w.changes
	w.changes = nil
	return ch
}

// session watches over one connection until it breaks or ctx ends; it
// reports whether it got as far as watching.
func (w *watcher) session(ctx context.Context, reconnected bool) (bool, error) {
	m := w.m
	handler := &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { w.record(watchChange{expunge: seq}) },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				n := *d.NumMessages
				w.record(watchChange{exists: &n})
			}
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			if buf, err := msg.Collect(); err == nil {
				w.record(watchChange{fetch: buf})
			}
		},
	}
	cctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	ic, err := m.connect(cctx, handler)
	cancel()
	if err != nil {
		return false, err
	}
	defer ic.c.Close()
	stop := context.AfterFunc(ctx, func() { ic.c.Close() })
	defer stop()

	data, err := ic.c.Select(w.folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return false, folderError("watch", w.folder, err)
	}
	var uids []imap.UID
	if data.NumMessages > 0 {
		var all imap.SeqSet
		all.AddRange(1, 0)
		bufs, err := ic.c.Fetch(all, &imap.FetchOptions{UID: true}).Collect()
		if err != nil {
			return false, err
		}
		for _, b := range bufs {
			uids = append(uids, b.UID)
		}
	}
	w.take() // what came before the list is in it
	if reconnected {
		w.emit(ctx, Event{Kind: EventReconnected, Folder: w.folder})
		go func() { _ = m.Sync(ctx) }()
	}
	idle := ic.caps.Has(imap.CapIdle) || ic.caps.Has(imap.CapIMAP4rev2)
	for {
		if err := w.process(ctx, ic, &uids); err != nil {
			return true, err
		}
		if ctx.Err() != nil {
			return true, nil
		}
		if idle {
			cmd, err := ic.c.Idle()
			if err != nil {
				return true, err
			}
			select {
			case <-w.signal:
			case <-ctx.Done():
			case <-ic.c.Closed():
			}
			if err := cmd.Close(); err != nil {
				return true, err
			}
			if err := cmd.Wait(); err != nil {
				return true, err
			}
		} else {
			select {
			case <-w.signal:
			case <-ctx.Done():
				return true, nil
			case <-ic.c.Closed():
				return true, errors.New("connection closed")
			case <-time.After(m.opts.PollInterval):
			}
			if err := ic.c.Noop().Wait(); err != nil {
				return true, err
			}
		}
	}
}

// process turns what the server said into events and keeps uids (the
// folder's UIDs in sequence order) current.
func (w *watcher) process(ctx context.Context, ic *imapConn, uids *[]imap.UID) error {
	exists := uint32(len(*uids))
	sawExists := false
	var gone []string
	for _, ch := range w.take() {
		switch {
		case ch.expunge != 0:
			if i := int(ch.expunge) - 1; i < len(*uids) {
				gone = append(gone, uidString((*uids)[i]))
				*uids = slices.Delete(*uids, i, i+1)
			}
			if exists > 0 {
				exists--
			}
		case ch.exists != nil:
			exists, sawExists = *ch.exists, true
		case ch.fetch != nil && ch.fetch.Flags != nil:
			uid := ch.fetch.UID
			if uid == 0 && int(ch.fetch.SeqNum) >= 1 && int(ch.fetch.SeqNum) <= len(*uids) {
				uid = (*uids)[ch.fetch.SeqNum-1]
			}
			if uid != 0 {
				f, _ := flagsFromIMAP(ch.fetch.Flags)
				w.emit(ctx, Event{Kind: EventFlags, Folder: w.folder, ID: uidString(uid), Flags: f})
			}
		}
	}
	if len(gone) > 0 {
		w.emit(ctx, Event{Kind: EventExpunged, Folder: w.folder, IDs: gone})
	}
	if sawExists && int(exists) > len(*uids) {
		var seqs imap.SeqSet
		seqs.AddRange(uint32(len(*uids))+1, exists)
		bufs, err := ic.c.Fetch(seqs, &imap.FetchOptions{UID: true}).Collect()
		if err != nil {
			return err
		}
		var ids []string
		for _, b := range bufs {
			if b.UID != 0 && !slices.Contains(*uids, b.UID) {
				*uids = append(*uids, b.UID)
				ids = append(ids, uidString(b.UID))
			}
		}
		if len(ids) > 0 {
			w.emit(ctx, Event{Kind: EventNew, Folder: w.folder, IDs: ids})
		}
	}
	return nil
}
