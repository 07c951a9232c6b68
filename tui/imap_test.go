package tui

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/config"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/mailbox/imaptest"
)

// TestIMAPAccountNewMail opens an IMAP account (a real Dovecot, read
// through the config package) in the TUI: the list shows the INBOX, and a
// message delivered by another connection appears by itself (IDLE, the
// mailbox.Watcher). Without dovecot the test is skipped, or fails under
// CI=true.
func TestIMAPAccountNewMail(t *testing.T) {
	d := imaptest.StartDovecot(t)
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "imap.pass"), []byte(d.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "ca.pem"), d.TLS.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`[[account]]
name = "imap"
address = "me@example.org"

[account.imap]
host = %q
port = %s
user = %q
password_file = "imap.pass"
ca_file = "ca.pem"
`, host, port, d.User)
	if err := os.WriteFile(filepath.Join(home, config.FileName), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cfg.Account("")
	if err != nil {
		t.Fatal(err)
	}
	opts := &config.OpenOptions{Timeout: 10 * time.Second}
	open := func() mailbox.Mailbox {
		mb, err := a.OpenMailbox(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mb.Close() })
		return mb
	}
	mb, other := open(), open()
	if _, ok := mb.(mailbox.Watcher); !ok {
		t.Fatalf("an IMAP account's mailbox (%T) is no Watcher", mb)
	}
	deliver := func(subject string) {
		t.Helper()
		msg := "From: Alice <alice@example.org>\r\nTo: me@example.org\r\nSubject: " + subject + "\r\nDate: Mon, 2 Mar 2026 09:30:00 +0000\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.org>\r\n\r\nHello.\r\n"
		if _, err := other.Deliver("INBOX", strings.NewReader(msg), 0); err != nil {
			t.Fatalf("delivering: %v\n%s", err, d.Log())
		}
	}
	deliver("First message")

	c := newMaildirConfig(t)
	c.Mailbox, c.Account, c.Title = mb, a.Name, a.Name
	h := start(t, c, 100, 20)
	rowsLoaded := func(n int) func(*Model) bool {
		return func(m *Model) bool {
			if m.cur == nil || !m.cur.scanned || len(m.cur.rows) != n {
				return false
			}
			for i := range m.cur.rows {
				if !m.cur.rows[i].loaded {
					return false
				}
			}
			return true
		}
	}
	screen := h.waitFor("the INBOX", rowsLoaded(1))
	if !strings.Contains(screen, "First message") {
		t.Errorf("the list:\n%s", screen)
	}
	h.waitFor("the watch", func(m *Model) bool { return m.watching == "INBOX" })
	time.Sleep(300 * time.Millisecond) // the watcher enters IDLE
	deliver("Second message")
	screen = h.waitFor("the new message", rowsLoaded(2))
	if !strings.Contains(screen, "Second message") {
		t.Errorf("the list after new mail:\n%s", screen)
	}
	h.quit()
}
