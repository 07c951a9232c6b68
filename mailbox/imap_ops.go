package mailbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// imapBody is a fetched message: its bytes and, for [ReadMessage], a Stat
// that gives its size.
type imapBody struct {
	*bytes.Reader
	name string
	size int64
	date time.Time
}

func (b *imapBody) Close() error               { return nil }
func (b *imapBody) Stat() (fs.FileInfo, error) { return bodyInfo{b}, nil }

type bodyInfo struct{ b *imapBody }

func (i bodyInfo) Name() string       { return i.b.name }
func (i bodyInfo) Size() int64        { return i.b.size }
func (i bodyInfo) Mode() fs.FileMode  { return 0o600 }
func (i bodyInfo) ModTime() time.Time { return i.b.date }
func (i bodyInfo) IsDir() bool        { return false }
func (i bodyInfo) Sys() any           { return nil }

// Open fetches the whole message (BODY.PEEK[], so it does not become
// \Seen) and returns it; a message larger than
// [IMAPOptions.MaxMessageSize] is a [TooLargeError].
func (m *IMAP) Open(folder, id string) (io.ReadCloser, error) {
	name, err := imapFolder(folder)
	if err != nil {
		return nil, err
	}
	uid, err := parseUID(folder, id)
	if err != nil {
		return nil, err
	}
	var body []byte
	var date time.Time
	err = m.run(m.base, "open", func(ctx context.Context, ic *imapConn) error {
		if _, _, err := m.selectLocked(ic, name); err != nil {
			return err
		}
		set := imap.UIDSetNum(uid)
		bufs, err := ic.c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true}).Collect()
		if err != nil {
			return serverError(fmt.Sprintf("open %s in %q", id, folder), err)
		}
		if len(bufs) == 0 {
			return &NotFoundError{Folder: folder, ID: id}
		}
		if bufs[0].RFC822Size > m.opts.MaxMessageSize {
			return &TooLargeError{Folder: folder, ID: id, Limit: m.opts.MaxMessageSize}
		}
		date = bufs[0].InternalDate
		cmd := ic.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		found := false
		var readErr error
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for item := msg.Next(); item != nil; item = msg.Next() {
				if bs, ok := item.(imapclient.FetchItemDataBodySection); ok && bs.Literal != nil && !found {
					found = true
					body, readErr = io.ReadAll(io.LimitReader(bs.Literal, m.opts.MaxMessageSize+1))
				}
			}
		}
		if err := cmd.Close(); err != nil {
			return serverError(fmt.Sprintf("open %s in %q", id, folder), err)
		}
		if readErr != nil {
			return readErr
		}
		if !found {
			return &NotFoundError{Folder: folder, ID: id}
		}
		if int64(len(body)) > m.opts.MaxMessageSize {
			return &TooLargeError{Folder: folder, ID: id, Limit: m.opts.MaxMessageSize}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &imapBody{Reader: bytes.NewReader(body), name: id, size: int64(len(body)), date: date}, nil
}

// Deliver stores the message with APPEND and returns its UID (from the
// server's APPENDUID answer, RFC 4315; "" from a server without UIDPLUS).
// Bare LF line ends become CRLF, as IMAP requires. When the server cannot
// be reached, the message is queued (on disk when there is a cache
// directory) and appended once it can: the error is then a [QueuedError]
// and the ID "". A replayed delivery is skipped when the folder already
// holds a message with the same Message-ID, so that a delivery whose
// answer was lost is not stored twice.
func (m *IMAP) Deliver(folder string, r io.Reader, flags Flags) (string, error) {
	name, err := imapFolder(folder)
	if err != nil {
		return "", err
	}
	data, err := io.ReadAll(io.LimitReader(r, m.opts.MaxMessageSize+1))
	if err != nil {
		return "", fmt.Errorf("mailbox: deliver to %q: %w", folder, err)
	}
	if int64(len(data)) > m.opts.MaxMessageSize {
		return "", &TooLargeError{Folder: folder, Limit: m.opts.MaxMessageSize}
	}
	data = toCRLF(data)
	var id string
	// Not retried on a broken connection: the server may have stored it.
	err = m.runRetry(m.base, "deliver", false, func(ctx context.Context, ic *imapConn) error {
		var err error
		id, err = m.appendLocked(ic, name, data, flags, time.Now())
		return err
	})
	if errors.Is(err, ErrOffline) {
		if qerr := m.enqueue(&queuedOp{Op: opDeliver, Folder: name, Flags: flags, Time: time.Now().Unix()}, data); qerr != nil {
			return "", errors.Join(err, qerr)
		}
		return "", &QueuedError{Op: "deliver", Folder: folder, Err: err}
	}
	return id, err
}

func (m *IMAP) appendLocked(ic *imapConn, folder string, data []byte, flags Flags, t time.Time) (string, error) {
	cmd := ic.c.Append(folder, int64(len(data)), &imap.AppendOptions{Flags: imapFlagsOf(flags), Time: t})
	if _, err := cmd.Write(data); err != nil {
		cmd.Close()
		return "", err
	}
	if err := cmd.Close(); err != nil {
		return "", err
	}
	res, err := cmd.Wait()
	if err != nil {
		return "", folderError("deliver to", folder, err)
	}
	if res.UID == 0 {
		return "", nil
	}
	return uidString(res.UID), nil
}

// toCRLF turns bare LF line ends into CRLF.
func toCRLF(b []byte) []byte {
	bare := 0
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			bare++
		}
	}
	if bare == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+bare)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// SetFlags adds and removes the flags that IMAP knows (seen, answered,
// flagged, draft, \Deleted for Trashed, $Forwarded for Passed; other
// letters are ignored) with UID STORE, and returns the flags the server
// reports. When the server cannot be reached the change is queued and
// replayed once it can: the error is then a [QueuedError], and the flags
// returned are the expected ones.
func (m *IMAP) SetFlags(folder, id string, set, clear Flags) (Flags, error) {
	name, err := imapFolder(folder)
	if err != nil {
		return 0, err
	}
	uid, err := parseUID(folder, id)
	if err != nil {
		return 0, err
	}
	set &= imapMapped()
	clear &= imapMapped()
	var out Flags
	err = m.run(m.base, "set flags", func(ctx context.Context, ic *imapConn) error {
		var err error
		out, err = m.storeFlagsLocked(ic, name, uid, set, clear, 0)
		return err
	})
	if errors.Is(err, ErrOffline) && (set|clear) != 0 {
		fc := m.cache.folder(name)
		op := &queuedOp{Op: opFlags, Folder: name, UIDValidity: fc.validity(), UID: uint32(uid), Set: set, Clear: clear, Time: time.Now().Unix()}
		if qerr := m.enqueue(op, nil); qerr != nil {
			return 0, errors.Join(err, qerr)
		}
		want := (fc.knownFlags(uint32(uid)) | set) &^ clear
		fc.setFlags(uint32(uid), want)
		return want, &QueuedError{Op: "set flags", Folder: folder, ID: id, Err: err}
	}
	return out, err
}

// storeFlagsLocked changes the flags of uid; wantUV, when not 0, is the
// UIDVALIDITY the change was made for.
func (m *IMAP) storeFlagsLocked(ic *imapConn, folder string, uid imap.UID, set, clear Flags, wantUV uint32) (Flags, error) {
	uv, _, err := m.selectLocked(ic, folder)
	if err != nil {
		return 0, err
	}
	if wantUV != 0 && uv != wantUV {
		return 0, errFolderChanged
	}
	var flags []imap.Flag
	found := false
	store := func(op imap.StoreFlagsOp, f Flags) error {
		bufs, err := ic.c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: op, Flags: imapFlagsOf(f)}, nil).Collect()
		if err != nil {
			return serverError(fmt.Sprintf("set flags of %d in %q", uid, folder), err)
		}
		for _, b := range bufs {
			if b.UID == uid && b.Flags != nil {
				flags, found = b.Flags, true
			}
		}
		return nil
	}
	if set != 0 {
		if err := store(imap.StoreFlagsAdd, set); err != nil {
			return 0, err
		}
	}
	if clear != 0 {
		if err := store(imap.StoreFlagsDel, clear); err != nil {
			return 0, err
		}
	}
	if !found {
		// Nothing changed (or the server said nothing): ask.
		bufs, err := ic.c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, Flags: true}).Collect()
		if err != nil {
			return 0, serverError(fmt.Sprintf("set flags of %d in %q", uid, folder), err)
		}
		if len(bufs) == 0 {
			return 0, &NotFoundError{Folder: folder, ID: uidString(uid)}
		}
		flags = bufs[0].Flags
	}
	f, _ := flagsFromIMAP(flags)
	m.cache.folder(folder).setFlags(uint32(uid), f)
	return f, nil
}

// Move moves a message with UID MOVE (RFC 6851; COPY, STORE \Deleted and
// EXPUNGE on a server without MOVE). Unlike a Maildir's, the message gets
// a new ID in dest: the UID the server gives it, which [IMAP.MoveID]
// returns. When the server cannot be reached the move is queued (a
// [QueuedError]).
func (m *IMAP) Move(folder, id, dest string) error {
	_, err := m.MoveID(folder, id, dest)
	return err
}

// MoveID is Move that returns the message's ID in dest ("" when the
// server does not say: no UIDPLUS, or the move was queued).
func (m *IMAP) MoveID(folder, id, dest string) (string, error) {
	name, err := imapFolder(folder)
	if err != nil {
		return "", err
	}
	destName, err := imapFolder(dest)
	if err != nil {
		return "", err
	}
	uid, err := parseUID(folder, id)
	if err != nil {
		return "", err
	}
	if name == destName {
		return id, nil
	}
	var newID string
	tries := 0
	err = m.run(m.base, "move", func(ctx context.Context, ic *imapConn) error {
		tries++
		var err error
		newID, err = m.moveLocked(ic, name, uid, destName, 0)
		if tries > 1 && isMessageNotFound(err) {
			return nil // the first try moved it before the connection broke
		}
		return err
	})
	if errors.Is(err, ErrOffline) {
		op := &queuedOp{Op: opMove, Folder: name, UIDValidity: m.cache.folder(name).validity(), UID: uint32(uid), Dest: destName, Time: time.Now().Unix()}
		if qerr := m.enqueue(op, nil); qerr != nil {
			return "", errors.Join(err, qerr)
		}
		return "", &QueuedError{Op: "move", Folder: folder, ID: id, Err: err}
	}
	return newID, err
}

func (m *IMAP) moveLocked(ic *imapConn, folder string, uid imap.UID, dest string, wantUV uint32) (string, error) {
	uv, _, err := m.selectLocked(ic, folder)
	if err != nil {
		return "", err
	}
	if wantUV != 0 && uv != wantUV {
		return "", errFolderChanged
	}
	if !ic.caps.Has(imap.CapUIDPlus) {
		// Without COPYUID a missing message would go unnoticed.
		bufs, err := ic.c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true}).Collect()
		if err != nil {
			return "", serverError("move", err)
		}
		if len(bufs) == 0 {
			return "", &NotFoundError{Folder: folder, ID: uidString(uid)}
		}
	}
	data, err := ic.c.Move(imap.UIDSetNum(uid), dest).Wait()
	if err != nil {
		return "", folderError("move to", dest, err)
	}
	m.cache.folder(folder).forget(uint32(uid))
	if ic.caps.Has(imap.CapUIDPlus) || ic.caps.Has(imap.CapIMAP4rev2) {
		src, _ := data.SourceUIDs.(imap.UIDSet)
		dst, _ := data.DestUIDs.(imap.UIDSet)
		if len(src) == 0 {
			return "", &NotFoundError{Folder: folder, ID: uidString(uid)}
		}
		if uids, ok := dst.Nums(); ok && len(uids) == 1 {
			return uidString(uids[0]), nil
		}
	}
	return "", nil
}

// Delete removes a message for good: UID STORE +FLAGS \Deleted, then UID
// EXPUNGE of that message alone (RFC 4315; a server without UIDPLUS gets
// EXPUNGE, which also removes the folder's other messages marked
// \Deleted). When the server cannot be reached the deletion is queued (a
// [QueuedError]).
func (m *IMAP) Delete(folder, id string) error {
	name, err := imapFolder(folder)
	if err != nil {
		return err
	}
	uid, err := parseUID(folder, id)
	if err != nil {
		return err
	}
	tries := 0
	err = m.run(m.base, "delete", func(ctx context.Context, ic *imapConn) error {
		tries++
		err := m.deleteLocked(ic, name, uid, 0)
		if tries > 1 && isMessageNotFound(err) {
			return nil // the first try deleted it before the connection broke
		}
		return err
	})
	if errors.Is(err, ErrOffline) {
		op := &queuedOp{Op: opDelete, Folder: name, UIDValidity: m.cache.folder(name).validity(), UID: uint32(uid), Time: time.Now().Unix()}
		if qerr := m.enqueue(op, nil); qerr != nil {
			return errors.Join(err, qerr)
		}
		return &QueuedError{Op: "delete", Folder: folder, ID: id, Err: err}
	}
	return err
}

func (m *IMAP) deleteLocked(ic *imapConn, folder string, uid imap.UID, wantUV uint32) error {
	uv, _, err := m.selectLocked(ic, folder)
	if err != nil {
		return err
	}
	if wantUV != 0 && uv != wantUV {
		return errFolderChanged
	}
	bufs, err := ic.c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Collect()
	if err != nil {
		return serverError(fmt.Sprintf("delete %d in %q", uid, folder), err)
	}
	if len(bufs) == 0 {
		// No FETCH answer: either it was already \Deleted or it is gone.
		got, err := ic.c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true}).Collect()
		if err != nil {
			return serverError(fmt.Sprintf("delete %d in %q", uid, folder), err)
		}
		if len(got) == 0 {
			return &NotFoundError{Folder: folder, ID: uidString(uid)}
		}
	}
	var cmd *imapclient.ExpungeCommand
	if ic.caps.Has(imap.CapUIDPlus) || ic.caps.Has(imap.CapIMAP4rev2) {
		cmd = ic.c.UIDExpunge(imap.UIDSetNum(uid))
	} else {
		cmd = ic.c.Expunge()
	}
	if _, err := cmd.Collect(); err != nil {
		return serverError(fmt.Sprintf("delete %d in %q", uid, folder), err)
	}
	m.cache.folder(folder).forget(uint32(uid))
	return nil
}

// isMessageNotFound reports whether err says a message (not its folder)
// is missing.
func isMessageNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf) && nf.ID != ""
}
