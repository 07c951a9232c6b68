package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// theme holds the glyphs and styles of one run: Unicode or ASCII.
type theme struct {
	ascii bool

	// Badges of the message list; each fills exactly its column.
	encOK, encBad, encUnknown, encNone                  string // 2 cells
	sigValid, sigBad, sigNotSender, sigUnchecked, sigNo string // 1 cell
	dmarcPass, dmarcFail, dmarcNone, dmarcUnknown       string // 1 cell
	cursor, ellipsis, rule                              string

	good, bad, warn, dim, bold, key lipgloss.Style
	bodyGutter                      string
	border                          lipgloss.Border
}

func newTheme(ascii bool) *theme {
	t := &theme{ascii: ascii}
	if ascii {
		t.encOK, t.encBad, t.encUnknown, t.encNone = "E ", "E!", "e ", "  "
		t.sigValid, t.sigBad, t.sigNotSender, t.sigUnchecked, t.sigNo = "+", "x", "!", "?", " "
		t.dmarcPass, t.dmarcFail, t.dmarcNone, t.dmarcUnknown = "+", "x", "-", " "
		t.cursor, t.ellipsis, t.rule = ">", "~", "-"
		t.bodyGutter = "| "
		t.border = lipgloss.ASCIIBorder()
	} else {
		t.encOK, t.encBad, t.encUnknown, t.encNone = "🔒", "⚠ ", "🔒", "  "
		t.sigValid, t.sigBad, t.sigNotSender, t.sigUnchecked, t.sigNo = "✓", "✗", "≠", "?", " "
		t.dmarcPass, t.dmarcFail, t.dmarcNone, t.dmarcUnknown = "✓", "✗", "·", " "
		t.cursor, t.ellipsis, t.rule = "▶", "…", "─"
		t.bodyGutter = "│ "
		t.border = lipgloss.RoundedBorder()
	}
	t.good = lipgloss.NewStyle().Foreground(lipgloss.Color("2")).Bold(true)
	t.bad = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	t.warn = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	t.dim = lipgloss.NewStyle().Faint(true)
	t.bold = lipgloss.NewStyle().Bold(true)
	t.key = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	return t
}

// fit cuts s to width cells (adding an ellipsis when cut) and pads it
// with spaces to exactly width. s must hold no control characters.
func (t *theme) fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w > width {
		s = ansi.Truncate(s, width, t.ellipsis)
		w = ansi.StringWidth(s)
	}
	if w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// clip cuts s to at most width cells.
func (t *theme) clip(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > width {
		return ansi.Truncate(s, width, t.ellipsis)
	}
	return s
}

// Raw SGR sequences for the hot path (the message list), where a
// lipgloss render per row would cost more than the whole frame budget.
const (
	sgrReverse = "\x1b[7m"
	sgrBold    = "\x1b[1m"
	sgrFaint   = "\x1b[2m"
	sgrRed     = "\x1b[31m"
	sgrGreen   = "\x1b[32m"
	sgrYellow  = "\x1b[33m"
	sgrReset   = "\x1b[0m"
)

// expandTabs replaces tabs by spaces up to the next multiple of eight
// cells, so that a body line's width is what the renderer will draw.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col += ansi.StringWidth(string(r))
	}
	return b.String()
}
