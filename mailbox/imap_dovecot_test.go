package mailbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/mailbox/imaptest"
)

// The tests in this file run against a real Dovecot (mailbox/imaptest),
// started per test: they skip when it is not installed, and fail under
// CI=true.

func TestIMAPDovecotFolders(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	m := dialDovecot(t, d, "")
	folders, err := m.Folders()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"INBOX", "Drafts", "Sent", "Trash"}; !slices.Equal(folders, want) {
		t.Fatalf("Folders = %q, want %q", folders, want)
	}
	for _, f := range []string{"Archive", "Lists/golang", "Archive", "inbox", "Ünïcode"} {
		if err := m.CreateFolder(f); err != nil {
			t.Fatalf("CreateFolder(%q): %v", f, err)
		}
	}
	folders, err = m.Folders()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Archive", "Lists/golang", "Ünïcode"} {
		if !slices.Contains(folders, want) {
			t.Errorf("Folders = %q, want %q among them", folders, want)
		}
	}
	if folders[0] != "INBOX" || !slices.IsSorted(folders[1:]) {
		t.Errorf("Folders = %q: INBOX first, the rest sorted", folders)
	}
	wantErr(t, "CreateFolder(bad)", m.CreateFolder("bad\x1bname"), ErrInvalidName)
	if got := list(t, m, "Trash", nil); len(got) != 0 {
		t.Fatalf("empty Trash lists %+v", got)
	}
	wantErr(t, "List(missing)", firstErr(m.List("Missing", nil)), ErrNotFound)
}

func firstErr(seq func(func(Message, error) bool)) error {
	var first error
	seq(func(_ Message, err error) bool {
		first = err
		return err == nil
	})
	return first
}

func TestIMAPDovecotDeliverListOpen(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	m := dialDovecot(t, d, "")
	ids := deliverN(t, m, "INBOX", 5)
	for _, id := range ids {
		if id == "" {
			t.Fatalf("Deliver IDs = %q: Dovecot has UIDPLUS, every ID must be known", ids)
		}
	}

	msgs := list(t, m, "INBOX", nil)
	if got := idsOf(msgs); !slices.Equal(got, ids) {
		t.Fatalf("List IDs = %q, want %q", got, ids)
	}
	for i, msg := range msgs {
		if msg.Folder != "INBOX" || msg.Size != int64(len(imapMessage("m0", "body"))) || msg.ModTime.IsZero() {
			t.Errorf("message %d: %+v", i, msg)
		}
		if got := msg.Header.Get("Subject"); got != "m"+string(rune('0'+i)) {
			t.Errorf("message %d Subject = %q", i, got)
		}
		if msg.Header.Get("From") != "Alice <alice@example.org>" || msg.HeaderTruncated {
			t.Errorf("message %d header %q", i, msg.Header)
		}
	}

	// Pages and chosen fields.
	page := list(t, m, "INBOX", &ListOptions{Offset: 1, Limit: 2, HeaderFields: []string{"subject"}})
	if got := idsOf(page); !slices.Equal(got, ids[1:3]) {
		t.Fatalf("page IDs = %q, want %q", got, ids[1:3])
	}
	if string(page[0].Header) != "Subject: m1\r\n" {
		t.Errorf("page header = %q, want only the Subject", page[0].Header)
	}
	skip := list(t, m, "INBOX", &ListOptions{SkipHeaders: true, Offset: 4})
	if len(skip) != 1 || skip[0].Header != nil || skip[0].ID != ids[4] || skip[0].Size == 0 {
		t.Fatalf("SkipHeaders listing = %+v", skip)
	}
	small := list(t, m, "INBOX", &ListOptions{Limit: 1, MaxHeaderSize: 40})
	if !small[0].HeaderTruncated || len(small[0].Header) > 40 || !bytes.HasSuffix(small[0].Header, []byte("\n")) {
		t.Errorf("truncated header = %q (truncated %v)", small[0].Header, small[0].HeaderTruncated)
	}

	// Open returns the message as stored, whole.
	raw := readAll(t, m, "INBOX", ids[2])
	mustEqual(t, "Open", raw, imapMessage("m2", "body"))
	if _, err := ReadMessage(m, "INBOX", ids[2], &ReadOptions{MaxSize: 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadMessage with a small limit: %v, want ErrTooLarge", err)
	}
	_, err := m.Open("INBOX", "999999")
	wantErr(t, "Open(unknown UID)", err, ErrNotFound)
	_, err = m.Open("INBOX", "not-a-uid")
	wantErr(t, "Open(bad ID)", err, ErrNotFound)
	_, err = m.Open("Missing", ids[0])
	wantErr(t, "Open(missing folder)", err, ErrNotFound)
	_, err = m.Deliver("Missing", strings.NewReader("Subject: x\r\n\r\nx\r\n"), 0)
	wantErr(t, "Deliver(missing folder)", err, ErrNotFound)

	// A message with bare LF line ends is stored with CRLF.
	id, err := m.Deliver("INBOX", bytes.NewReader(testMessage("lf", "one\ntwo")), Seen)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "Open(LF message)", readAll(t, m, "INBOX", id), imapMessage("lf", "one\ntwo"))
}

func idsOf(msgs []Message) []string { return ids(msgs) }

func TestIMAPDovecotFlags(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	m := dialDovecot(t, d, "")
	ids := deliverN(t, m, "INBOX", 2)
	f, err := m.SetFlags("INBOX", ids[0], Seen|Flagged, 0)
	if err != nil || f != Seen|Flagged {
		t.Fatalf("SetFlags(+SF) = %v, %v", f, err)
	}
	f, err = m.SetFlags("INBOX", ids[0], Answered|Passed, Flagged)
	if err != nil || f != Seen|Answered|Passed {
		t.Fatalf("SetFlags(+RP -F) = %v, %v", f, err)
	}
	// Letters IMAP has no name for are ignored; asking for nothing reads.
	f, err = m.SetFlags("INBOX", ids[0], FlagOf('a'), 0)
	if err != nil || f != Seen|Answered|Passed {
		t.Fatalf("SetFlags(keyword letter) = %v, %v", f, err)
	}
	if _, err := m.SetFlags("INBOX", ids[1], Draft|Trashed, 0); err != nil {
		t.Fatal(err)
	}
	msgs := list(t, m, "INBOX", &ListOptions{SkipHeaders: true})
	if msgs[0].Flags != Seen|Answered|Passed || msgs[1].Flags != Draft|Trashed {
		t.Fatalf("listed flags %v, %v", msgs[0].Flags, msgs[1].Flags)
	}
	// Another client sees them.
	other := dialDovecot(t, d, "-")
	msgs = list(t, other, "INBOX", &ListOptions{SkipHeaders: true})
	if msgs[0].Flags != Seen|Answered|Passed {
		t.Fatalf("flags seen by another client: %v", msgs[0].Flags)
	}
	_, err = m.SetFlags("INBOX", "424242", Seen, 0)
	wantErr(t, "SetFlags(unknown)", err, ErrNotFound)
}

func TestIMAPDovecotMoveDelete(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	m := dialDovecot(t, d, "")
	if err := m.CreateFolder("Archive"); err != nil {
		t.Fatal(err)
	}
	ids := deliverN(t, m, "INBOX", 3)
	if _, err := m.SetFlags("INBOX", ids[0], Seen|Flagged, 0); err != nil {
		t.Fatal(err)
	}
	newID, err := m.MoveID("INBOX", ids[0], "Archive")
	if err != nil || newID == "" {
		t.Fatalf("MoveID = %q, %v", newID, err)
	}
	if err := m.Move("INBOX", ids[1], "Archive"); err != nil {
		t.Fatal(err)
	}
	if got := idsOf(list(t, m, "INBOX", nil)); !slices.Equal(got, ids[2:]) {
		t.Fatalf("INBOX after the moves: %q", got)
	}
	archived := list(t, m, "Archive", nil)
	if len(archived) != 2 || archived[0].ID != newID || archived[0].Flags != Seen|Flagged || archived[0].Header.Get("Subject") != "m0" {
		t.Fatalf("Archive: %+v", archived)
	}
	wantErr(t, "Move(gone)", m.Move("INBOX", ids[0], "Archive"), ErrNotFound)
	wantErr(t, "Move(to missing)", m.Move("INBOX", ids[2], "Nowhere"), ErrNotFound)

	// Delete removes one message for good, leaving the others marked
	// \Deleted alone.
	if _, err := m.SetFlags("Archive", archived[1].ID, Trashed, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("Archive", archived[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := list(t, m, "Archive", nil); len(got) != 1 || got[0].ID != archived[1].ID {
		t.Fatalf("Archive after Delete: %+v", got)
	}
	wantErr(t, "Delete(again)", m.Delete("Archive", archived[0].ID), ErrNotFound)
}

func TestIMAPDovecotAppendSent(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	m := dialDovecot(t, d, "")
	msg := imapMessage("sent", "what I sent")
	id, err := m.Deliver("Sent", bytes.NewReader(msg), Seen)
	if err != nil {
		t.Fatal(err)
	}
	got := list(t, m, "Sent", nil)
	if len(got) != 1 || got[0].ID != id || got[0].Flags != Seen {
		t.Fatalf("Sent: %+v", got)
	}
	mustEqual(t, "the copy in Sent", readAll(t, m, "Sent", id), msg)
	// The file is in Dovecot's Maildir, where another program finds it.
	entries, err := os.ReadDir(d.MailDir(d.User) + "/.Sent/cur")
	if err != nil || len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ":2,S") {
		t.Fatalf("Dovecot's .Sent/cur: %v %v", entries, err)
	}
}

func TestIMAPDovecotIDLE(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	m := dialDovecot(t, d, "")
	first := deliverN(t, m, "INBOX", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := m.Watch(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	// Give the watcher time to enter IDLE, then deliver from another
	// client.
	time.Sleep(300 * time.Millisecond)
	other := dialDovecot(t, d, "-")
	newIDs := deliverN(t, other, "INBOX", 2)
	var seen []string
	for len(seen) < 2 {
		ev := waitEvent(t, events, EventNew)
		seen = append(seen, ev.IDs...)
	}
	if !slices.Equal(seen, newIDs) {
		t.Fatalf("EventNew IDs %q, want %q", seen, newIDs)
	}
	if _, err := other.SetFlags("INBOX", first[0], Seen, 0); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, EventFlags)
	if ev.ID != first[0] || ev.Flags != Seen {
		t.Fatalf("EventFlags = %+v", ev)
	}
	if err := other.Delete("INBOX", newIDs[0]); err != nil {
		t.Fatal(err)
	}
	ev = waitEvent(t, events, EventExpunged)
	if !slices.Equal(ev.IDs, newIDs[:1]) {
		t.Fatalf("EventExpunged = %+v", ev)
	}
	cancel()
	for range events {
	}
}

func TestIMAPDovecotReconnect(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	cache := t.TempDir()
	m := dialDovecot(t, d, cache)
	ids := deliverN(t, m, "INBOX", 3)
	list(t, m, "INBOX", nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := m.Watch(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)

	// The server restarts: the next operation connects again.
	d.Restart()
	if got := idsOf(list(t, m, "INBOX", nil)); !slices.Equal(got, ids) {
		t.Fatalf("after a restart: %q", got)
	}
	waitEvent(t, events, EventDisconnected)
	waitEvent(t, events, EventReconnected)

	// While it is down, flag changes and a move are queued, not lost.
	if err := m.CreateFolder("Archive"); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	f, err := m.SetFlags("INBOX", ids[0], Seen|Flagged, 0)
	if !errors.Is(err, ErrQueued) || f != Seen|Flagged {
		t.Fatalf("SetFlags while down = %v, %v; want the expected flags and ErrQueued", f, err)
	}
	wantErr(t, "Move while down", m.Move("INBOX", ids[1], "Archive"), ErrQueued)
	_, err = m.Deliver("Drafts", bytes.NewReader(imapMessage("draft", "unfinished")), Draft)
	wantErr(t, "Deliver while down", err, ErrQueued)
	if err := firstErr(m.List("INBOX", nil)); !errors.Is(err, ErrOffline) {
		t.Fatalf("List while down: %v, want ErrOffline", err)
	}
	if m.Queued() != 3 {
		t.Fatalf("Queued = %d, want 3", m.Queued())
	}
	// The program ends while the server is down; the queue is on disk.
	m.Close()

	d.Start()
	m2 := dialDovecot(t, d, cache)
	if m2.Queued() != 0 {
		t.Fatalf("after reconnecting %d changes are still queued: %v", m2.Queued(), m2.ReplayErrors())
	}
	msgs := list(t, m2, "INBOX", &ListOptions{SkipHeaders: true})
	if got := idsOf(msgs); !slices.Equal(got, []string{ids[0], ids[2]}) || msgs[0].Flags != Seen|Flagged {
		t.Fatalf("INBOX after the replay: %+v", msgs)
	}
	if got := list(t, m2, "Archive", nil); len(got) != 1 || got[0].Header.Get("Subject") != "m1" {
		t.Fatalf("Archive after the replay: %+v", got)
	}
	drafts := list(t, m2, "Drafts", nil)
	if len(drafts) != 1 || drafts[0].Flags != Draft || drafts[0].Header.Get("Subject") != "draft" {
		t.Fatalf("Drafts after the replay: %+v", drafts)
	}
	if errs := m2.ReplayErrors(); len(errs) != 0 {
		t.Fatalf("replay errors: %v", errs)
	}
}

func TestIMAPDovecotCache(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	cache := t.TempDir()
	m := dialDovecot(t, d, cache)
	ids := deliverN(t, m, "INBOX", 4)
	fields := &ListOptions{HeaderFields: []string{"Subject", "From"}}
	first := list(t, m, "INBOX", fields)
	full := list(t, m, "INBOX", nil)
	m.Close()

	fc := newIMAPCache(cache).folder("INBOX")
	if fc.count() != 4 || fc.validity() == 0 {
		t.Fatalf("the cache on disk holds %d entries (UIDVALIDITY %d), want 4", fc.count(), fc.validity())
	}
	for _, id := range ids {
		uid, _ := parseUID("INBOX", id)
		e, ok := fc.get(uint32(uid))
		if !ok || !e.covers("", DefaultMaxHeaderSize) || e.size == 0 {
			t.Fatalf("cache entry of %s: %+v", id, e)
		}
	}

	// A new session lists the same from the cache, and sees a new message.
	m2 := dialDovecot(t, d, cache)
	if got := list(t, m2, "INBOX", fields); !sameMessages(got, first) {
		t.Fatalf("cached listing differs:\n%+v\n%+v", got, first)
	}
	if got := list(t, m2, "INBOX", nil); !sameMessages(got, full) {
		t.Fatalf("cached full listing differs")
	}
	more := deliverN(t, m2, "INBOX", 1)
	if got := idsOf(list(t, m2, "INBOX", fields)); !slices.Equal(got, append(ids, more...)) {
		t.Fatalf("after a delivery: %q", got)
	}
	// A folder replaced on the server (new UIDVALIDITY) is not served
	// from the stale cache.
	if err := m2.CreateFolder("Temp"); err != nil {
		t.Fatal(err)
	}
	deliverN(t, m2, "Temp", 2)
	before := list(t, m2, "Temp", nil)
	m2.Close()
	other := dialDovecot(t, d, "-")
	other.mu.Lock()
	ic, err := other.connLocked(context.Background())
	if err == nil {
		err = ic.c.Delete("Temp").Wait()
	}
	other.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.CreateFolder("Temp"); err != nil {
		t.Fatal(err)
	}
	id, err := other.Deliver("Temp", bytes.NewReader(imapMessage("replaced", "new")), 0)
	if err != nil {
		t.Fatal(err)
	}
	m3 := dialDovecot(t, d, cache)
	after := list(t, m3, "Temp", nil)
	if len(after) != 1 || after[0].ID != id || after[0].Header.Get("Subject") != "replaced" {
		t.Fatalf("after the folder was replaced: %+v (before %+v)", after, before)
	}
}

func sameMessages(a, b []Message) bool {
	return slices.EqualFunc(a, b, func(x, y Message) bool {
		return x.ID == y.ID && x.Flags == y.Flags && x.Size == y.Size && x.ModTime.Equal(y.ModTime) && bytes.Equal(x.Header, y.Header)
	})
}

func TestIMAPDovecotSTARTTLS(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	opts := dovecotOptions(t, d, "-")
	opts.Addr, opts.StartTLS = d.STARTTLSAddr, true
	m, err := DialIMAP(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := m.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.StartTLS || st.TLSVersion != "TLS 1.3" || !st.IDLE || st.Mechanism != "PLAIN" || st.DiscardedBeforeTLS != 0 {
		t.Fatalf("Check = %+v", st)
	}
	if slices.Contains(st.Capabilities, "STARTTLS") || slices.Contains(st.Capabilities, "LOGINDISABLED") {
		t.Errorf("capabilities after TLS and login: %q", st.Capabilities)
	}
	deliverN(t, m, "INBOX", 1)
}

func TestIMAPDovecotLoginFailure(t *testing.T) {
	t.Parallel()
	d := imaptest.StartDovecot(t)
	opts := dovecotOptions(t, d, "-")
	opts.Password = func(context.Context) (string, error) { return "wrong", nil }
	_, err := DialIMAP(context.Background(), opts)
	wantErr(t, "wrong password", err, ErrAuth)
	if errors.Is(err, ErrOffline) {
		t.Fatalf("a refused login is not a network failure: %v", err)
	}
	opts.Password = func(context.Context) (string, error) { return "", errors.New("pass: no such entry") }
	_, err = DialIMAP(context.Background(), opts)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "no such entry") {
		t.Fatalf("failing password source: %v", err)
	}
	// A certificate we do not trust.
	opts = dovecotOptions(t, d, "-")
	opts.TLSConfig = nil
	_, err = DialIMAP(context.Background(), opts)
	wantErr(t, "untrusted certificate", err, ErrTLS)
}

func TestIMAPDovecotListSeesOtherClients(t *testing.T) {
	// A listing after changes made by another client (flags, a deletion,
	// a delivery) shows them, however the listing is brought up to date
	// (CONDSTORE with Dovecot).
	t.Parallel()
	d := imaptest.StartDovecot(t)
	m := dialDovecot(t, d, "")
	ids := deliverN(t, m, "INBOX", 4)
	list(t, m, "INBOX", nil)
	other := dialDovecot(t, d, "-")
	if _, err := other.SetFlags("INBOX", ids[0], Flagged, 0); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete("INBOX", ids[1]); err != nil {
		t.Fatal(err)
	}
	more := deliverN(t, other, "INBOX", 2)
	if err := other.Delete("INBOX", more[0]); err != nil {
		t.Fatal(err)
	}
	msgs := list(t, m, "INBOX", &ListOptions{HeaderFields: []string{"Subject"}})
	want := []string{ids[0], ids[2], ids[3], more[1]}
	if got := idsOf(msgs); !slices.Equal(got, want) {
		t.Fatalf("IDs = %q, want %q", got, want)
	}
	if msgs[0].Flags != Flagged || msgs[3].Header.Get("Subject") != "m1" {
		t.Fatalf("listing: %+v", msgs)
	}
	// And our own changes.
	if _, err := m.SetFlags("INBOX", ids[2], Seen, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("INBOX", ids[3]); err != nil {
		t.Fatal(err)
	}
	msgs = list(t, m, "INBOX", &ListOptions{SkipHeaders: true})
	if got := idsOf(msgs); !slices.Equal(got, []string{ids[0], ids[2], more[1]}) || msgs[1].Flags != Seen {
		t.Fatalf("after our changes: %+v", msgs)
	}
}
