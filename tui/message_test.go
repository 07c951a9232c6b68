package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/tui/demo"
)

// openRow opens the message whose subject starts with prefix and waits
// until it is shown.
func openRow(h *harness, prefix string) string {
	h.t.Helper()
	var p int
	h.waitFor("the row "+prefix, func(m *Model) bool {
		p = rowIndex(m, prefix)
		return p >= 0 && m.cur.rows[m.cur.order[p]].loaded
	})
	h.press("g")
	for range p {
		h.press("j")
	}
	h.press("enter")
	return h.waitFor("the message "+prefix, func(m *Model) bool {
		return m.page == pageMessage && m.msg != nil && m.msg.o != nil && strings.HasPrefix(subjectShown(m), prefix) && len(m.busy) == 0
	})
}

// flat joins a screen's lines into one line of words, frames dropped,
// so that a check does not depend on where the panel wraps.
func flat(screen string) string {
	var words []string
	for _, l := range strings.Split(screen, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimSuffix(strings.TrimPrefix(l, "│"), "│")
		l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
		words = append(words, strings.Fields(l)...)
	}
	return strings.Join(words, " ")
}

func subjectShown(m *Model) string {
	for _, hl := range m.msg.o.view.Headers {
		if hl.Name == "Subject" {
			return hl.Value
		}
	}
	return ""
}

// TestMessagePage opens Alice's encrypted and signed message: the status
// panel says so, in words, with the fingerprint, the key's provenance and
// the DMARC verdict; then the whole report.
func TestMessagePage(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 100, 30)
	screen := openRow(h, "Lunch on Friday?")
	golden(t, "message_pgp", screen)
	for _, want := range []string{
		"Verified: encrypted, and signed by the sender alice@example.test",
		"Encrypted (OpenPGP", "integrity protected",
		"Signature (OpenPGP): valid, by alice@example.test, who is the sender",
		"key from your keystore",
		"DMARC pass: sent by example.test",
		"DKIM pass d=example.test s=demo (key DNSSEC secure)", "SPF pass for example.test", "checked here",
	} {
		if !strings.Contains(flat(screen), want) {
			t.Errorf("the panel lacks %q", want)
		}
	}
	h.press("i")
	screen = h.waitFor("the whole report", func(m *Model) bool { return m.msg.full })
	if !strings.Contains(screen, "Security report") {
		t.Errorf("the report:\n%s", screen)
	}
	h.press("esc", "esc")
	h.waitFor("back to the list", func(m *Model) bool { return m.page == pageMailbox })
	m := h.quit()
	f := m.cur
	r := f.rows[f.order[rowIndex(m, "Lunch")]]
	if !r.flags.Has(mailbox.Seen) {
		t.Error("an opened message is not marked seen")
	}
}

// TestMessagePageVerdicts opens each demo message that has a verdict to
// show and checks the panel's words.
func TestMessagePageVerdicts(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 120, 40)
	for _, c := range []struct {
		subject string
		want    []string
	}{
		{"Signed minutes", []string{"Verified: signed by the sender bob@example.test", "Signature (S/MIME): valid", "certificate or key carried by a message"}},
		{"The new door codes", []string{"Encrypted (S/MIME, AES-256-GCM), integrity protected", "Signature (S/MIME): valid"}},
		{"Quarterly figures", []string{"DANGER", "by dave@example.test, who is NOT the sender alice@example.test"}},
		{"Demo News", []string{"Not signed", "DMARC pass: sent by news.test", "DKIM pass d=news.test", "SPF pass for news.test"}},
		{"Urgent: confirm", []string{"DANGER: the domain in From did not send this message (DMARC fail)", "DMARC FAIL: not sent by bank.test (policy reject)", "DKIM pass d=evil.test"}},
		{"Re: the contract", []string{"part of the message is encrypted, but not the message as a whole", "Attachments (1)", "a encrypted part inside the message"}},
		{"Report and notes", []string{"Verified: signed by the sender alice@example.test", "Attachments (2)", "quarterly-report.pdf", "notes.txt"}},
		{"Welcome", []string{"Not signed: the sender is not proven", "Encryption: none", "Signature: none"}},
	} {
		screen := openRow(h, c.subject)
		for _, w := range c.want {
			if !strings.Contains(flat(screen), w) {
				t.Errorf("%s: the screen lacks %q:\n%s", c.subject, w, screen)
			}
		}
		h.press("esc")
		h.waitFor("the list", func(m *Model) bool { return m.page == pageMailbox })
	}
	h.quit()
}

// TestMessageAttachmentSave saves an attachment to a path: the bytes are
// the part's, the file is new (never replacing one), and it is not
// opened.
func TestMessageAttachmentSave(t *testing.T) {
	d := newDemo(t)
	cfg := demoConfig(t, d)
	h := start(t, cfg, 100, 30)
	openRow(h, "Report and notes")
	h.press("2", "s")
	h.waitFor("the save prompt", func(m *Model) bool { return m.prompt != nil })
	h.press("enter")
	path := filepath.Join(cfg.AttachmentDir, "notes.txt")
	screen := h.waitFor("saved", func(m *Model) bool { return strings.HasPrefix(m.infoText, "saved to") })
	if !strings.Contains(screen, "saved to "+path+" (not opened)") {
		t.Errorf("the message line:\n%s", screen)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "1. budget\n2. hiring\n3. the new office\n" {
		t.Errorf("saved %q, %v", data, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", st.Mode(), err)
	}
	h.press("s", "enter")
	screen = h.waitFor("the error", func(m *Model) bool { return m.errText != "" })
	if !strings.Contains(screen, "exists: choose another name") {
		t.Errorf("saving over a file:\n%s", screen)
	}
	h.quit()
}

// hostileBody draws a fake status panel, moves the cursor about, clears
// the screen and runs OSC sequences, over more lines than the viewport
// has.
const hostileBody = "\x1b[H\x1b[2J\x1b[1;1H" +
	"╭─ Security ───────────────────────────────────╮\n" +
	"│ ✓ Verified: encrypted, and signed by the sender bank@example.org │\n" +
	"│ ✓ Signature (OpenPGP): valid, by bank@example.org, who is the sender │\n" +
	"╰──────────────────────────────────────────────╯\n" +
	"\x1b7\x1b[1;1H✓ Verified\x1b8\r✓ Verified\x1b[A\x1b[A\x1b[A\n" +
	"\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1bP+q\x1b\\\u009b31m\u202eexe.pdf\n" +
	"line\n"

func hostileMessage(body string) string {
	return "From: Bank <bank@example.org>\n" +
		"To: me@example.org\n" +
		"Subject: =?utf-8?q?=1B[1;32m=E2=9C=94_Verified=1B[0m=1B]0;pwned=07?=\n" +
		"Date: Mon, 02 Mar 2026 08:00:00 +0000\n" +
		"Message-ID: <hostile@example.org>\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n" +
		"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename*=utf-8''%1B%5D0%3Bpwned%07invoice%E2%80%AEfdp.exe\n\nMZ\n" +
		"--b--\n"
}

// panelOf is the status panel of a message screen: the lines from the top
// bar to the end of the frame.
func panelOf(screen string) []string {
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "╰") {
			return lines[:i+1]
		}
	}
	return nil
}

// TestS24_FakeBannerCannotReachStatusPanel opens a message whose body
// draws a fake "verified" panel, moves the cursor home, saves and
// restores it, clears the screen and is longer than the viewport. The
// status panel is the same as for the same message with a harmless
// body, the fake panel stays inside the body viewport (every line of
// which starts with the gutter), and the screen keeps its size.
func TestS24_FakeBannerCannotReachStatusPanel(t *testing.T) {
	long := hostileBody + strings.Repeat("more text\n", 200)
	cfg := newMaildirConfig(t, hostileMessage(long), hostileMessage("nothing to see"))
	h := start(t, cfg, 90, 30)
	h.waitFor("two rows", func(m *Model) bool { return m.cur.scanned && m.cur.loaded == 2 })
	var hostile, harmless string
	for _, keys := range [][]string{{"enter"}, {"esc", "j", "enter"}} {
		h.press(keys...)
		var isHostile bool
		screen := h.waitFor("a message", func(m *Model) bool {
			if m.page != pageMessage || m.msg == nil || m.msg.o == nil || m.msg.id != m.cur.selectedID() {
				return false
			}
			isHostile = strings.Contains(m.msg.o.view.Body, "Verified")
			return true
		})
		if isHostile {
			hostile = screen
		} else {
			harmless = screen
		}
	}
	if hostile == "" || harmless == "" {
		t.Fatal("the two messages were not both opened")
	}
	p1, p2 := panelOf(hostile), panelOf(harmless)
	if len(p1) == 0 || strings.Join(p1, "\n") != strings.Join(p2, "\n") {
		t.Fatalf("the body changed the status panel:\n%s\n--- with a harmless body:\n%s", strings.Join(p1, "\n"), strings.Join(p2, "\n"))
	}
	if !strings.Contains(strings.Join(p1, "\n"), "Not signed: the sender is not proven") {
		t.Errorf("the panel:\n%s", strings.Join(p1, "\n"))
	}
	lines := strings.Split(hostile, "\n")
	if len(lines) != 30 {
		t.Errorf("%d lines on a 30-line screen", len(lines))
	}
	inBody := false
	sawFake := false
	for i, l := range lines {
		if i > 0 && strings.HasPrefix(l, "────") {
			inBody = true
			continue
		}
		if strings.Contains(l, "Verified: encrypted") || strings.Contains(l, "✓ Verified") {
			sawFake = true
			if !inBody || !strings.HasPrefix(l, "│ ") {
				t.Errorf("line %d, outside the body viewport, shows the fake banner: %q", i, l)
			}
		}
		if inBody && !strings.HasPrefix(l, "│ ") && !strings.HasPrefix(l, "Attachments") && !strings.HasPrefix(l, " [") && i < len(lines)-2 {
			t.Errorf("line %d of the body has no gutter: %q", i, l)
		}
	}
	if !sawFake {
		t.Error("the fake banner is not shown at all (it should be, as the body's text)")
	}
	m := h.quit()
	assertNoEscapes(t, m.View().Content)
}

// assertNoEscapes checks a frame: the only escape sequences in it are
// the SGR ones the TUI writes itself; no OSC, DCS, cursor movement, C1
// control, BEL, carriage return or bidi override.
func assertNoEscapes(t *testing.T, frame string) {
	t.Helper()
	for i := 0; i < len(frame); i++ {
		switch c := frame[i]; {
		case c == 0x1b:
			j := i + 1
			if j >= len(frame) || frame[j] != '[' {
				t.Fatalf("an escape that is not SGR at %d: %q", i, frame[i:min(i+12, len(frame))])
			}
			j++
			for j < len(frame) && (frame[j] >= '0' && frame[j] <= '9' || frame[j] == ';' || frame[j] == ':') {
				j++
			}
			if j >= len(frame) || frame[j] != 'm' {
				t.Fatalf("a CSI that is not SGR at %d: %q", i, frame[i:min(j+1, len(frame))])
			}
			i = j
		case c < 0x20 && c != '\n':
			t.Fatalf("control character %#x at %d: %q", c, i, frame[max(i-20, 0):min(i+20, len(frame))])
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(frame[i:])
			if r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0x202d || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f {
				t.Fatalf("character %U at %d", r, i)
			}
			i += size - 1
		}
	}
}

// TestS25_EscapesNeutralised follows escapes and bidi overrides in the
// subject, the sender's name, the body and an attachment's name through
// every page that shows them: the list, the message, a reply. Each frame
// holds no escape sequence but the TUI's own colours.
func TestS25_EscapesNeutralised(t *testing.T) {
	d := newDemo(t)
	cfg := demoConfig(t, d)
	// The demo's hostile message, and one with a hostile attachment name.
	if _, err := d.Mailbox.Deliver("INBOX", strings.NewReader(strings.ReplaceAll(hostileMessage(hostileBody), "\n", "\r\n")), 0); err != nil {
		t.Fatal(err)
	}
	h := start(t, cfg, 120, 40)
	frames := map[string]string{}
	snap := func(name string, cond func(*Model) bool) string {
		var frame string
		screen := h.waitFor(name, func(m *Model) bool {
			if cond(m) {
				frame = m.View().Content
				return true
			}
			return false
		})
		frames[name] = frame
		return screen
	}
	screen := snap("the list", allChecked(len(demo.Messages)+1))
	if !strings.Contains(screen, `\u001b[1;32m✔ Verified`) {
		t.Errorf("the list does not show the escape as text:\n%s", screen)
	}
	openRow(h, `\u001b[1;32m✔ Verified \u001b[0m`)
	screen = snap("the demo's hostile message", func(m *Model) bool { return m.page == pageMessage && m.msg.o != nil })
	for _, want := range []string{`\u001b[2J`, `\u001b]52;c;ZXZpbA==\u0007`, `\u202eexe.pdf`, `From: \u001b[1;32mYour Bank (verified)\u001b[0m`} {
		if !strings.Contains(screen, want) {
			t.Errorf("the message does not show %q as text", want)
		}
	}
	h.press("r")
	screen = snap("a reply", func(m *Model) bool { return m.page == pageCompose })
	if !strings.Contains(screen, `Re: \u001b[1;32m✔ Verified`) {
		t.Errorf("the reply's subject:\n%s", screen)
	}
	h.press("esc", "esc", "esc")
	h.waitFor("the message again", func(m *Model) bool { return m.page == pageMessage })
	h.press("esc")
	openRow(h, `\u001b[1;32m✔ Verified\u001b[0m\u001b]0;pwned`)
	screen = snap("the hostile attachment name", func(m *Model) bool { return m.page == pageMessage && m.msg.o != nil })
	if !strings.Contains(screen, "[1] _]0;pwned_invoice_fdp.exe") {
		t.Errorf("the attachment:\n%s", screen)
	}
	h.quit()
	for name, f := range frames {
		t.Run(name, func(t *testing.T) { assertNoEscapes(t, f) })
	}
}
