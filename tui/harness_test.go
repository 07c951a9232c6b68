package tui

import (
	"bytes"
	"flag"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/tui/demo"
)

// updating reports whether -update was given: the flag teatest's golden
// package defines, which rewrites the golden files in testdata/.
func updating() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	on, _ := g.Get().(bool)
	return on
}

// The demo's messages are dated relative to messageTime and the TUI's
// clock is fixed an hour later, so that the screens are the same on
// every run.
var (
	messageTime = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	screenTime  = messageTime.Add(time.Hour)
)

// newDemo builds a demo home for one test.
func newDemo(t *testing.T) *demo.Demo {
	t.Helper()
	d, err := demo.Open(t.TempDir(), &demo.Options{MessageTime: messageTime})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// demoConfig is the TUI's configuration for a demo home, as `securemail
// demo` makes it, with the clock fixed.
func demoConfig(t *testing.T, d *demo.Demo) Config {
	return Config{
		Mailbox: d.Mailbox, Store: d.Store, Directory: d.Directory, Auth: d.Auth, Me: d.Me,
		Title: "demo", CheckAuthInList: true, AttachmentDir: t.TempDir(),
		Now: func() time.Time { return screenTime },
	}
}

// newMaildirConfig is a configuration over a fresh Maildir holding msgs
// in INBOX and an empty keystore.
func newMaildirConfig(t *testing.T, msgs ...string) Config {
	t.Helper()
	dir := t.TempDir()
	md, err := mailbox.OpenMaildir(filepath.Join(dir, "Maildir"), &mailbox.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { md.Close() })
	for _, m := range msgs {
		if _, err := md.Deliver("INBOX", strings.NewReader(strings.ReplaceAll(m, "\n", "\r\n")), 0); err != nil {
			t.Fatal(err)
		}
	}
	st, err := keystore.Open(filepath.Join(dir, "keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return Config{Mailbox: md, Store: st, Me: &mail.Address{Address: "me@example.org"},
		Now: func() time.Time { return screenTime }, AttachmentDir: t.TempDir()}
}

// harness runs a Model in teatest and watches it from the program's
// own goroutine (a tea filter), so that tests can wait for a state of
// the model without racing with Update.
type harness struct {
	t     *testing.T
	tm    *teatest.TestModel
	probe *probe
}

type probe struct {
	mu    sync.Mutex
	waits []*waiter
}

type waiter struct {
	cond func(*Model) bool
	done chan string // the screen, ANSI stripped, when cond held
}

// pingMsg makes the program run its filter; the model ignores it.
type pingMsg struct{}

func (p *probe) filter(m tea.Model, msg tea.Msg) tea.Msg {
	mm, ok := m.(*Model)
	if !ok {
		return msg
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.waits[:0]
	for _, w := range p.waits {
		if w.cond(mm) {
			w.done <- ansi.Strip(mm.render())
			continue
		}
		kept = append(kept, w)
	}
	p.waits = kept
	return msg
}

// start runs the model in a terminal of width x height.
func start(t *testing.T, cfg Config, width, height int) *harness {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &probe{}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height),
		teatest.WithProgramOptions(tea.WithFilter(p.filter)))
	h := &harness{t: t, tm: tm, probe: p}
	t.Cleanup(func() { _ = tm.Quit() })
	return h
}

// waitFor waits until cond holds of the model and returns the screen
// then, ANSI stripped.
func (h *harness) waitFor(what string, cond func(*Model) bool) string {
	h.t.Helper()
	w := &waiter{cond: cond, done: make(chan string, 1)}
	h.probe.mu.Lock()
	h.probe.waits = append(h.probe.waits, w)
	h.probe.mu.Unlock()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case s := <-w.done:
			return s
		case <-tick.C:
			h.tm.Send(pingMsg{})
		case <-deadline:
			screen := h.screen()
			h.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, screen)
		}
	}
}

// screen is the current screen, ANSI stripped.
func (h *harness) screen() string {
	w := &waiter{cond: func(*Model) bool { return true }, done: make(chan string, 1)}
	h.probe.mu.Lock()
	h.probe.waits = append(h.probe.waits, w)
	h.probe.mu.Unlock()
	for range 500 {
		h.tm.Send(pingMsg{})
		select {
		case s := <-w.done:
			return s
		case <-time.After(10 * time.Millisecond):
		}
	}
	return "(no screen)"
}

// press sends key presses by name: "enter", "esc", "ctrl+x", "G", "/".
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.tm.Send(keyPress(k))
	}
}

// typeText types text.
func (h *harness) typeText(s string) { h.tm.Type(s) }

func keyPress(name string) tea.KeyPressMsg {
	special := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "backspace": tea.KeyBackspace, "space": tea.KeySpace,
	}
	switch {
	case strings.HasPrefix(name, "ctrl+"):
		return tea.KeyPressMsg{Code: rune(name[5]), Mod: tea.ModCtrl}
	case name == "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case special[name] != 0:
		k := tea.KeyPressMsg{Code: special[name]}
		if name == "space" {
			k.Text = " "
		}
		return k
	}
	r := []rune(name)[0]
	return tea.KeyPressMsg{Code: r, Text: string(r)}
}

// quit ends the program and returns the final model.
func (h *harness) quit() *Model {
	h.t.Helper()
	if err := h.tm.Quit(); err != nil {
		h.t.Fatal(err)
	}
	return h.tm.FinalModel(h.t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

// scrub replaces what changes from run to run (fingerprints, key dates)
// with placeholders of the same width, so that goldens stay stable.
var (
	fprRE  = regexp.MustCompile(`[0-9A-F]{16,64}…?`)
	dateRE = regexp.MustCompile(`20\d\d-\d\d-\d\d`)
)

func scrub(s string) string {
	s = fprRE.ReplaceAllStringFunc(s, func(m string) string {
		n := len([]rune(m))
		return strings.Repeat("F", n)
	})
	return dateRE.ReplaceAllString(s, "YYYY-MM-DD")
}

// golden compares a screen with testdata/name.golden (-update rewrites it).
func golden(t *testing.T, name, screen string) {
	t.Helper()
	screen = scrub(screen)
	// Trailing spaces are the renderer's business, not the screen's.
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	got := []byte(strings.Join(lines, "\n") + "\n")
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the screen differs from %s (-update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// allChecked reports whether every row of the current folder has its
// header fields and its verdict.
func allChecked(n int) func(*Model) bool {
	return func(m *Model) bool {
		f := m.cur
		if f == nil || !f.scanned || len(f.rows) != n || f.checking {
			return false
		}
		for i := range f.rows {
			if !f.rows[i].loaded || !f.rows[i].checked {
				return false
			}
		}
		return len(m.busy) == 0
	}
}

// rowIndex is the position in the list of the row whose subject starts
// with prefix, or -1.
func rowIndex(m *Model, prefix string) int {
	f := m.cur
	for p, i := range f.order {
		if strings.HasPrefix(f.rows[i].subject, prefix) {
			return p
		}
	}
	return -1
}
