package tui

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/securemail/securemail/config"
	"github.com/securemail/securemail/transport/smtptest"
	"github.com/securemail/securemail/tui/demo"
)

// accountConfig makes the TUI's configuration of a demo home whose
// account, read by the config package, is its Maildir and sends through
// the test SMTP server srv.
func accountConfig(t *testing.T, d *demo.Demo, srv *smtptest.Server) Config {
	t.Helper()
	home := t.TempDir()
	ca := filepath.Join(home, "ca.pem")
	if err := os.WriteFile(ca, srv.TLS.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(`[[account]]
name = "demo"
address = %q
trusted_authserv_ids = ["mx.example.test"]

[account.maildir]
path = %q

[account.smtp]
host = %q
port = %s
ca_file = %q
user = "alice"
password = "secret"
allow_password_in_config = true
`, demo.MeAddress, d.Maildir, host, port, ca)
	if err := os.WriteFile(filepath.Join(home, config.FileName), []byte(text), 0o600); err != nil {
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
	mb, err := a.OpenMailbox(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	tr, err := a.Transport(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := demoConfig(t, d)
	c.Mailbox, c.Transport, c.Sent, c.Drafts, c.Account, c.Title = mb, tr, a.Sent(), a.Drafts(), a.Name, a.Name
	return c
}

// TestSendThroughTransport sends an encrypted message to Alice through
// the account's SMTP server: the server gets it encrypted, a copy lands
// in Sent, and nothing goes to the Outbox.
func TestSendThroughTransport(t *testing.T) {
	d := newDemo(t)
	srv := smtptest.Start(t, nil)
	cfg := accountConfig(t, d, srv)
	h := start(t, cfg, 110, 30)
	h.waitFor("the list", func(m *Model) bool { return m.cur.scanned })
	h.press("m")
	h.typeText(demo.AliceAddress)
	h.press("tab", "tab", "tab")
	h.typeText("Plans")
	h.press("tab")
	h.typeText("The secret plans are ready.")
	h.waitFor("Alice's key", statusesKnown(demo.AliceAddress))
	h.press("ctrl+e", "ctrl+x")
	screen := h.waitFor("sent", func(m *Model) bool { return m.page == pageMailbox && strings.HasPrefix(m.infoText, "sent") })
	if !strings.Contains(screen, "sent encrypted and signed; a copy is in Sent") {
		t.Errorf("the message line:\n%s", screen)
	}
	h.quit()
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("the server got %d messages", len(got))
	}
	if got[0].From != demo.MeAddress || len(got[0].To) != 1 || got[0].To[0] != demo.AliceAddress || !got[0].TLS || got[0].User != "alice" {
		t.Errorf("the envelope: from %s to %v (TLS %v, user %q)", got[0].From, got[0].To, got[0].TLS, got[0].User)
	}
	if !strings.Contains(string(got[0].Data), "multipart/encrypted") || strings.Contains(string(got[0].Data), "secret plans") {
		t.Errorf("the message sent is not encrypted:\n%.600s", got[0].Data)
	}
	sent := folderMessages(t, cfg.Mailbox, "Sent")
	if len(sent) != 1 || !strings.Contains(string(sent[0]), "multipart/encrypted") {
		t.Errorf("%d messages in Sent", len(sent))
	}
	if n := len(folderMessages(t, cfg.Mailbox, "Outbox")); n != 0 {
		t.Errorf("%d messages in the Outbox", n)
	}
}

// TestSendRefusedRecipient: the server refuses a recipient; the error
// line names it with the server's reply, the message stays on the compose
// page (nothing sent, nothing in Sent), and can be saved as a draft.
func TestSendRefusedRecipient(t *testing.T) {
	d := newDemo(t)
	srv := smtptest.Start(t, &smtptest.Options{Reject: map[string]*smtp.SMTPError{
		"nobody@example.test": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"},
	}})
	cfg := accountConfig(t, d, srv)
	h := start(t, cfg, 140, 30)
	h.waitFor("the list", func(m *Model) bool { return m.cur.scanned })
	h.press("m")
	h.typeText(demo.AliceAddress + ", nobody@example.test")
	h.press("tab", "tab", "tab")
	h.typeText("Lunch")
	h.press("tab")
	h.typeText("Lunch at noon?")
	h.waitFor("the key status", statusesKnown(demo.AliceAddress, "nobody@example.test"))
	h.press("ctrl+x")
	screen := h.waitFor("the refusal", func(m *Model) bool { return m.errText != "" && len(m.busy) == 0 })
	for _, want := range []string{"the server refused nobody@example.test (550 5.1.1", "No such user", "sent to nobody", "the message is kept"} {
		if !strings.Contains(flat(screen), want) {
			t.Errorf("the error line lacks %q:\n%s", want, screen)
		}
	}
	h.waitFor("the compose page", func(m *Model) bool {
		return m.page == pageCompose && m.compose != nil && !m.compose.sending && strings.Contains(m.compose.body.Value(), "Lunch at noon?")
	})
	h.press("ctrl+d")
	h.waitFor("the draft", func(m *Model) bool { return m.page == pageMailbox && strings.HasPrefix(m.infoText, "draft saved") })
	h.quit()
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("the server accepted %d messages", n)
	}
	if n := len(folderMessages(t, cfg.Mailbox, "Sent")); n != 0 {
		t.Errorf("%d messages in Sent", n)
	}
	drafts := folderMessages(t, cfg.Mailbox, "Drafts")
	if len(drafts) != 1 || !strings.Contains(string(drafts[0]), "Lunch at noon?") {
		t.Errorf("%d drafts", len(drafts))
	}
}

// TestAccountSwitch: with two accounts, A opens the next one (its own
// mailbox), and A again comes back.
func TestAccountSwitch(t *testing.T) {
	one := newMaildirConfig(t, "From: a@example.org\nSubject: In account one\n\nHi.\n")
	two := newMaildirConfig(t, "From: b@example.org\nSubject: In account two\n\nHi.\n")
	one.Account, two.Account = "one", "two"
	two.Store = one.Store
	sw := func(name string) (Config, error) {
		if name == "one" {
			return one, nil
		}
		return two, nil
	}
	one.Accounts, one.Switch = []string{"one", "two"}, sw
	h := start(t, one, 100, 20)
	shows := func(acct, subject string) func(*Model) bool {
		return func(m *Model) bool {
			return m.cfg.Account == acct && m.cur != nil && m.cur.scanned && len(m.cur.rows) == 1 && m.cur.rows[0].loaded && m.cur.rows[0].subject == subject
		}
	}
	h.waitFor("account one", shows("one", "In account one"))
	h.press("A")
	screen := h.waitFor("account two", shows("two", "In account two"))
	if !strings.Contains(screen, "In account two") {
		t.Errorf("the screen:\n%s", screen)
	}
	h.press("A")
	h.waitFor("account one again", shows("one", "In account one"))
	h.quit()
}
