package tui

import (
	"bytes"
	"fmt"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/config"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/mailbox/imaptest"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/transport/smtptest"
)

// e2eKeys makes the user's and a contact's OpenPGP identities in two
// keystores, each holding the other's public key.
func e2eKeys(t *testing.T, me, contact string) (mine, theirs *keystore.Store) {
	t.Helper()
	open := func(name string) *keystore.Store {
		st, err := keystore.Open(filepath.Join(t.TempDir(), name), nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	mine, theirs = open("me"), open("contact")
	gen := func(st *keystore.Store, addr string) string {
		res, err := st.Generate(keystore.GenerateRequest{Email: addr, PGP: true, Algo: "ed25519", NoPassphrase: true})
		if err != nil {
			t.Fatal(err)
		}
		return res[0].Fingerprint
	}
	give := func(from, to *keystore.Store, fp, name string) {
		var pub bytes.Buffer
		if err := from.Export(&pub, fp, keystore.ExportBinary); err != nil {
			t.Fatal(err)
		}
		if _, err := to.Import([]keystore.Input{{Name: name, Data: pub.Bytes()}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	give(mine, theirs, gen(mine, me), "me.pgp")
	give(theirs, mine, gen(theirs, contact), "contact.pgp")
	return mine, theirs
}

// TestEndToEndIMAPReplyEncrypted is the account scenario end to end: an
// IMAP account on a real Dovecot that sends through a submission server.
// An encrypted and signed message from a contact arrives in the INBOX;
// the TUI shows it decrypted and verified; the reply is encrypted (S26)
// and sent; the server gets it encrypted, its copy lands in Sent on the
// IMAP server, and the original is marked answered there. Without
// dovecot the test is skipped, or fails under CI=true.
func TestEndToEndIMAPReplyEncrypted(t *testing.T) {
	imaptest.Need(t, "dovecot")
	d := imaptest.StartDovecot(t)
	srv := smtptest.Start(t, nil)
	const me, alice = "me@example.org", "alice@example.org"
	mine, theirs := e2eKeys(t, me, alice)

	home := t.TempDir()
	for name, data := range map[string][]byte{
		"imap.pass":   []byte(d.Password + "\n"),
		"imap-ca.pem": d.TLS.CertPEM,
		"smtp-ca.pem": srv.TLS.CertPEM,
	} {
		if err := os.WriteFile(filepath.Join(home, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	split := func(addr string) (string, string) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		return host, port
	}
	imapHost, imapPort := split(d.Addr)
	smtpHost, smtpPort := split(srv.Addr)
	conf := fmt.Sprintf(`[[account]]
name = "e2e"
address = %q

[account.imap]
host = %q
port = %s
user = %q
password_file = "imap.pass"
ca_file = "imap-ca.pem"

# The test SMTP server's login is alice / secret.
[account.smtp]
host = %q
port = %s
ca_file = "smtp-ca.pem"
user = "alice"
password = "secret"
allow_password_in_config = true
`, me, imapHost, imapPort, d.User, smtpHost, smtpPort)
	if err := os.WriteFile(filepath.Join(home, config.FileName), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cfg.Account("e2e")
	if err != nil {
		t.Fatal(err)
	}
	opts := &config.OpenOptions{Timeout: 10 * time.Second}
	openMailbox := func() mailbox.Mailbox {
		mb, err := a.OpenMailbox(opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mb.Close() })
		return mb
	}
	mb, other := openMailbox(), openMailbox()
	tr, err := a.Transport(opts)
	if err != nil {
		t.Fatal(err)
	}

	// Alice writes, encrypted and signed, and the message is delivered.
	const secret = "The vault code is 4711."
	raw, err := securemail.Protect(&message.Draft{
		From: &mail.Address{Name: "Alice", Address: alice}, To: []*mail.Address{{Address: me}},
		Date: messageTime, Subject: "Vault", Text: secret + "\n",
	}, securemail.Policy{Sign: true, Encrypt: true, Scheme: "pgp"},
		&securemail.ProtectOptions{Protectors: []securemail.Protector{&securemail.PGP{Store: theirs}}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("vault code")) {
		t.Fatal("the test message is not encrypted")
	}
	if _, err := other.Deliver("INBOX", bytes.NewReader(raw), 0); err != nil {
		t.Fatalf("delivering: %v\n%s", err, d.Log())
	}

	c := Config{Mailbox: mb, Store: mine, Me: &mail.Address{Address: me}, Transport: tr,
		Sent: a.Sent(), Drafts: a.Drafts(), Account: a.Name, Title: a.Name,
		Now: func() time.Time { return screenTime }, AttachmentDir: t.TempDir()}
	h := start(t, c, 110, 34)
	h.waitFor("the INBOX", func(m *Model) bool {
		return m.cur != nil && m.cur.scanned && len(m.cur.rows) == 1 && m.cur.rows[0].loaded
	})
	h.press("g", "enter")
	screen := h.waitFor("the message", func(m *Model) bool {
		return m.page == pageMessage && m.msg != nil && m.msg.o != nil && len(m.busy) == 0
	})
	for _, want := range []string{
		"Verified: encrypted, and signed by the sender " + alice,
		"Encrypted (OpenPGP",
		"Signature (OpenPGP): valid, by " + alice,
		secret,
	} {
		if !strings.Contains(flat(screen), want) {
			t.Errorf("the message page lacks %q:\n%s", want, screen)
		}
	}
	var original string
	h.waitFor("the message's id", func(m *Model) bool { original = m.msg.id; return true })

	h.press("r")
	screen = h.waitFor("the reply", func(m *Model) bool {
		return m.page == pageCompose && m.compose != nil && statusesKnown(alice)(m)
	})
	if !strings.Contains(screen, "[x] encrypt") || !strings.Contains(screen, "must stay encrypted (S26)") {
		t.Errorf("the reply is not encrypted:\n%s", screen)
	}
	h.typeText("Thanks, noted the new code.\n")
	h.press("ctrl+x")
	screen = h.waitFor("sent", func(m *Model) bool {
		return m.page == pageMessage && strings.HasPrefix(m.infoText, "sent") && len(m.busy) == 0
	})
	if !strings.Contains(screen, "sent encrypted and signed; a copy is in Sent") {
		t.Errorf("the message line:\n%s", screen)
	}
	h.quit()

	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("the SMTP server got %d messages", len(got))
	}
	if got[0].From != me || len(got[0].To) != 1 || got[0].To[0] != alice || !got[0].TLS {
		t.Errorf("the envelope: from %s to %v (TLS %v)", got[0].From, got[0].To, got[0].TLS)
	}
	for _, plain := range []string{"noted the new code", "vault code", "4711"} {
		if strings.Contains(string(got[0].Data), plain) {
			t.Errorf("the message sent holds %q in the clear:\n%.800s", plain, got[0].Data)
		}
	}
	if !strings.Contains(string(got[0].Data), "multipart/encrypted") {
		t.Errorf("the message sent is not encrypted:\n%.800s", got[0].Data)
	}

	// The copy in Sent and the Answered flag, read on a connection of its
	// own.
	check := openMailbox()
	sent := folderMessages(t, check, a.Sent())
	if len(sent) != 1 || !bytes.Equal(bytes.ReplaceAll(sent[0], []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(got[0].Data, []byte("\r\n"), []byte("\n"))) {
		t.Errorf("%d messages in Sent, or not the one sent", len(sent))
	}
	answered := false
	for msg, err := range check.List("INBOX", &mailbox.ListOptions{SkipHeaders: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if msg.ID == original || original == "" {
			answered = answered || msg.Flags.Has(mailbox.Answered)
		}
	}
	if !answered {
		t.Error("the original is not marked answered on the IMAP server")
	}

	// Alice can read the reply.
	_, view, err := securemail.Open(got[0].Data, &securemail.OpenOptions{Handlers: []securemail.Handler{&securemail.PGP{Store: theirs}}})
	if err != nil {
		t.Fatalf("Alice opening the reply: %v", err)
	}
	if !strings.Contains(view.Body, "noted the new code") {
		t.Errorf("Alice reads:\n%s", view.Body)
	}
}
