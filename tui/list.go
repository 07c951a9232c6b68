package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/securemail/securemail/mailbox"
)

// row is one message of the list. Until its header fields are read
// (loaded), it shows its arrival time alone.
type row struct {
	id      string
	arrival int64 // the delivery time its ID starts with (seconds)
	flags   mailbox.Flags
	isNew   bool
	loaded  bool
	date    time.Time
	from    string
	subject string
	search  string
	prot    protection
	badge   badges
	checked bool // the badges come from the pipeline's verdict
	pending bool // a check is under way
}

// badges are the verdict marks of a row.
type badges struct {
	enc   encState
	sig   sigState
	dmarc dmarcState
}

type (
	encState   uint8
	sigState   uint8
	dmarcState uint8
)

const (
	encNone encState = iota
	encUnknown
	encOK
	encBad
)

const (
	sigNone sigState = iota
	sigUnchecked
	sigValid
	sigBad
	sigNotSender
)

const (
	dmarcUnknown dmarcState = iota
	dmarcPass
	dmarcFail
	dmarcNone
)

// sortKey orders the list.
type sortKey uint8

const (
	sortArrival sortKey = iota
	sortDate
	sortFrom
	sortSubject
)

var sortNames = [...]string{"arrival", "date", "from", "subject"}

// folderList is the message list of one folder.
type folderList struct {
	name  string
	gen   uint64
	rows  []row            // in folder order (oldest first)
	index map[string]int32 // ID -> position in rows
	order []int32          // the rows shown, in display order
	cur   int              // cursor: position in order
	top   int              // first position shown

	scanned    bool
	loaded     int  // rows whose header fields are read
	streamDone bool // the background reader has finished
	streaming  bool // the background reader is running
	windowBusy bool // a read of the rows on screen is under way
	checking   bool // a background check is under way
	err        error

	sort   sortKey
	desc   bool
	filter string

	// shown is the filter order was last built for, at version: typing
	// more of a filter narrows order instead of scanning every row again,
	// unless rows changed since (version counts their changes).
	shown        string
	shownVersion int
	version      int

	// searchSnap is a copy of the rows' search keys at snapVersion,
	// shared read-only with the filter commands (never changed once
	// made).
	searchSnap  []string
	snapVersion int
}

func newFolderList(name string, gen uint64) *folderList {
	return &folderList{name: name, gen: gen, desc: true}
}

// setRows installs a fresh listing, keeping the cursor on the same
// message when it is still there.
func (f *folderList) setRows(rows []row) {
	keep := f.selectedID()
	f.rows = rows
	f.index = make(map[string]int32, len(rows))
	for i := range rows {
		f.index[rows[i].id] = int32(i)
	}
	f.scanned, f.loaded, f.streamDone = true, 0, false
	f.version++
	f.rebuild(keep)
}

// apply fills rows with the header fields read.
func (f *folderList) apply(hs []rowHeader) {
	f.version++
	for i := range hs {
		h := &hs[i]
		j, ok := f.index[h.id]
		if !ok {
			continue
		}
		r := &f.rows[j]
		if !r.loaded {
			f.loaded++
		}
		r.loaded, r.date, r.from, r.subject, r.search, r.prot = true, h.date, h.from, h.subject, h.search, h.prot
		if !r.checked {
			r.badge = hintBadges(h.prot)
		}
	}
}

func hintBadges(p protection) badges {
	switch p {
	case protEncrypted:
		return badges{enc: encUnknown}
	case protSigned:
		return badges{sig: sigUnchecked}
	}
	return badges{}
}

// selectedID is the ID under the cursor, or "".
func (f *folderList) selectedID() string {
	if f.cur >= 0 && f.cur < len(f.order) {
		return f.rows[f.order[f.cur]].id
	}
	return ""
}

func (f *folderList) selected() *row {
	if f.cur >= 0 && f.cur < len(f.order) {
		return &f.rows[f.order[f.cur]]
	}
	return nil
}

// rebuild recomputes the order (filter, then sort) and puts the cursor
// back on keep, or on the first row.
func (f *folderList) rebuild(keep string) {
	f.order = f.order[:0]
	needle := strings.ToLower(f.filter)
	for i := range f.rows {
		if needle == "" || strings.Contains(f.rows[i].search, needle) {
			f.order = append(f.order, int32(i))
		}
	}
	f.sortOrder()
	f.shown, f.shownVersion = needle, f.version
	f.place(keep)
}

// refilter applies a filter the user is typing: when it only got longer
// and no row changed, the rows shown are narrowed (already in order);
// otherwise the order is rebuilt.
func (f *folderList) refilter(keep string) {
	needle := strings.ToLower(f.filter)
	if f.shown == "" || !strings.HasPrefix(needle, f.shown) || f.shownVersion != f.version {
		f.rebuild(keep)
		return
	}
	f.order = slices.DeleteFunc(f.order, func(i int32) bool { return !strings.Contains(f.rows[i].search, needle) })
	f.shown = needle
	f.place(keep)
}

// filteredMsg is the result of filterCmd: the rows that match needle, in
// folder order, or in display order when narrowed from it.
type filteredMsg struct {
	folder   string
	gen      uint64
	version  int
	needle   string
	order    []int32
	narrowed bool
}

// filterCmd filters a large folder off the UI goroutine, over copies of
// what it reads: the rows' search keys and, when the filter only got
// longer, the rows shown.
func (f *folderList) filterCmd() tea.Cmd {
	needle := strings.ToLower(f.filter)
	if f.searchSnap == nil || f.snapVersion != f.version {
		f.searchSnap = make([]string, len(f.rows))
		for i := range f.rows {
			f.searchSnap[i] = f.rows[i].search
		}
		f.snapVersion = f.version
	}
	search := f.searchSnap
	var base []int32
	if f.shown != "" && strings.HasPrefix(needle, f.shown) && f.shownVersion == f.version {
		base = slices.Clone(f.order)
	}
	folder, gen, version := f.name, f.gen, f.version
	return func() tea.Msg {
		msg := filteredMsg{folder: folder, gen: gen, version: version, needle: needle, narrowed: base != nil}
		if base != nil {
			msg.order = slices.DeleteFunc(base, func(i int32) bool { return !strings.Contains(search[i], needle) })
			return msg
		}
		msg.order = make([]int32, 0, len(search)/4)
		for i, s := range search {
			if needle == "" || strings.Contains(s, needle) {
				msg.order = append(msg.order, int32(i))
			}
		}
		return msg
	}
}

// place puts the cursor on keep, or on the first row.
func (f *folderList) place(keep string) {
	f.cur = 0
	if keep != "" {
		if j, ok := f.index[keep]; ok {
			if p := slices.Index(f.order, j); p >= 0 {
				f.cur = p
			}
		}
	}
}

// sortOrder sorts the rows shown. For from and subject, rows whose
// header fields are not read yet come after the others, in arrival
// order.
func (f *folderList) sortOrder() {
	rows := f.rows
	if f.sort == sortArrival {
		if f.desc {
			slices.Reverse(f.order)
		}
		return
	}
	if f.sort == sortDate {
		slices.SortStableFunc(f.order, func(a, b int32) int {
			c := cmp.Compare(rows[a].when().UnixNano(), rows[b].when().UnixNano())
			if f.desc {
				c = -c
			}
			return c
		})
		return
	}
	// One key per row shown, made once: comparing would otherwise
	// lower-case both strings n log n times.
	keys := make([]string, len(rows))
	for _, i := range f.order {
		r := &rows[i]
		if f.sort == sortFrom {
			keys[i] = strings.ToLower(r.from)
		} else {
			keys[i] = strings.ToLower(baseSubject(r.subject))
		}
	}
	slices.SortStableFunc(f.order, func(a, b int32) int {
		ra, rb := &rows[a], &rows[b]
		if ra.loaded != rb.loaded {
			if ra.loaded {
				return -1
			}
			return 1
		}
		c := strings.Compare(keys[a], keys[b])
		if f.desc {
			c = -c
		}
		return c
	})
}

// baseSubject drops the "Re:" and "Fwd:" prefixes for sorting.
func baseSubject(s string) string {
	for {
		t := strings.TrimSpace(s)
		l := strings.ToLower(t)
		switch {
		case strings.HasPrefix(l, "re:"):
			s = t[3:]
		case strings.HasPrefix(l, "fwd:"):
			s = t[4:]
		case strings.HasPrefix(l, "fw:"):
			s = t[3:]
		default:
			return t
		}
	}
}

// when is the row's date: the Date field, else its arrival.
func (r *row) when() time.Time {
	if !r.date.IsZero() {
		return r.date
	}
	if r.arrival > 0 {
		return time.Unix(r.arrival, 0)
	}
	return time.Time{}
}

// move moves the cursor by delta rows within the list.
func (f *folderList) move(delta int) {
	if len(f.order) == 0 {
		f.cur = 0
		return
	}
	f.cur = min(max(f.cur+delta, 0), len(f.order)-1)
}

// scrollTo keeps the cursor on screen in a list height rows tall.
func (f *folderList) scrollTo(height int) {
	if height <= 0 {
		return
	}
	if f.cur < f.top {
		f.top = f.cur
	}
	if f.cur >= f.top+height {
		f.top = f.cur - height + 1
	}
	f.top = min(f.top, max(len(f.order)-height, 0))
	f.top = max(f.top, 0)
}

// unloadedWindow returns the folder positions [lo, hi] spanning the rows
// on screen (and a screen either side) whose header fields are not read,
// or ok false when there are none or they are too scattered to read as
// one range (the background reader will get to them).
func (f *folderList) unloadedWindow(height int) (lo, hi int, ok bool) {
	from, to := max(f.top-height, 0), min(f.top+2*height, len(f.order))
	lo, hi = -1, -1
	for p := from; p < to; p++ {
		i := int(f.order[p])
		if f.rows[i].loaded {
			continue
		}
		if lo < 0 || i < lo {
			lo = i
		}
		if i > hi {
			hi = i
		}
	}
	if lo < 0 || hi-lo > 8*max(height, 50) {
		return 0, 0, false
	}
	return lo, hi, true
}

// nextToCheck returns a row on screen whose verdict is not known yet.
func (f *folderList) nextToCheck(height int) *row {
	for p := f.top; p < min(f.top+height, len(f.order)); p++ {
		r := &f.rows[f.order[p]]
		if r.loaded && !r.checked && !r.pending {
			return r
		}
	}
	return nil
}

// status is the line describing the folder's state.
func (f *folderList) status() string {
	if !f.scanned {
		return "listing…"
	}
	s := fmt.Sprintf("%d messages", len(f.rows))
	if f.filter != "" {
		s = fmt.Sprintf("%d of %d messages match %q", len(f.order), len(f.rows), f.filter)
	}
	dir := "↓"
	if !f.desc {
		dir = "↑"
	}
	s += " · by " + sortNames[f.sort] + " " + dir
	if f.loaded < len(f.rows) {
		s += fmt.Sprintf(" · reading headers %d%%", f.loaded*100/max(len(f.rows), 1))
	}
	return s
}

// renderList draws the rows of the list from top, height rows tall and
// width cells wide. Only the rows on screen are formatted.
func (m *Model) renderList(f *folderList, width, height int, focused bool) []string {
	lines := make([]string, 0, height)
	t := m.theme
	dateW := 10
	fromW := min(max(width/4, 12), 28)
	fixed := 2 + 2 + 4 + 1 + dateW + 1 + fromW + 1
	subjW := max(width-fixed, 8)
	now := m.now()
	head := t.fit(" "+"  "+t.fit("", 4)+" "+t.fit("Date", dateW)+" "+t.fit("From", fromW)+" Subject", width)
	lines = append(lines, sgrFaint+head+sgrReset)
	height--
	if f == nil || !f.scanned {
		return lines
	}
	if len(f.order) == 0 {
		msg := "  (no messages)"
		if f.filter != "" {
			msg = "  (no message matches the filter)"
		}
		return append(lines, t.fit(msg, width))
	}
	var b strings.Builder
	for p := f.top; p < min(f.top+height, len(f.order)); p++ {
		r := &f.rows[f.order[p]]
		sel := p == f.cur
		b.Reset()
		if sel {
			b.WriteString(sgrReverse)
			if focused {
				b.WriteString(t.cursor)
			} else {
				b.WriteString(" ")
			}
		} else {
			b.WriteString(" ")
		}
		switch {
		case r.isNew || !r.flags.Has(mailbox.Seen):
			b.WriteString("N")
		case r.flags.Has(mailbox.Answered):
			b.WriteString("r")
		default:
			b.WriteString(" ")
		}
		b.WriteString(" ")
		m.writeBadges(&b, r.badge, sel)
		b.WriteString(" ")
		b.WriteString(t.fit(formatDate(r.when(), now), dateW))
		b.WriteString(" ")
		if !r.loaded {
			b.WriteString(t.fit(t.ellipsis, fromW))
			b.WriteString(" ")
			b.WriteString(t.fit("", subjW))
		} else {
			b.WriteString(t.fit(r.from, fromW))
			b.WriteString(" ")
			b.WriteString(t.fit(r.subject, subjW))
		}
		if sel {
			b.WriteString(sgrReset)
		}
		lines = append(lines, b.String())
	}
	return lines
}

// writeBadges writes the four cells of a row's badges.
func (m *Model) writeBadges(b *strings.Builder, bd badges, plain bool) {
	t := m.theme
	color := func(sgr, s string) {
		if plain || sgr == "" {
			b.WriteString(s)
			return
		}
		b.WriteString(sgr + s + sgrReset)
	}
	switch bd.enc {
	case encOK:
		color(sgrGreen, t.encOK)
	case encBad:
		color(sgrRed, t.encBad)
	case encUnknown:
		color("", t.encUnknown)
	default:
		b.WriteString(t.encNone)
	}
	switch bd.sig {
	case sigValid:
		color(sgrGreen, t.sigValid)
	case sigBad:
		color(sgrRed, t.sigBad)
	case sigNotSender:
		color(sgrRed, t.sigNotSender)
	case sigUnchecked:
		color(sgrFaint, t.sigUnchecked)
	default:
		b.WriteString(t.sigNo)
	}
	switch bd.dmarc {
	case dmarcPass:
		color(sgrGreen, t.dmarcPass)
	case dmarcFail:
		color(sgrRed, t.dmarcFail)
	case dmarcNone:
		color(sgrFaint, t.dmarcNone)
	default:
		b.WriteString(t.dmarcUnknown)
	}
}

// formatDate is "15:04" today, "Jan 02" this year, else "2006-01-02".
func formatDate(d, now time.Time) string {
	if d.IsZero() {
		return ""
	}
	d = d.In(now.Location())
	switch {
	case d.Year() == now.Year() && d.YearDay() == now.YearDay():
		return d.Format("15:04")
	case d.Year() == now.Year():
		return d.Format("Jan 02")
	}
	return d.Format("2006-01-02")
}
