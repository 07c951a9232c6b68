package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// syntheticList is a folder of n rows with read headers: subject
// "message i", from "sender i%7".
func syntheticList(n int) *folderList {
	f := newFolderList("INBOX", 1)
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{id: fmt.Sprintf("%d.M%dP1.host", 1700000000+i, i), arrival: int64(1700000000 + i)}
	}
	f.setRows(rows)
	hs := make([]rowHeader, n)
	for i := range hs {
		from, subject := fmt.Sprintf("sender %d", i%7), fmt.Sprintf("message %d", i)
		hs[i] = rowHeader{id: rows[i].id, from: from, subject: subject, search: from + "\x00" + subject,
			date: time.Unix(int64(1700000000+(n-i)*60), 0)}
	}
	f.apply(hs)
	f.rebuild("")
	return f
}

func shownSubjects(f *folderList, k int) []string {
	var out []string
	for _, i := range f.order[:min(k, len(f.order))] {
		out = append(out, f.rows[i].subject)
	}
	return out
}

// TestListSortAndFilter checks the orders and the quick filter, typed
// key by key (narrowing) and after rows changed (rebuilt).
func TestListSortAndFilter(t *testing.T) {
	f := syntheticList(30)
	if got := shownSubjects(f, 2); !slices.Equal(got, []string{"message 29", "message 28"}) {
		t.Errorf("by arrival, newest first: %q", got)
	}
	f.sort, f.desc = sortDate, true
	f.rebuild("")
	if got := shownSubjects(f, 1); got[0] != "message 0" {
		t.Errorf("by date, newest first (message 0 is dated last): %q", got)
	}
	f.sort, f.desc = sortFrom, false
	f.rebuild("")
	if r := f.rows[f.order[0]]; r.from != "sender 0" {
		t.Errorf("by from: %q first", r.from)
	}
	f.sort, f.desc = sortArrival, true
	f.rebuild("")

	keep := f.selectedID()
	f.filter = "message 2"
	f.refilter(keep)
	if len(f.order) != 11 { // 2, 20-29
		t.Errorf("%q matches %d rows", f.filter, len(f.order))
	}
	f.filter = "message 21"
	f.refilter(f.selectedID())
	if len(f.order) != 1 || f.rows[f.order[0]].subject != "message 21" {
		t.Errorf("narrowed to %q", shownSubjects(f, 5))
	}
	// A row that changed since is seen: the filter is rebuilt.
	f.apply([]rowHeader{{id: f.rows[3].id, from: "x", subject: "message 21 again", search: "x\x00message 21 again"}})
	f.filter = "message 21 "
	f.refilter("")
	if len(f.order) != 1 || f.rows[f.order[0]].subject != "message 21 again" {
		t.Errorf("after a change: %q", shownSubjects(f, 5))
	}
	f.filter = ""
	f.refilter("")
	if len(f.order) != 30 {
		t.Errorf("no filter: %d rows", len(f.order))
	}
}

// TestListFilterLargeFolder filters a folder above syncFilterRows: the
// keystroke returns a command, and its result is installed only while it
// is still the filter wanted.
func TestListFilterLargeFolder(t *testing.T) {
	m, err := New(newMaildirConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	f := syntheticList(syncFilterRows + 1000)
	m.lists["INBOX"], m.cur = f, f
	m.filtering = true
	m.filterInput.Focus()
	m.filterUpdate(keyPress("7"))
	if f.filter != "7" || len(f.order) != len(f.rows) {
		t.Fatalf("the filter ran inside Update: %d rows shown", len(f.order))
	}
	msg := f.filterCmd()().(filteredMsg) // what the command returns
	// Typed on before the result came: the stale result is dropped.
	m.filterUpdate(keyPress("7"))
	m.Update(msg)
	if len(f.order) != len(f.rows) {
		t.Errorf("a stale filter result was installed")
	}
	f.filter = "7"
	m.Update(msg)
	for _, i := range f.order {
		if !strings.Contains(f.rows[i].search, "7") {
			t.Fatalf("row %q shown for filter 7", f.rows[i].search)
		}
	}
	if len(f.order) == 0 || len(f.order) == len(f.rows) {
		t.Errorf("%d rows shown", len(f.order))
	}
}

// TestBusySpinner shows work that takes longer than busyDelay on the hint
// line, and hides it once done.
func TestBusySpinner(t *testing.T) {
	m, err := New(newMaildirConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	m.work("looking up dana@example.test", func() tea.Msg { return nil })
	if strings.Contains(m.render(), "looking up") {
		t.Error("the spinner shows before busyDelay")
	}
	m.Update(busyCheckMsg{})
	if !strings.Contains(m.render(), "looking up dana@example.test") {
		t.Errorf("no spinner after busyDelay:\n%s", m.render())
	}
	for id := range m.busy {
		m.Update(doneMsg{id: id})
	}
	if strings.Contains(m.render(), "looking up") {
		t.Error("the spinner stays once the work is done")
	}
}
