package tui

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/tui/demo"
)

func hasEntry(m *Model, addr string, src keystore.Source) bool {
	if m.keys == nil {
		return false
	}
	for _, e := range m.keys.entries {
		if e.HasEmail(addr) && (src == "" || e.Source == src) {
			return true
		}
	}
	return false
}

// TestKeysPage lists the keys with provenance and expiry, looks Erin up
// in the DNS and pins what was found, imports a certificate from a file
// and generates an identity.
func TestKeysPage(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 120, 30)
	// The checks of the list store Bob's certificate from his signed
	// mail (provenance "message"): let them finish first.
	h.waitFor("the list", allChecked(len(demo.Messages)))
	h.press("K")
	screen := h.waitFor("the keys", func(m *Model) bool {
		return m.page == pageKeys && m.keys != nil && len(m.keys.entries) > 0 && len(m.busy) == 0
	})
	golden(t, "keys", screen)
	for _, want := range []string{"you PGP *you@example.test generated", "*alice@example.test imported", "CA S/MIME"} {
		if !strings.Contains(flat(screen), want) {
			t.Errorf("the keys page lacks %q", want)
		}
	}

	h.press("l")
	h.typeText(demo.ErinAddress)
	h.press("enter")
	screen = h.waitFor("the lookup", func(m *Model) bool { return m.keys.lookupAddr == demo.ErinAddress && len(m.busy) == 0 })
	if !strings.Contains(flat(screen), "OPENPGPKEY: DNSSEC secure, 1 record(s): usable") || !strings.Contains(flat(screen), "SMIMEA: DNSSEC secure, 0 record(s)") {
		t.Errorf("the lookup:\n%s", screen)
	}
	h.press("p")
	h.waitFor("Erin's key pinned", func(m *Model) bool { return hasEntry(m, demo.ErinAddress, keystore.OpenPGPKey) })

	certFile := filepath.Join(t.TempDir(), "zed.pem")
	if err := os.WriteFile(certFile, selfSigned(t, "zed@example.test"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.press("i")
	h.typeText(certFile)
	h.press("enter")
	screen = h.waitFor("the import", func(m *Model) bool { return hasEntry(m, "zed@example.test", keystore.Imported) })
	if !strings.Contains(screen, "new smime") {
		t.Errorf("the import summary:\n%s", screen)
	}

	h.press("g")
	h.typeText("new@example.test")
	h.press("enter")
	h.waitFor("the passphrase prompt", func(m *Model) bool { return m.prompt != nil && m.prompt.secret })
	h.press("enter") // none: a demo
	h.waitFor("the new identity", func(m *Model) bool { return hasEntry(m, "new@example.test", keystore.Generated) })
	h.press("esc")
	h.waitFor("back", func(m *Model) bool { return m.page == pageMailbox })
	h.quit()
	if n := len(d.Store.Lookup("new@example.test")); n != 2 {
		t.Errorf("%d keys for the new identity, want an OpenPGP key and a certificate", n)
	}
}

func selfSigned(t *testing.T, email string) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: email},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{email},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestHelpOverlay shows the key bindings over any page; any key closes
// it.
func TestHelpOverlay(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 110, 40)
	h.waitFor("the list", allChecked(len(demo.Messages)))
	h.press("?")
	screen := h.waitFor("the help", func(m *Model) bool { return m.help })
	golden(t, "help", screen)
	h.press("x")
	h.waitFor("the help closed", func(m *Model) bool { return !m.help })
	m := h.quit()
	if m.page != pageMailbox {
		t.Error("a key that closes the help did something else")
	}
}

// TestPassphrasePrompt opens a message encrypted to an identity sealed
// with a passphrase: the TUI asks for it (a wrong one is asked again),
// then shows the message.
func TestPassphrasePrompt(t *testing.T) {
	cfg := newMaildirConfig(t)
	cheap := &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 1024, Threads: 1}}
	st, err := keystore.Open(filepath.Join(t.TempDir(), "keys"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Generate(keystore.GenerateRequest{Email: "me@example.org", PGP: true, Algo: "ed25519", Passphrase: []byte("correct horse")}); err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	sender, err := keystore.Open(filepath.Join(t.TempDir(), "sender"), cheap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sender.Generate(keystore.GenerateRequest{Email: "them@example.org", PGP: true, Algo: "ed25519", NoPassphrase: true}); err != nil {
		t.Fatal(err)
	}
	var pub strings.Builder
	if err := st.Export(&pub, st.Entries()[0].Fingerprint, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := sender.Import([]keystore.Input{{Name: "me.asc", Data: []byte(pub.String())}}, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := securemail.Protect(&message.Draft{From: &mail.Address{Address: "them@example.org"}, To: []*mail.Address{{Address: "me@example.org"}},
		Subject: "sealed", Text: "only with the passphrase\n"}, securemail.Policy{Encrypt: true, Scheme: "pgp"},
		&securemail.ProtectOptions{Protectors: []securemail.Protector{&securemail.PGP{Store: sender}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Mailbox.Deliver("INBOX", strings.NewReader(string(raw)), 0); err != nil {
		t.Fatal(err)
	}
	cfg.NoVerifyList = true
	h := start(t, cfg, 100, 24)
	h.waitFor("the row", func(m *Model) bool { return m.cur.loaded == 1 })
	h.press("enter")
	screen := h.waitFor("the prompt", func(m *Model) bool { return m.prompt != nil && m.prompt.secret })
	if !strings.Contains(screen, "Passphrase for key") {
		t.Errorf("the prompt:\n%s", screen)
	}
	h.typeText("wrong")
	h.press("enter")
	screen = h.waitFor("asked again", func(m *Model) bool { return m.prompt != nil && strings.HasPrefix(m.prompt.label, "Wrong passphrase") })
	if strings.Contains(screen, "wrong") {
		t.Error("the passphrase is echoed")
	}
	h.typeText("correct horse")
	h.press("enter")
	screen = h.waitFor("the message", func(m *Model) bool { return m.msg != nil && m.msg.o != nil })
	if !strings.Contains(screen, "only with the passphrase") || !strings.Contains(flat(screen), "Encrypted but not signed") {
		t.Errorf("the message:\n%s", screen)
	}
	h.quit()
}

// TestErrorLine opens a message that is not one, and one deleted after
// the listing: each is a clear error line, and the TUI goes on.
func TestErrorLine(t *testing.T) {
	cfg := newMaildirConfig(t, "no header here, just text", "From: a@example.org\nSubject: gone\n\nbody\n")
	h := start(t, cfg, 100, 20)
	h.waitFor("two rows", func(m *Model) bool { return m.cur.loaded == 2 })
	// The newest first: delete it behind the TUI's back, then open it.
	var id string
	h.waitFor("the selection", func(m *Model) bool { id = m.cur.selectedID(); return id != "" })
	if err := cfg.Mailbox.Delete("INBOX", id); err != nil {
		t.Fatal(err)
	}
	h.press("enter")
	screen := h.waitFor("the error", func(m *Model) bool { return m.errText != "" })
	if !strings.Contains(screen, "error: ") || !strings.Contains(screen, "the message could not be opened") {
		t.Errorf("the screen:\n%s", screen)
	}
	h.press("esc", "j", "enter")
	screen = h.waitFor("the second error", func(m *Model) bool { return m.page == pageMessage && m.msg != nil && m.msg.id != id && !m.msg.loading })
	if !strings.Contains(screen, "could not be opened") && !strings.Contains(screen, "Not signed") {
		t.Errorf("a message that is not one:\n%s", screen)
	}
	h.quit()
}
