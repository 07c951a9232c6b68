package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	m, root := newTestMaildir(t, nil)

	plain, seen, draft := testMessage("plain", "one"), testMessage("seen", "two"), testMessage("draft", "three")
	idPlain, err := m.Deliver("INBOX", bytes.NewReader(plain), 0)
	if err != nil {
		t.Fatal(err)
	}
	idSeen, err := m.Deliver("inbox", bytes.NewReader(seen), Seen)
	if err != nil {
		t.Fatal(err)
	}
	idDraft, err := m.Deliver("Sent", bytes.NewReader(draft), Draft|Flagged)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(idPlain, "1700000001.M123456P") || !strings.HasSuffix(idPlain, ".test.example") {
		t.Fatalf("unique name %q", idPlain)
	}

	// Where the files are: new/ without flags, cur/ with them, mode 0600.
	if got := dirNames(t, filepath.Join(root, "new")); !slices.Equal(got, []string{idPlain}) {
		t.Fatalf("new/ = %q", got)
	}
	if got := dirNames(t, filepath.Join(root, "cur")); !slices.Equal(got, []string{idSeen + ":2,S"}) {
		t.Fatalf("cur/ = %q", got)
	}
	if got := dirNames(t, filepath.Join(root, ".Sent", "cur")); !slices.Equal(got, []string{idDraft + ":2,DF"}) {
		t.Fatalf(".Sent/cur/ = %q", got)
	}
	if got := dirNames(t, filepath.Join(root, "tmp")); len(got) != 0 {
		t.Fatalf("tmp/ = %q", got)
	}
	st, err := os.Stat(filepath.Join(root, "new", idPlain))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}

	inbox := list(t, m, "INBOX", nil)
	if got := ids(inbox); !slices.Equal(got, []string{idPlain, idSeen}) {
		t.Fatalf("INBOX = %q", got)
	}
	if !inbox[0].New || inbox[0].Flags != 0 || inbox[1].New || inbox[1].Flags != Seen {
		t.Fatalf("INBOX = %+v", inbox)
	}
	if inbox[0].Size != int64(len(plain)) || inbox[0].Folder != "INBOX" || inbox[0].ModTime.IsZero() {
		t.Fatalf("INBOX[0] = %+v", inbox[0])
	}
	if got := inbox[1].Header.Get("subject"); got != "seen" {
		t.Fatalf("Subject = %q", got)
	}
	if !bytes.HasPrefix(seen, inbox[1].Header) || !bytes.HasPrefix(seen[len(inbox[1].Header):], []byte("\n")) {
		t.Fatalf("Header = %q", inbox[1].Header)
	}

	mustEqual(t, "plain", readAll(t, m, "INBOX", idPlain), plain)
	mustEqual(t, "draft", readAll(t, m, "Sent", idDraft), draft)

	// Flags: set and clear; a message in new/ moves to cur/.
	f, err := m.SetFlags("INBOX", idPlain, Seen|Flagged, 0)
	if err != nil || f != Seen|Flagged {
		t.Fatalf("SetFlags = %v, %v", f, err)
	}
	f, err = m.SetFlags("INBOX", idPlain, Answered, Flagged)
	if err != nil || f != Seen|Answered {
		t.Fatalf("SetFlags = %v, %v", f, err)
	}
	if got := dirNames(t, filepath.Join(root, "cur")); !slices.Contains(got, idPlain+":2,RS") {
		t.Fatalf("cur/ = %q", got)
	}
	if got := dirNames(t, filepath.Join(root, "new")); len(got) != 0 {
		t.Fatalf("new/ = %q", got)
	}
	if f, err := m.SetFlags("INBOX", idPlain, Seen, 0); err != nil || f != Seen|Answered {
		t.Fatalf("no-op SetFlags = %v, %v", f, err)
	}
	mustEqual(t, "plain after flags", readAll(t, m, "INBOX", idPlain), plain)

	// Move keeps ID and flags.
	if err := m.Move("INBOX", idPlain, "Archive"); err != nil {
		t.Fatal(err)
	}
	arch := list(t, m, "Archive", nil)
	if len(arch) != 1 || arch[0].ID != idPlain || arch[0].Flags != Seen|Answered || arch[0].Folder != "Archive" {
		t.Fatalf("Archive = %+v", arch)
	}
	mustEqual(t, "plain after move", readAll(t, m, "Archive", idPlain), plain)
	_, err = m.Open("INBOX", idPlain)
	wantErr(t, "Open after move", err, ErrNotFound)
	if err := m.Move("Archive", idPlain, "Archive"); err != nil {
		t.Fatalf("move to the same folder: %v", err)
	}

	// Delete.
	if err := m.Delete("Archive", idPlain); err != nil {
		t.Fatal(err)
	}
	if got := list(t, m, "Archive", nil); len(got) != 0 {
		t.Fatalf("Archive after delete = %+v", got)
	}
	wantErr(t, "Delete twice", m.Delete("Archive", idPlain), ErrNotFound)

	// A second handle sees the same state.
	m2, err := OpenMaildir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if got := ids(list(t, m2, "INBOX", nil)); !slices.Equal(got, []string{idSeen}) {
		t.Fatalf("INBOX via second handle = %q", got)
	}
	folders, err := m2.Folders()
	if err != nil || !slices.Equal(folders, []string{"INBOX", "Archive", "Sent"}) {
		t.Fatalf("Folders = %q, %v", folders, err)
	}
}

// TestChangesBehindOurBack: another program renames or deletes a file
// between our listing and our next operation.
func TestChangesBehindOurBack(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	id, err := m.Deliver("INBOX", bytes.NewReader(testMessage("x", "y")), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetFlags("INBOX", id, Seen, 0); err != nil { // indexes INBOX
		t.Fatal(err)
	}
	// Another reader adds a flag and a Dovecot size hint.
	other := id + ",S=99:2,FS"
	if err := os.Rename(filepath.Join(root, "cur", id+":2,S"), filepath.Join(root, "cur", other)); err != nil {
		t.Fatal(err)
	}
	if f, err := m.SetFlags("INBOX", id, Answered, 0); err != nil || f != Flagged|Answered|Seen {
		t.Fatalf("SetFlags = %v, %v", f, err)
	}
	if got := dirNames(t, filepath.Join(root, "cur")); !slices.Equal(got, []string{id + ",S=99:2,FRS"}) {
		t.Fatalf("cur/ = %q", got)
	}
	// And then deletes it.
	os.Remove(filepath.Join(root, "cur", id+",S=99:2,FRS"))
	_, err = m.SetFlags("INBOX", id, Seen, 0)
	wantErr(t, "SetFlags on a deleted message", err, ErrNotFound)
}

func TestForeignNames(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	dovecotBody := testMessage("dovecot", "hello")
	dovecot := fmt.Sprintf("1700000000.M412345P2021.mail.example.org,S=%d,W=%d:2,S", len(dovecotBody), len(dovecotBody)+7)
	files := []string{ // paths under the root
		"cur/" + dovecot,
		"cur/1700000100.2021_1.mutthost:2,FR",
		"cur/1700000200_0.4242.oimap,U=12,FMD5=7e9d0c8f2b4a6e1d3c5b7a9f0e2d4c6b:2,S",
		"cur/1700000300.M1P2.nosuffix",
		"cur/1700000400.M1P2.winhost!2,F",
		"cur/1700000500.M1P2.kwhost:2,FSXab",
		"cur/1700000600.M1P2.v1host:1,experimental",
		"cur/1700000800.M9P9.dup:2,S",
		"new/1700000700.2021_3.mutthost",
		"new/1700000800.M9P9.dup",
		"cur/.hidden-by-spec",
		"new/.nfs0000000001",
		"cur/bad\x1b[31mname",
	}
	for _, p := range files {
		body := testMessage(filepath.Base(p), "body of "+p)
		if strings.Contains(p, "412345P2021") {
			body = dovecotBody
		}
		writeFile(t, filepath.Join(root, p), body)
	}

	var msgs []Message
	var bad []error
	for msg, err := range m.List("INBOX", nil) {
		if err != nil {
			bad = append(bad, err)
			continue
		}
		msgs = append(msgs, msg)
	}
	if len(bad) != 1 || !errors.Is(bad[0], ErrInvalidName) {
		t.Fatalf("errors = %v", bad)
	}
	type row struct {
		id    string
		flags string
		new   bool
	}
	var got []row
	for _, msg := range msgs {
		got = append(got, row{msg.ID, msg.Flags.String(), msg.New})
		if msg.Header.Get("Subject") == "" {
			t.Errorf("%s: no Subject in %q", msg.ID, msg.Header)
		}
	}
	want := []row{
		{"1700000000.M412345P2021.mail.example.org", "S", false},
		{"1700000100.2021_1.mutthost", "FR", false},
		{"1700000200_0.4242.oimap", "S", false},
		{"1700000300.M1P2.nosuffix", "", false},
		{"1700000400.M1P2.winhost", "F", false},
		{"1700000500.M1P2.kwhost", "FSXab", false},
		{"1700000600.M1P2.v1host", "", false},
		{"1700000700.2021_3.mutthost", "", true},
		{"1700000800.M9P9.dup", "S", false},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listing:\ngot  %v\nwant %v", got, want)
	}

	// Flag changes keep the foreign parts of each name.
	for _, tc := range []struct {
		id         string
		set, clear Flags
		file       string
	}{
		{"1700000000.M412345P2021.mail.example.org", Answered, 0, "cur/" + strings.TrimSuffix(dovecot, "S") + "RS"},
		{"1700000200_0.4242.oimap", Flagged, Seen, "cur/1700000200_0.4242.oimap,U=12,FMD5=7e9d0c8f2b4a6e1d3c5b7a9f0e2d4c6b:2,F"},
		{"1700000300.M1P2.nosuffix", Seen, 0, "cur/1700000300.M1P2.nosuffix:2,S"},
		{"1700000400.M1P2.winhost", Seen, 0, "cur/1700000400.M1P2.winhost!2,FS"},
		{"1700000500.M1P2.kwhost", Keyword(2), Flagged | Keyword(0), "cur/1700000500.M1P2.kwhost:2,SXbc"},
		{"1700000600.M1P2.v1host", Passed, 0, "cur/1700000600.M1P2.v1host:2,P"},
		{"1700000700.2021_3.mutthost", Seen, 0, "cur/1700000700.2021_3.mutthost:2,S"},
	} {
		if _, err := m.SetFlags("INBOX", tc.id, tc.set, tc.clear); err != nil {
			t.Fatalf("SetFlags(%s): %v", tc.id, err)
		}
		if _, err := os.Stat(filepath.Join(root, tc.file)); err != nil {
			t.Fatalf("SetFlags(%s): %v; cur/ = %q", tc.id, err, dirNames(t, filepath.Join(root, "cur")))
		}
	}

	// A move keeps the whole name, and so the size hint.
	if err := m.Move("INBOX", "1700000000.M412345P2021.mail.example.org", "Archive"); err != nil {
		t.Fatal(err)
	}
	moved := dirNames(t, filepath.Join(root, ".Archive", "cur"))
	if len(moved) != 1 {
		t.Fatalf(".Archive/cur = %q", moved)
	}
	n, err := ParseName(moved[0])
	if err != nil || n.Size != int64(len(dovecotBody)) || n.VirtualSize != int64(len(dovecotBody)+7) || n.Flags != Answered|Seen {
		t.Fatalf("moved name %q: %+v, %v", moved[0], n, err)
	}
	mustEqual(t, "moved dovecot message", readAll(t, m, "Archive", n.ID), dovecotBody)
}

func TestErrors(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	id, err := m.Deliver("INBOX", bytes.NewReader(testMessage("x", strings.Repeat("y", 100))), 0)
	if err != nil {
		t.Fatal(err)
	}

	_, err = m.Open("INBOX", "1700000000.M1P1R00.nowhere")
	wantErr(t, "Open missing message", err, ErrNotFound)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Folder != "INBOX" || nf.ID != "1700000000.M1P1R00.nowhere" {
		t.Fatalf("NotFoundError = %+v", nf)
	}
	_, err = m.Open("Nope", id)
	wantErr(t, "Open in missing folder", err, ErrNotFound)
	if !errors.As(err, &nf) || nf.ID != "" {
		t.Fatalf("NotFoundError = %+v", nf)
	}
	for _, bad := range []string{"../" + id, id + ":2,S", "cur/" + id, "", ".x"} {
		_, err := m.Open("INBOX", bad)
		wantErr(t, fmt.Sprintf("Open(%q)", bad), err, ErrNotFound)
	}
	_, err = m.Deliver("Nope", strings.NewReader("x"), 0)
	wantErr(t, "Deliver to missing folder", err, ErrNotFound)
	wantErr(t, "Move to missing folder", m.Move("INBOX", id, "Nope"), ErrNotFound)
	_, err = m.SetFlags("INBOX", "1.M1P1R0.x", Seen, 0)
	wantErr(t, "SetFlags on missing message", err, ErrNotFound)
	for _, err := range m.List("Nope", nil) {
		wantErr(t, "List missing folder", err, ErrNotFound)
	}

	for _, name := range []string{"", "a/b", "..", "../etc", "a/../b", ".hidden", "trailing.", "a..b",
		"esc\x1b]0;pwned\x07", "nl\nx", "c1\u0085x", "\xff\xfe", strings.Repeat("x", 300)} {
		wantErr(t, fmt.Sprintf("CreateFolder(%q)", name), m.CreateFolder(name), ErrInvalidName)
		_, err := m.Deliver(name, strings.NewReader("x"), 0)
		wantErr(t, fmt.Sprintf("Deliver(%q)", name), err, ErrInvalidName)
		for _, err := range m.List(name, nil) {
			wantErr(t, fmt.Sprintf("List(%q)", name), err, ErrInvalidName)
		}
		wantErr(t, fmt.Sprintf("Move to %q", name), m.Move("INBOX", id, name), ErrInvalidName)
		var fe *FolderNameError
		if err := m.CreateFolder(name); !errors.As(err, &fe) || strings.ContainsAny(err.Error(), "\x1b\n\x07") {
			t.Fatalf("error %q", err)
		}
	}
	// Nothing was created by the refused names.
	if got := dirNames(t, root); !slices.Equal(got, []string{".Archive", ".Sent", "cur", "new", "tmp"}) {
		t.Fatalf("root = %q", got)
	}
	if err := m.CreateFolder("Lists.golang.nuts"); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateFolder("Lists.golang.nuts"); err != nil {
		t.Fatalf("CreateFolder twice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".Lists.golang.nuts", "maildirfolder")); err != nil {
		t.Fatal(err)
	}

	// A move never overwrites a message of the same ID.
	data := readAll(t, m, "INBOX", id)
	writeFile(t, filepath.Join(root, ".Archive", "new", id), []byte("a copy"))
	wantErr(t, "Move onto the same name", m.Move("INBOX", id, "Archive"), ErrExist)
	var ee *ExistError
	if err := m.Move("INBOX", id, "Archive"); !errors.As(err, &ee) || ee.Folder != "Archive" || ee.ID != id {
		t.Fatalf("ExistError = %+v", ee)
	}
	os.Rename(filepath.Join(root, ".Archive", "new", id), filepath.Join(root, ".Archive", "cur", id+":2,S"))
	if _, err := m.Open("Archive", id); err != nil { // Archive is now indexed
		t.Fatal(err)
	}
	if _, err := m.SetFlags("INBOX", id, Flagged, 0); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Move onto the same ID", m.Move("INBOX", id, "Archive"), ErrExist)
	mustEqual(t, "message after refused moves", readAll(t, m, "INBOX", id), data)
	os.Remove(filepath.Join(root, ".Archive", "cur", id+":2,S"))

	// The read size cap.
	size := int64(len(testMessage("x", strings.Repeat("y", 100))))
	_, err = ReadMessage(m, "INBOX", id, &ReadOptions{MaxSize: size - 1})
	wantErr(t, "ReadMessage over the cap", err, ErrTooLarge)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != size-1 || tl.ID != id {
		t.Fatalf("TooLargeError = %+v", tl)
	}
	if b, err := ReadMessage(m, "INBOX", id, &ReadOptions{MaxSize: size}); err != nil || int64(len(b)) != size {
		t.Fatalf("ReadMessage at the cap: %d bytes, %v", len(b), err)
	}
	// A reader that is not a file is capped while reading.
	_, err = ReadMessage(pipeMailbox{m}, "INBOX", id, &ReadOptions{MaxSize: 10})
	wantErr(t, "ReadMessage over the cap, streamed", err, ErrTooLarge)

	_, err = OpenMaildir(t.TempDir(), nil)
	wantErr(t, "OpenMaildir on an empty directory", err, ErrNotMaildir)
	_, err = OpenMaildir(filepath.Join(t.TempDir(), "missing"), nil)
	wantErr(t, "OpenMaildir on a missing directory", err, os.ErrNotExist)
	_, err = OpenMaildir(root, &Options{InfoSeparator: ';'})
	if err == nil {
		t.Fatal("InfoSeparator ';' accepted")
	}
}

// pipeMailbox hides the *os.File behind Open, as an IMAP mailbox would.
type pipeMailbox struct{ *Maildir }

func (p pipeMailbox) Open(folder, id string) (io.ReadCloser, error) {
	rc, err := p.Maildir.Open(folder, id)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{rc, rc}, nil
}

// TestSymlinks: no symlink leads out of the root, and no special file is
// read as a message.
func TestSymlinks(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	outside := filepath.Join(t.TempDir(), "outside")
	om, err := OpenMaildir(outside, &Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	om.Close()
	secret := filepath.Join(t.TempDir(), "secret")
	writeFile(t, secret, []byte("Subject: secret\n\nsecret\n"))
	if err := os.Symlink(outside, filepath.Join(root, ".Evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(root, "cur", "1700000000.M1P1.link:2,S")); err != nil {
		t.Fatal(err)
	}

	folders, err := m.Folders()
	if err != nil || slices.Contains(folders, "Evil") {
		t.Fatalf("Folders = %q, %v", folders, err)
	}
	if _, err := m.Deliver("Evil", strings.NewReader("x"), 0); err == nil {
		t.Fatal("delivered through a symlink out of the root")
	}
	if got := dirNames(t, filepath.Join(outside, "new")); len(got) != 0 {
		t.Fatalf("outside new/ = %q", got)
	}
	for _, err := range m.List("Evil", nil) {
		if err == nil {
			t.Fatal("listed a folder out of the root")
		}
	}
	if err := m.CreateFolder("Evil"); err == nil {
		t.Fatal("CreateFolder through a symlink out of the root")
	}
	for msg, err := range m.List("INBOX", nil) {
		if err == nil || msg.Header != nil {
			t.Fatalf("listed a message out of the root: %+v, %v", msg, err)
		}
	}
	if _, err := m.Open("INBOX", "1700000000.M1P1.link"); err == nil {
		t.Fatal("opened a message out of the root")
	}

	// A FIFO where a message should be neither hangs nor is read.
	os.Remove(filepath.Join(root, "cur", "1700000000.M1P1.link:2,S"))
	if err := syscall.Mkfifo(filepath.Join(root, "new", "1700000001.M1P1.fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	for msg, err := range m.List("INBOX", nil) {
		if err == nil || msg.ID != "1700000001.M1P1.fifo" {
			t.Fatalf("listed a FIFO: %+v, %v", msg, err)
		}
	}
	if _, err := m.Open("INBOX", "1700000001.M1P1.fifo"); err == nil {
		t.Fatal("opened a FIFO")
	}
}

func TestListOptions(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	var want []string
	for i := range 10 {
		id, err := m.Deliver("INBOX", bytes.NewReader(testMessage(fmt.Sprint("m", i), "body")), Flags(i%2)*Seen)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if got := ids(list(t, m, "INBOX", nil)); !slices.Equal(got, want) {
		t.Fatalf("order:\ngot  %q\nwant %q", got, want)
	}
	page := list(t, m, "INBOX", &ListOptions{Offset: 3, Limit: 4})
	if got := ids(page); !slices.Equal(got, want[3:7]) {
		t.Fatalf("page = %q", got)
	}
	if got := list(t, m, "INBOX", &ListOptions{Offset: 20}); len(got) != 0 {
		t.Fatalf("past the end: %v", got)
	}
	n := 0
	for range m.List("INBOX", nil) {
		n++
		if n == 2 {
			break
		}
	}

	fields := list(t, m, "INBOX", &ListOptions{HeaderFields: []string{"subject", "DATE"}})
	if h := string(fields[2].Header); h != "Subject: m2\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n" {
		t.Fatalf("selected fields = %q", h)
	}
	for _, msg := range list(t, m, "INBOX", &ListOptions{SkipHeaders: true}) {
		if msg.Header != nil || msg.Size == 0 || msg.ModTime.IsZero() {
			t.Fatalf("SkipHeaders: %+v", msg)
		}
	}

	// Header shapes: CRLF, folded, huge, no body, empty header, no empty line.
	huge := "Subject: huge\r\nX-Long: " + strings.Repeat("a", 100) + "\r\n"
	for range 60 {
		huge += "X-Filler: " + strings.Repeat("b", 90) + "\r\n"
	}
	shapes := map[string]string{
		"1800000001.M1P1.crlf":   "Subject: crlf\r\nX-Folded: one\r\n two\r\n\tthree\r\n\r\nbody\r\n",
		"1800000002.M1P1.huge":   huge + "\r\nbody\r\n",
		"1800000003.M1P1.nobody": "Subject: no body\n",
		"1800000004.M1P1.empty":  "\nonly a body\n",
		"1800000005.M1P1.noend":  "Subject: no end",
		"1800000006.M1P1.zero":   "",
	}
	for name, content := range shapes {
		writeFile(t, filepath.Join(root, ".Archive", "new", name), []byte(content))
	}
	got := map[string]Message{}
	for msg, err := range m.List("Archive", &ListOptions{MaxHeaderSize: 1024}) {
		if err != nil {
			t.Fatal(err)
		}
		got[msg.ID] = msg
	}
	crlf := got["1800000001.M1P1.crlf"]
	if crlf.Header.Get("X-Folded") != "one two\tthree" || crlf.Header.Get("Subject") != "crlf" || crlf.HeaderTruncated {
		t.Fatalf("crlf: %q %q", crlf.Header, crlf.Header.Get("X-Folded"))
	}
	h := got["1800000002.M1P1.huge"]
	if !h.HeaderTruncated || len(h.Header) > 1024 || !bytes.HasSuffix(h.Header, []byte("\r\n")) || h.Header.Get("Subject") != "huge" {
		t.Fatalf("huge: truncated=%v len=%d", h.HeaderTruncated, len(h.Header))
	}
	if h := got["1800000003.M1P1.nobody"]; string(h.Header) != "Subject: no body\n" || h.HeaderTruncated {
		t.Fatalf("nobody: %+v", h)
	}
	if h := got["1800000004.M1P1.empty"]; len(h.Header) != 0 || h.Header == nil {
		t.Fatalf("empty: %+v", h)
	}
	if h := got["1800000005.M1P1.noend"]; h.Header.Get("subject") != "no end" {
		t.Fatalf("noend: %+v", h)
	}
	if h := got["1800000006.M1P1.zero"]; len(h.Header) != 0 || h.Size != 0 {
		t.Fatalf("zero: %+v", h)
	}
}

func TestHeader(t *testing.T) {
	h := Header("From MAILER-DAEMON Thu Nov 16 00:00:00 2023\nReceived: from a\n by b\nreceived: from c\nSubject:  =?utf-8?q?hi?=  \nX-Empty:\nNot a field\n")
	if v := h.Values("RECEIVED"); !slices.Equal(v, []string{"from a by b", "from c"}) {
		t.Fatalf("Values = %q", v)
	}
	if v := h.Get("subject"); v != "=?utf-8?q?hi?=" {
		t.Fatalf("Get = %q", v)
	}
	if v := h.Get("X-Empty"); v != "" {
		t.Fatalf("Get = %q", v)
	}
	if v := h.Get("Missing"); v != "" {
		t.Fatalf("Get = %q", v)
	}
	if v := h.Get("From MAILER-DAEMON Thu Nov 16 00"); v != "" {
		t.Fatalf("Get matched the envelope line: %q", v)
	}
}

func TestCleanTmp(t *testing.T) {
	clock := time.Unix(1700000000, 0)
	m, root := newTestMaildir(t, &Options{Now: func() time.Time { return clock }})
	fresh, stale := filepath.Join(root, "tmp", "fresh"), filepath.Join(root, "tmp", "stale")
	writeFile(t, fresh, []byte("x"))
	writeFile(t, stale, []byte("x"))
	os.Chtimes(fresh, clock.Add(-35*time.Hour), clock.Add(-35*time.Hour))
	os.Chtimes(stale, clock.Add(-37*time.Hour), clock.Add(-37*time.Hour))
	if n, err := m.CleanTmp("INBOX"); err != nil || n != 1 {
		t.Fatalf("CleanTmp = %d, %v", n, err)
	}
	if got := dirNames(t, filepath.Join(root, "tmp")); !slices.Equal(got, []string{"fresh"}) {
		t.Fatalf("tmp/ = %q", got)
	}
	if _, err := m.CleanTmp("Nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("CleanTmp(Nope) = %v", err)
	}
}

// TestDeliverNameClash: a random source that repeats itself does not make
// one delivery overwrite another.
func TestDeliverNameClash(t *testing.T) {
	fixed := time.Unix(1700000000, 0)
	m, _ := newTestMaildir(t, &Options{Now: func() time.Time { return fixed }, Rand: zeroReader{}, Hostname: "h"})
	if _, err := m.Deliver("INBOX", strings.NewReader("first"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Deliver("INBOX", strings.NewReader("second"), 0); err == nil {
		t.Fatal("second delivery with the same name succeeded")
	}
	if _, err := m.Deliver("INBOX", strings.NewReader("third"), Seen); err == nil {
		t.Fatal("third delivery with the same ID succeeded")
	}
	msgs := list(t, m, "INBOX", nil)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	mustEqual(t, "first message", readAll(t, m, "INBOX", msgs[0].ID), []byte("first"))
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestDeliverReadError: a failing reader leaves nothing behind.
func TestDeliverReadError(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	boom := errors.New("boom")
	_, err := m.Deliver("INBOX", io.MultiReader(strings.NewReader("half a mess"), errReader{boom}), 0)
	wantErr(t, "Deliver", err, boom)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if got := dirNames(t, filepath.Join(root, sub)); len(got) != 0 {
			t.Fatalf("%s/ = %q", sub, got)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestInfoSeparator(t *testing.T) {
	root := filepath.Join(t.TempDir(), "md")
	m, err := OpenMaildir(root, &Options{Create: true, InfoSeparator: '!'})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	id, err := m.Deliver("INBOX", strings.NewReader("x"), Seen)
	if err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, filepath.Join(root, "cur")); !slices.Equal(got, []string{id + "!2,S"}) {
		t.Fatalf("cur/ = %q", got)
	}
}

// TestListParallel lists a folder large enough for the parallel readers:
// order, a break in the middle, a panic in the caller, files deleted
// while the listing runs.
func TestListParallel(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	const count = 5*listBatch + 17
	var want []string
	for i := range count {
		id := fmt.Sprintf("%d.M%dP1.bulk", 1700000000+i, i)
		sub, name := "cur", id+":2,S"
		if i%3 == 0 {
			sub, name = "new", id
		}
		writeFile(t, filepath.Join(root, sub, name), testMessage(fmt.Sprint("bulk", i), "x"))
		want = append(want, id)
	}
	got := list(t, m, "INBOX", nil)
	if !slices.Equal(ids(got), want) {
		t.Fatal("order differs")
	}
	for i, msg := range got {
		if msg.Header.Get("Subject") != fmt.Sprint("bulk", i) || msg.New != (i%3 == 0) {
			t.Fatalf("message %d: %+v", i, msg)
		}
	}
	page := list(t, m, "INBOX", &ListOptions{Offset: listBatch - 5, Limit: 3 * listBatch, SkipHeaders: true})
	if !slices.Equal(ids(page), want[listBatch-5:4*listBatch-5]) {
		t.Fatal("page differs")
	}

	before := runtime.NumGoroutine()
	n := 0
	for range m.List("INBOX", nil) {
		if n++; n == listBatch+10 {
			break
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		for range m.List("INBOX", nil) {
			panic("caller")
		}
	}()
	for range 100 {
		if runtime.NumGoroutine() <= before {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Fatalf("%d goroutines left running, %d before", g, before)
	}

	// Another program deletes messages while we list: they are skipped.
	// It marks one read, moving it from new/ to cur/: it comes last.
	renamed := want[4*listBatch+2] // in new/
	var last Message
	n = 0
	for msg, err := range m.List("INBOX", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			for _, id := range want[3*listBatch : 3*listBatch+40] {
				if err := m.Delete("INBOX", id); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Rename(filepath.Join(root, "new", renamed), filepath.Join(root, "cur", renamed+":2,S")); err != nil {
				t.Fatal(err)
			}
		}
		if msg.ID == want[3*listBatch+1] {
			t.Fatal("listed a deleted message")
		}
		last = msg
		n++
	}
	if n != count-40 {
		t.Fatalf("listed %d", n)
	}
	if last.ID != renamed || last.Flags != Seen || last.New {
		t.Fatalf("last message %+v, want %s, seen", last, renamed)
	}
}

// TestListRenamedWhileListing: a message whose flags another program
// changes while we list is listed once, last, with its new flags.
func TestListRenamedWhileListing(t *testing.T) {
	m, root := newTestMaildir(t, nil)
	var want []string
	for i := range 5 {
		id, err := m.Deliver("INBOX", bytes.NewReader(testMessage(fmt.Sprint("m", i), "x")), 0)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	var got []Message
	for msg, err := range m.List("INBOX", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			os.Rename(filepath.Join(root, "new", want[2]), filepath.Join(root, "cur", want[2]+":2,FS"))
			os.Remove(filepath.Join(root, "new", want[3]))
		}
		got = append(got, msg)
	}
	if !slices.Equal(ids(got), []string{want[0], want[1], want[4], want[2]}) {
		t.Fatalf("listed %q", ids(got))
	}
	if last := got[3]; last.Flags != Flagged|Seen || last.New || last.Header.Get("Subject") != "m2" {
		t.Fatalf("renamed message %+v", last)
	}
}

// TestConcurrentUse: goroutines sharing one Maildir change flags on the
// same messages, read and list them; no flag change is lost.
func TestConcurrentUse(t *testing.T) {
	m, _ := newTestMaildir(t, nil)
	var idList []string
	for i := range 20 {
		id, err := m.Deliver("INBOX", bytes.NewReader(testMessage(fmt.Sprint("c", i), "x")), 0)
		if err != nil {
			t.Fatal(err)
		}
		idList = append(idList, id)
	}
	letters := []Flags{Seen, Answered, Flagged, Passed}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, f := range letters {
		wg.Go(func() {
			for _, id := range idList {
				if _, err := m.SetFlags("INBOX", id, f, 0); err != nil {
					errs <- err
					return
				}
				if _, err := ReadMessage(m, "INBOX", id, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			for _, err := range m.List("INBOX", nil) {
				if err != nil {
					errs <- err
					return
				}
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, msg := range list(t, m, "INBOX", nil) {
		if msg.Flags != Seen|Answered|Flagged|Passed {
			t.Fatalf("%s: flags %v", msg.ID, msg.Flags)
		}
	}
}
