package mailbox

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// testClock is a clock that advances one second per reading, so that
// messages delivered in a row list in delivery order.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1700000000, 123456000)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// newTestMaildir creates a Maildir with the folders Sent and Archive.
func newTestMaildir(t testing.TB, opts *Options) (*Maildir, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "Maildir")
	o := Options{Now: newTestClock().Now, Hostname: "test.example"}
	if opts != nil {
		o = *opts
	}
	o.Create = true
	m, err := OpenMaildir(root, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, f := range []string{"Sent", "Archive"} {
		if err := m.CreateFolder(f); err != nil {
			t.Fatal(err)
		}
	}
	return m, root
}

// testMessage returns a small RFC 5322 message.
func testMessage(subject, body string) []byte {
	return []byte("From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: " + subject +
		"\nDate: Tue, 14 Nov 2023 22:13:20 +0000\nMessage-ID: <" + subject + "@example.org>\n\n" + body + "\n")
}

// list collects a listing, failing the test on any error.
func list(t testing.TB, m Mailbox, folder string, opts *ListOptions) []Message {
	t.Helper()
	var out []Message
	for msg, err := range m.List(folder, opts) {
		if err != nil {
			t.Fatalf("List(%q): %v", folder, err)
		}
		out = append(out, msg)
	}
	return out
}

func ids(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.ID)
	}
	return out
}

// dirNames returns the sorted names in a directory.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readAll(t testing.TB, m Mailbox, folder, id string) []byte {
	t.Helper()
	b, err := ReadMessage(m, folder, id, nil)
	if err != nil {
		t.Fatalf("ReadMessage(%q, %q): %v", folder, id, err)
	}
	return b
}

func mustEqual(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
	}
}

func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}
