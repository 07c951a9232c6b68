package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxSession is the real securemail binary running in a tmux session
// of a fixed size, on a tmux server of its own.
type tmuxSession struct {
	t      *testing.T
	tmux   string
	socket string
	name   string
}

// needTmux finds tmux: a test that needs it fails in CI (CI=true, where
// .ci/run installs it) and is skipped elsewhere.
func needTmux(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tmux is required in CI: %v", err)
		}
		t.Skip("tmux not installed")
	}
	return p
}

// buildBinary builds the securemail command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "securemail")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (s *tmuxSession) run(args ...string) (string, error) {
	cmd := exec.Command(s.tmux, append([]string{"-S", s.socket}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startTmux starts command in a detached session width x height.
func startTmux(t *testing.T, width, height int, env []string, command string) *tmuxSession {
	t.Helper()
	s := &tmuxSession{t: t, tmux: needTmux(t), socket: filepath.Join(t.TempDir(), "tmux.sock"), name: "e2e"}
	cmd := exec.Command(s.tmux, "-S", s.socket, "-f", "/dev/null", "new-session", "-d", "-s", s.name,
		"-x", itoa(width), "-y", itoa(height), command)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { s.run("kill-server") })
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// screen is what the pane shows now.
func (s *tmuxSession) screen() string {
	out, err := s.run("capture-pane", "-p", "-t", s.name)
	if err != nil {
		return ""
	}
	return out
}

// flatScreen joins the pane's lines into words, frames dropped, so that
// checks do not depend on where the status panel wraps.
func flatScreen(screen string) string {
	var words []string
	for _, l := range strings.Split(screen, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimSuffix(strings.TrimPrefix(l, "│"), "│")
		words = append(words, strings.Fields(l)...)
	}
	return strings.Join(words, " ")
}

// waitFor waits until the pane shows every one of wants (in flatScreen's
// words) and returns it.
func (s *tmuxSession) waitFor(what string, wants ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = s.screen()
		flat := flatScreen(screen)
		ok := true
		for _, w := range wants {
			if !strings.Contains(flat, w) {
				ok = false
				break
			}
		}
		if ok {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("waiting for %s (%q): the screen is\n%s", what, wants, screen)
	return ""
}

// keys sends key names (tmux's: Enter, Escape, C-x, j).
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if out, err := s.run("send-keys", "-t", s.name, k); err != nil {
			s.t.Fatalf("send-keys %s: %v\n%s", k, err, out)
		}
		if k == "Escape" {
			// Alone, not the start of an Alt sequence.
			time.Sleep(150 * time.Millisecond)
		}
	}
}

// text types literal text.
func (s *tmuxSession) text(text string) {
	s.t.Helper()
	if out, err := s.run("send-keys", "-t", s.name, "-l", text); err != nil {
		s.t.Fatalf("send-keys: %v\n%s", err, out)
	}
}

// TestE2EDemoInTmux runs `securemail demo` in tmux as a person would:
// opens every demo message and reads the status panel's words on the
// screen, replies to Alice's encrypted message, sends the reply, quits,
// and finds the reply encrypted in the outbox.
func TestE2EDemoInTmux(t *testing.T) {
	needTmux(t)
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	home := filepath.Join(t.TempDir(), "demo")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8", "TERM=xterm-256color"}
	s := startTmux(t, 140, 45, env, bin+" demo --home "+home+" 2>"+filepath.Join(t.TempDir(), "stderr"))

	// The list: every row checked in the background, the protected
	// subjects of encrypted mail shown.
	s.waitFor("the demo's list", "Welcome to the securemail demo", "Lunch on Friday?", "The new door codes", "10 messages")

	messages := []struct {
		row   int // position in the list, newest first
		wants []string
	}{
		{0, []string{"Not signed: the sender is not proven", "Encryption: none", "DMARC pass: sent by example.test"}},
		{1, []string{"Verified: encrypted, and signed by the sender alice@example.test", "Encrypted (OpenPGP", "integrity protected", "key from your keystore", "Subject: Lunch on Friday?"}},
		{2, []string{"Verified: signed by the sender bob@example.test", "Signature (S/MIME): valid, by bob@example.test, who is the sender"}},
		{3, []string{"Encrypted (S/MIME, AES-256-GCM), integrity protected", "Signature (S/MIME): valid", "Subject: The new door codes"}},
		{4, []string{"DANGER: this message is not what it claims to be", "by dave@example.test, who is NOT the sender alice@example.test"}},
		{5, []string{"DMARC pass: sent by news.test, proven by aligned DKIM and SPF", "DKIM pass d=news.test s=demo (key DNSSEC secure)", "SPF pass for news.test"}},
		{6, []string{"DANGER: the domain in From did not send this message (DMARC fail)", "DMARC FAIL: not sent by bank.test (policy reject)"}},
		{7, []string{"part of the message is encrypted, but not the message as a whole", "Attachments (1)"}},
		{8, []string{"Not signed", `Subject: \u001b[1;32m✔ Verified \u001b[0m`, `\u001b[2J\u001b[H╭─ Security`}},
		{9, []string{"Verified: signed by the sender alice@example.test", "Attachments (2)", "quarterly-report.pdf"}},
	}
	for _, m := range messages {
		s.keys("g")
		for range m.row {
			s.keys("j")
		}
		s.keys("Enter")
		screen := s.waitFor("message "+itoa(m.row), append([]string{"Security", "r reply"}, m.wants...)...)
		// The status panel is the framed box on top: the body's fake
		// banner (message 8) is below the rule, behind the gutter.
		if m.row == 8 {
			panel := screen[:strings.Index(screen, "╰")]
			if strings.Contains(panel, "Verified: encrypted") {
				t.Errorf("the body's fake banner reached the status panel:\n%s", screen)
			}
		}
		s.keys("Escape")
		s.waitFor("the list", "enter open")
	}

	// Reply to Alice's encrypted message: encrypted, and it stays so.
	s.keys("g", "j", "Enter")
	s.waitFor("Alice's message", "Subject: Lunch on Friday?")
	s.keys("r")
	s.waitFor("the reply", "Re: Lunch on Friday?", "[x] encrypt", "must stay encrypted (S26)", "OpenPGP key in your keystore")
	s.text("Friday works for me.")
	s.keys("Enter", "C-e")
	s.waitFor("the refusal to go out in the clear", "stays encrypted (S26)")
	s.keys("C-x")
	s.waitFor("the reply sent", "sent encrypted and signed: saved to Outbox")
	s.keys("Escape")
	s.waitFor("the list", "enter open")
	s.keys("q")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.run("has-session", "-t", s.name); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("securemail did not quit; the screen:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}

	files, err := filepath.Glob(filepath.Join(home, "Maildir", ".Outbox", "cur", "*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("the outbox holds %d messages (%v)", len(files), err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	msg := string(raw)
	if !strings.Contains(msg, "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"") ||
		!strings.Contains(msg, "-----BEGIN PGP MESSAGE-----") || !strings.Contains(msg, "To: \"Alice Demo\" <alice@example.test>") {
		t.Errorf("the reply in the outbox is not PGP/MIME encrypted to Alice:\n%.800s", msg)
	}
	for _, plain := range []string{"Friday works", "usual place", "Lunch on Friday"} {
		if strings.Contains(msg, plain) {
			t.Errorf("the outbox message holds %q in the clear", plain)
		}
	}
}
