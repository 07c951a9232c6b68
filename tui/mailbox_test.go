package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/securemail/securemail/tui/demo"
)

// TestMailboxPage lists the demo INBOX: the rows on screen are read
// lazily, then every row is checked in the background and gets its
// badges: encryption, the signature verdict, the DMARC verdict.
func TestMailboxPage(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 110, 20)
	screen := h.waitFor("every row checked", allChecked(len(demo.Messages)))
	golden(t, "mailbox", screen)
	m := h.quit()

	f := m.cur
	if f.name != "INBOX" || len(f.order) != len(demo.Messages) {
		t.Fatalf("folder %s with %d rows", f.name, len(f.order))
	}
	for _, c := range []struct {
		subject string
		want    badges
	}{
		{"Lunch on Friday?", badges{encOK, sigValid, dmarcPass}},
		{"The new door codes", badges{encOK, sigValid, dmarcPass}},
		{"Signed minutes", badges{encNone, sigValid, dmarcPass}},
		{"Quarterly figures", badges{encNone, sigNotSender, dmarcPass}},
		{"Demo News", badges{encNone, sigNone, dmarcPass}},
		{"Urgent: confirm", badges{encNone, sigNone, dmarcFail}},
		{"Welcome", badges{encNone, sigNone, dmarcPass}},
	} {
		p := rowIndex(m, c.subject)
		if p < 0 {
			t.Errorf("no row %q", c.subject)
			continue
		}
		if got := f.rows[f.order[p]].badge; got != c.want {
			t.Errorf("%q: badges %+v, want %+v", c.subject, got, c.want)
		}
	}
	// The protected subjects of encrypted mail replace the "..." outside.
	if !strings.Contains(screen, "Lunch on Friday?") || !strings.Contains(screen, "The new door codes") {
		t.Errorf("protected subjects are not shown:\n%s", screen)
	}
}

// TestMailboxASCII draws the same list with ASCII badges and frames.
func TestMailboxASCII(t *testing.T) {
	d := newDemo(t)
	cfg := demoConfig(t, d)
	cfg.ASCII = true
	h := start(t, cfg, 110, 20)
	screen := h.waitFor("every row checked", allChecked(len(demo.Messages)))
	golden(t, "mailbox_ascii", screen)
	for _, l := range strings.Split(screen, "\n") {
		for _, r := range l {
			if r > 0x7e {
				t.Fatalf("a character outside ASCII (%q) in %q", r, l)
			}
		}
	}
	h.quit()
}

// TestMailboxSortAndFilter sorts by sender and filters on "demo bank".
func TestMailboxSortAndFilter(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 110, 20)
	h.waitFor("every row checked", allChecked(len(demo.Messages)))
	h.press("s", "s") // date, then from
	screen := h.waitFor("sorted by from", func(m *Model) bool { return m.cur.sort == sortFrom })
	golden(t, "mailbox_sorted_from", screen)
	h.press("/")
	h.typeText("demo bank")
	h.press("enter")
	screen = h.waitFor("the filter applied", func(m *Model) bool { return !m.filtering && m.cur.filter == "demo bank" })
	golden(t, "mailbox_filter", screen)
	m := h.quit()
	if len(m.cur.order) != 1 || !strings.HasPrefix(m.cur.rows[m.cur.order[0]].subject, "Urgent") {
		t.Errorf("the filter kept %d rows", len(m.cur.order))
	}
	// Sorting keeps every row.
	if len(m.cur.rows) != len(demo.Messages) {
		t.Errorf("%d rows", len(m.cur.rows))
	}
}

// TestMailboxNavigation moves with keys and the mouse wheel, switches
// folders, and survives resizing to a tiny terminal.
func TestMailboxNavigation(t *testing.T) {
	d := newDemo(t)
	h := start(t, demoConfig(t, d), 100, 12)
	// Only the rows on screen are read and checked.
	screen := h.waitFor("the rows on screen", func(m *Model) bool {
		r := m.cur.nextToCheck(m.listHeight())
		return m.cur.scanned && r == nil && !m.cur.checking && m.cur.loaded >= m.listHeight()
	})
	if !strings.Contains(screen, "Welcome") {
		t.Errorf("the screen:\n%s", screen)
	}
	h.press("j", "j", "G")
	h.waitFor("the last row", func(m *Model) bool { return m.cur.cur == len(demo.Messages)-1 })
	h.tm.Send(tea.MouseWheelMsg{Button: tea.MouseWheelUp})
	h.waitFor("scrolled up by the wheel", func(m *Model) bool { return m.cur.cur == len(demo.Messages)-4 })
	h.press("g")
	h.tm.Send(tea.WindowSizeMsg{Width: 30, Height: 8})
	screen = h.waitFor("resized", func(m *Model) bool { return m.width == 30 && m.height == 8 })
	lines := strings.Split(screen, "\n")
	if len(lines) != 8 {
		t.Errorf("%d lines on an 8-line terminal", len(lines))
	}
	for _, l := range lines {
		if w := len([]rune(l)); w > 30+4 { // wide characters aside
			t.Errorf("a line wider than the terminal: %q", l)
		}
	}
	h.tm.Send(tea.WindowSizeMsg{Width: 100, Height: 12})
	h.press("tab", "j", "enter") // the folders: INBOX, Drafts
	screen = h.waitFor("the Drafts folder", func(m *Model) bool { return m.cur.name == "Drafts" && m.cur.scanned })
	if !strings.Contains(screen, "(no messages)") {
		t.Errorf("the empty Drafts folder:\n%s", screen)
	}
	h.quit()
}
