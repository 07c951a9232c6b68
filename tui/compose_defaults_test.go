package tui

import (
	"strings"
	"testing"

	"github.com/securemail/securemail/tui/demo"
)

// TestComposeAccountDefaults applies an account's signing and
// encryption defaults to new messages: "always" keeps encryption on and
// refuses to send to a recipient without a key; "when-possible" follows
// the recipients' keys until the user chooses; "never" and sign = false
// start plain.
func TestComposeAccountDefaults(t *testing.T) {
	compose := func(t *testing.T, encrypt string, noSign bool, to ...string) (*harness, *demo.Demo, string) {
		t.Helper()
		d := newDemo(t)
		cfg := demoConfig(t, d)
		cfg.Encrypt, cfg.NoSign = encrypt, noSign
		h := start(t, cfg, 120, 30)
		h.waitFor("the list", func(m *Model) bool { return m.cur.scanned })
		h.press("m")
		h.typeText(strings.Join(to, ", "))
		screen := h.waitFor("the key status", statusesKnown(to...))
		return h, d, screen
	}
	encrypting := func(on bool) func(*Model) bool {
		return func(m *Model) bool { return m.compose != nil && m.compose.encrypt == on }
	}

	t.Run("always", func(t *testing.T) {
		h, d, screen := compose(t, "always", false, "nobody@example.test")
		if !strings.Contains(screen, "[x] sign") || !strings.Contains(screen, "[x] encrypt") || !strings.Contains(screen, "this account always encrypts") {
			t.Errorf("the compose page:\n%s", screen)
		}
		h.press("ctrl+e")
		screen = h.waitFor("the refusal to turn encryption off", func(m *Model) bool { return m.errText != "" })
		if !strings.Contains(flat(screen), "this account always encrypts") {
			t.Errorf("turning encryption off:\n%s", screen)
		}
		h.waitFor("encryption still on", encrypting(true))
		h.press("ctrl+x")
		screen = h.waitFor("the refusal to send", func(m *Model) bool { return strings.HasPrefix(m.errText, "cannot send") })
		if !strings.Contains(screen, "cannot send encrypted: no usable key for nobody@example.test") {
			t.Errorf("sending without a key:\n%s", screen)
		}
		m := h.quit()
		if m.page != pageCompose || len(folderMessages(t, d.Mailbox, "Outbox")) != 0 {
			t.Error("a message was sent without a key for its recipient")
		}
	})

	t.Run("when-possible", func(t *testing.T) {
		h, d, _ := compose(t, "when-possible", false, demo.AliceAddress)
		screen := h.waitFor("encryption on", encrypting(true))
		if !strings.Contains(screen, "[x] encrypt") {
			t.Errorf("with Alice's key:\n%s", screen)
		}
		h.typeText(", nobody@example.test")
		h.waitFor("nobody's key status", statusesKnown(demo.AliceAddress, "nobody@example.test"))
		screen = h.waitFor("encryption off", encrypting(false))
		if !strings.Contains(screen, "[ ] encrypt") {
			t.Errorf("with a recipient without a key:\n%s", screen)
		}
		// Back to Alice alone: on again.
		for range len(", nobody@example.test") {
			h.press("backspace")
		}
		h.waitFor("encryption on again", func(m *Model) bool {
			return encrypting(true)(m) && len(m.compose.recipients()) == 1
		})
		// The user's choice stands.
		h.press("ctrl+e")
		h.waitFor("encryption off by choice", encrypting(false))
		h.press("ctrl+e")
		h.waitFor("encryption on by choice", encrypting(true))
		h.press("tab", "tab", "tab")
		h.typeText("Plans")
		h.press("tab")
		h.typeText("The secret plans are ready.")
		h.press("ctrl+x")
		screen = h.waitFor("sent", func(m *Model) bool { return strings.HasPrefix(m.infoText, "sent") })
		if !strings.Contains(screen, "sent encrypted and signed: saved to Outbox") {
			t.Errorf("the message line:\n%s", screen)
		}
		h.quit()
		out := folderMessages(t, d.Mailbox, "Outbox")
		if len(out) != 1 || strings.Contains(string(out[0]), "secret plans") {
			t.Errorf("%d messages in the Outbox, or not encrypted", len(out))
		}
	})

	t.Run("never-unsigned", func(t *testing.T) {
		h, d, screen := compose(t, "never", true, demo.AliceAddress)
		if !strings.Contains(screen, "[ ] sign") || !strings.Contains(screen, "[ ] encrypt") {
			t.Errorf("the compose page:\n%s", screen)
		}
		h.press("tab", "tab", "tab")
		h.typeText("Hello")
		h.press("tab")
		h.typeText("Just saying hello.")
		h.press("ctrl+x")
		screen = h.waitFor("sent", func(m *Model) bool { return strings.HasPrefix(m.infoText, "sent") })
		if !strings.Contains(screen, "sent plain: saved to Outbox") {
			t.Errorf("the message line:\n%s", screen)
		}
		h.quit()
		out := folderMessages(t, d.Mailbox, "Outbox")
		if len(out) != 1 || !strings.Contains(string(out[0]), "Just saying hello.") {
			t.Errorf("%d messages in the Outbox, or not plain", len(out))
		}
	})
}
