package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/mailbox/imaptest"
	"github.com/securemail/securemail/transport"
	"github.com/securemail/securemail/transport/smtptest"
)

// TestAccountEndToEnd wires a configured account to a real Dovecot (IMAP,
// password from a 0600 file, its CA from ca_file) and a go-smtp
// submission server (STARTTLS, password from a command): a message sent
// reaches the server and its copy lands in Sent on the IMAP server.
func TestAccountEndToEnd(t *testing.T) {
	d := imaptest.StartDovecot(t)
	srv := smtptest.Start(t, &smtptest.Options{StartTLS: true, RequireTLS: true})
	home := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(home, "imap.pass"), []byte(d.Password+"\n"), 0o600))
	must(os.WriteFile(filepath.Join(home, "dovecot-ca.pem"), d.TLS.CertPEM, 0o644))
	must(os.WriteFile(filepath.Join(home, "smtp-ca.pem"), srv.TLS.CertPEM, 0o644))
	imapHost, imapPort := splitTest(t, d.Addr)
	smtpHost, smtpPort := splitTest(t, srv.Addr)
	conf := fmt.Sprintf(`[[account]]
name = "test"
address = "alice@example.org"

[account.imap]
host = %q
port = %s
user = %q
password_file = "imap.pass"
ca_file = "dovecot-ca.pem"

[account.smtp]
host = %q
port = %s
tls = "starttls"
ca_file = "smtp-ca.pem"
user = "alice"
password_command = "printf 'secret\n'"
require_tls = true
`, imapHost, imapPort, d.User, smtpHost, smtpPort)
	must(os.WriteFile(filepath.Join(home, FileName), []byte(conf), 0o600))
	cfg, err := Load(home)
	must(err)
	a, err := cfg.Account("test")
	must(err)

	mb, err := a.OpenMailbox(nil)
	must(err)
	defer mb.Close()
	imapMB, ok := mb.(*mailbox.IMAP)
	if !ok {
		t.Fatalf("OpenMailbox gave a %T", mb)
	}
	st, err := imapMB.Check(context.Background())
	if err != nil {
		t.Fatalf("IMAP: %v\n%s", err, d.Log())
	}
	if st.Mechanism != "PLAIN" {
		t.Fatalf("IMAP status %+v", st)
	}
	if a.CacheDir() != filepath.Join(home, "cache", "imap", "test") {
		t.Fatalf("CacheDir = %s", a.CacheDir())
	}

	tr, err := a.Transport(nil)
	must(err)
	msg := []byte("From: alice@example.org\r\nTo: bob@example.org\r\nSubject: end to end\r\nMessage-ID: <e2e@example.org>\r\n\r\nHello.\r\n")
	env, err := transport.EnvelopeOf(msg)
	must(err)
	must(transport.SendAndSave(context.Background(), tr, env, msg, transport.SaveToFolder(mb, a.Sent())))
	got := srv.Messages()
	if len(got) != 1 || !got[0].RequireTLS || got[0].User != "alice" || !bytes.Equal(got[0].Data, msg) {
		t.Fatalf("the server got %+v", got)
	}
	var sent []mailbox.Message
	for m, err := range mb.List(a.Sent(), nil) {
		must(err)
		sent = append(sent, m)
	}
	if len(sent) != 1 || sent[0].Header.Get("Subject") != "end to end" || sent[0].Flags != mailbox.Seen {
		t.Fatalf("Sent: %+v", sent)
	}
	raw, err := mailbox.ReadMessage(mb, a.Sent(), sent[0].ID, nil)
	if err != nil || !bytes.Equal(raw, msg) {
		t.Fatalf("the copy in Sent: %q %v", raw, err)
	}

	// A password source that fails: the login fails with its message.
	a.IMAP.PasswordFile = "missing.pass"
	a.secrets = nil
	o, err := a.IMAPOptions(&OpenOptions{})
	must(err)
	o.CacheDir = ""
	_, err = mailbox.DialIMAP(context.Background(), o)
	if !errors.Is(err, mailbox.ErrAuth) || !strings.Contains(err.Error(), "missing.pass") {
		t.Fatalf("missing password file: %v", err)
	}
}

func splitTest(t *testing.T, addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("address %q", addr)
	}
	return addr[:i], addr[i+1:]
}
