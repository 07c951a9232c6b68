package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/tui/demo"
)

// folderMessages returns the raw messages of a folder.
func folderMessages(t *testing.T, mb mailbox.Mailbox, folder string) [][]byte {
	t.Helper()
	var out [][]byte
	for msg, err := range mb.List(folder, &mailbox.ListOptions{SkipHeaders: true}) {
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mailbox.ReadMessage(mb, folder, msg.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

func statusesKnown(addrs ...string) func(*Model) bool {
	return func(m *Model) bool {
		c := m.compose
		if c == nil || len(m.busy) > 0 {
			return false
		}
		for _, a := range addrs {
			st, ok := c.status[c.statusKey(a)]
			if !ok || st.State == keyChecking || st.State == keyUnknown {
				return false
			}
		}
		return true
	}
}

// TestComposePage shows each recipient's key status live: found in the
// DNS via SMIMEA or OPENPGPKEY (DNSSEC secure), or not found; and
// refuses to send encrypted mail while a recipient has no key, naming
// them.
func TestComposePage(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 110, 24)
	h.waitFor("the list", func(m *Model) bool { return m.cur.scanned })
	h.press("m")
	h.typeText("dana@example.test, erin@example.test, nobody@example.test, alice@example.test")
	screen := h.waitFor("the key status", statusesKnown(demo.DanaAddress, demo.ErinAddress, "nobody@example.test", demo.AliceAddress))
	golden(t, "compose", screen)
	for _, want := range []string{
		"dana@example.test ✓ found via SMIMEA (DNSSEC secure): S/MIME",
		"erin@example.test ✓ found via OPENPGPKEY (DNSSEC secure): OpenPGP",
		"nobody@example.test ✗ no key found",
		"alice@example.test ✓ OpenPGP key in your keystore",
	} {
		if !strings.Contains(flat(screen), want) {
			t.Errorf("the compose page lacks %q", want)
		}
	}
	h.press("ctrl+e", "ctrl+x")
	screen = h.waitFor("the refusal", func(m *Model) bool { return m.errText != "" })
	if !strings.Contains(screen, "cannot send encrypted: no usable key for nobody@example.test") {
		t.Errorf("the error line:\n%s", screen)
	}
	m := h.quit()
	if m.page != pageCompose || len(folderMessages(t, d.Mailbox, "Outbox")) != 0 {
		t.Error("a message without keys for everyone was sent")
	}
	st := m.compose.status[m.compose.statusKey(demo.DanaAddress)]
	if st.State != keyFoundDNS || st.Scheme != "smime" {
		t.Errorf("Dana: %+v", st)
	}
}

// TestComposeSendViaSMIMEA writes to Dana, whose certificate is only in
// the DNS: the message goes to the outbox S/MIME encrypted, and her
// certificate is now in the keystore with its provenance.
func TestComposeSendViaSMIMEA(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 110, 30)
	h.waitFor("the list", func(m *Model) bool { return m.cur.scanned })
	h.press("m")
	h.typeText(demo.DanaAddress)
	h.press("tab", "tab", "tab")
	h.typeText("Plans")
	h.press("tab")
	h.typeText("The secret plans are ready.")
	h.waitFor("Dana's key", statusesKnown(demo.DanaAddress))
	h.press("ctrl+e", "ctrl+x")
	screen := h.waitFor("sent", func(m *Model) bool { return m.page == pageMailbox && strings.HasPrefix(m.infoText, "sent") })
	if !strings.Contains(screen, "sent encrypted and signed: saved to Outbox") {
		t.Errorf("the message line:\n%s", screen)
	}
	h.quit()
	out := folderMessages(t, d.Mailbox, "Outbox")
	if len(out) != 1 {
		t.Fatalf("%d messages in the outbox", len(out))
	}
	if !strings.Contains(string(out[0]), "application/pkcs7-mime; smime-type=enveloped-data") || strings.Contains(string(out[0]), "secret plans") {
		t.Errorf("the outbox message is not S/MIME encrypted:\n%.600s", out[0])
	}
	var found bool
	for _, e := range d.Store.Lookup(demo.DanaAddress) {
		found = found || (e.Source == keystore.SMIMEA && e.DNSSEC == "secure")
	}
	if !found {
		t.Error("Dana's certificate was not stored with its provenance")
	}
}

// TestS26_ReplyToEncryptedStaysEncrypted replies to Alice's encrypted
// message: encryption is on and cannot be turned off, the draft is
// stored encrypted, the reply goes out encrypted, and the original is
// marked answered.
func TestS26_ReplyToEncryptedStaysEncrypted(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 110, 30)
	openRow(h, "Lunch on Friday?")
	h.press("r")
	screen := h.waitFor("the reply", func(m *Model) bool {
		return m.page == pageCompose && m.compose != nil && statusesKnown(demo.AliceAddress)(m)
	})
	golden(t, "compose_reply", screen)
	if !strings.Contains(screen, "[x] encrypt") || !strings.Contains(screen, "must stay encrypted (S26)") || !strings.Contains(screen, "> lunch on Friday at noon?") {
		t.Errorf("the reply:\n%s", screen)
	}
	h.press("ctrl+e")
	screen = h.waitFor("the refusal", func(m *Model) bool { return m.errText != "" })
	if !strings.Contains(screen, "stays encrypted (S26)") {
		t.Errorf("turning encryption off:\n%s", screen)
	}
	h.press("ctrl+d")
	h.waitFor("the draft", func(m *Model) bool { return m.page == pageMessage && strings.HasPrefix(m.infoText, "draft saved") })
	h.press("r")
	h.waitFor("the reply again", func(m *Model) bool { return m.page == pageCompose })
	h.typeText("Friday works for me.\n")
	h.press("ctrl+x")
	h.waitFor("sent", func(m *Model) bool {
		return m.page == pageMessage && strings.HasPrefix(m.infoText, "sent encrypted and signed")
	})

	drafts := folderMessages(t, d.Mailbox, "Drafts")
	if len(drafts) != 1 {
		t.Fatalf("%d drafts", len(drafts))
	}
	raw := string(drafts[0])
	if !strings.Contains(raw, "multipart/encrypted") || strings.Contains(raw, "usual place") || !strings.Contains(raw, "Subject: ...") {
		t.Errorf("the draft of an encrypted reply is not stored encrypted:\n%.800s", raw)
	}

	// The draft, opened from Drafts and edited, is still a message that
	// must go out encrypted; sent, it leaves the drafts folder.
	var replied string
	h.waitFor("the replied message", func(m *Model) bool { replied = m.msg.id; return true })
	h.press("esc")
	h.waitFor("the list", func(m *Model) bool { return m.page == pageMailbox })
	h.press("tab", "j", "enter")
	h.waitFor("the drafts", func(m *Model) bool { return m.cur.name == "Drafts" && m.cur.loaded == 1 })
	h.press("enter")
	screen = h.waitFor("the draft", func(m *Model) bool { return m.msg != nil && m.msg.o != nil && m.msg.folder == "Drafts" })
	if !strings.Contains(flat(screen), "Encrypted (OpenPGP") || !strings.Contains(screen, "> lunch on Friday at noon?") {
		t.Errorf("the draft:\n%s", screen)
	}
	h.press("e")
	screen = h.waitFor("the draft in compose", func(m *Model) bool { return m.page == pageCompose && m.compose != nil && m.compose.requireEnc })
	if !strings.Contains(screen, "Re: Lunch on Friday?") || !strings.Contains(screen, "alice@example.test") {
		t.Errorf("the draft in compose:\n%s", screen)
	}
	h.press("ctrl+x")
	h.waitFor("sent from the draft", func(m *Model) bool { return m.page == pageMessage && strings.HasPrefix(m.infoText, "sent encrypted") })
	m := h.quit()

	if n := len(folderMessages(t, d.Mailbox, "Drafts")); n != 0 {
		t.Errorf("%d drafts left after sending", n)
	}
	out := folderMessages(t, d.Mailbox, "Outbox")
	if len(out) != 2 {
		t.Fatalf("%d messages in the outbox", len(out))
	}
	for _, msg := range out {
		raw := string(msg)
		if !strings.Contains(raw, "multipart/encrypted") || strings.Contains(raw, "lunch on Friday") || strings.Contains(raw, "usual place") || strings.Contains(raw, "Friday works") {
			t.Errorf("the outbox holds the decrypted text in the clear:\n%.800s", raw)
		}
		if !strings.Contains(raw, "Subject: ...") {
			t.Error("the subject is not protected")
		}
	}
	f := m.lists["INBOX"]
	if r := f.rows[f.index[replied]]; !r.flags.Has(mailbox.Answered) {
		t.Error("the original is not marked answered")
	}
	answered := false
	for msg := range d.Mailbox.List("INBOX", &mailbox.ListOptions{SkipHeaders: true}) {
		answered = answered || msg.Flags.Has(mailbox.Answered)
	}
	if !answered {
		t.Error("the answered flag is not stored")
	}
}

// TestComposeEditorAndForward edits the body in $EDITOR and forwards an
// encrypted message: the forward must be encrypted too (S26).
func TestComposeEditorAndForward(t *testing.T) {
	d := newDemo(t)
	cfg := demoConfig(t, d)
	editor := filepath.Join(t.TempDir(), "editor")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nprintf 'written in the editor\\n' > \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.Editor = editor
	h := start(t, cfg, 110, 30)
	openRow(h, "The new door codes")
	h.press("f")
	screen := h.waitFor("the forward", func(m *Model) bool { return m.page == pageCompose })
	if !strings.Contains(screen, "Fwd: The new door codes") || !strings.Contains(screen, "must stay encrypted (S26)") || !strings.Contains(screen, "scheme: S/MIME") {
		t.Errorf("the forward:\n%s", screen)
	}
	h.press("ctrl+o")
	screen = h.waitFor("the edited body", func(m *Model) bool {
		return m.compose != nil && strings.Contains(m.compose.body.Value(), "written in the editor")
	})
	if !strings.Contains(screen, "written in the editor") {
		t.Errorf("the body after the editor:\n%s", screen)
	}
	h.quit()
}
