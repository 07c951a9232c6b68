package mailbox

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestImportMbox(t *testing.T) {
	in := "From a@example.org Tue Nov 14 22:13:20 2023\n" +
		"From: a@example.org\nSubject: one\nStatus: RO\nX-Status: AF\n\nbody one\n\n" +
		"From b@example.org Tue Nov 14 22:13:21 2023\n" +
		"From: b@example.org\nSubject: two\nX-Mozilla-Status: 1003\n\n" +
		">From here\n>>From there\n>>>From everywhere\n> From not quoted\n>Fromage\n\n" +
		"From c@example.org Tue Nov 14 22:13:22 2023\r\n" +
		"From: c@example.org\r\nSubject: three\r\n\r\nlast\r\n\r\n" +
		"From d@example.org Tue Nov 14 22:13:23 2023\n" +
		"Subject: four\n\nno newline at the end"
	want := []struct {
		msg   string
		flags Flags
	}{
		{"From: a@example.org\nSubject: one\nStatus: RO\nX-Status: AF\n\nbody one\n", Seen | Answered | Flagged},
		{"From: b@example.org\nSubject: two\nX-Mozilla-Status: 1003\n\n" +
			"From here\n>From there\n>>From everywhere\n> From not quoted\n>Fromage\n", Seen | Answered | Passed},
		{"From: c@example.org\r\nSubject: three\r\n\r\nlast\r\n", 0},
		{"Subject: four\n\nno newline at the end", 0},
	}
	m, _ := newTestMaildir(t, nil)
	n, err := ImportMbox(strings.NewReader(in), m, "Archive")
	if err != nil || n != len(want) {
		t.Fatalf("ImportMbox = %d, %v", n, err)
	}
	msgs := list(t, m, "Archive", nil)
	if len(msgs) != len(want) {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, msg := range msgs {
		mustEqual(t, msg.Header.Get("Subject"), readAll(t, m, "Archive", msg.ID), []byte(want[i].msg))
		if msg.Flags != want[i].flags {
			t.Errorf("message %d: flags %v, want %v", i, msg.Flags, want[i].flags)
		}
	}

	// mboxo: only ">From " is unquoted.
	m2, _ := newTestMaildir(t, nil)
	if _, err := ImportMboxWithOptions(strings.NewReader(in), m2, "INBOX", &MboxOptions{Format: MboxO}); err != nil {
		t.Fatal(err)
	}
	second := list(t, m2, "INBOX", nil)[1]
	if got := readAll(t, m2, "INBOX", second.ID); !bytes.Contains(got, []byte("\nFrom here\n>>From there\n>>>From everywhere\n")) {
		t.Fatalf("mboxo body %q", got)
	}
}

func TestImportMboxErrors(t *testing.T) {
	m, _ := newTestMaildir(t, nil)
	for _, in := range []string{"", "\n\n"} {
		if n, err := ImportMbox(strings.NewReader(in), m, "INBOX"); n != 0 || err != nil {
			t.Fatalf("ImportMbox(%q) = %d, %v", in, n, err)
		}
	}
	_, err := ImportMbox(strings.NewReader("Subject: not an mbox\n\nbody\n"), m, "INBOX")
	var me *MboxError
	if !errors.As(err, &me) || me.Line != 1 {
		t.Fatalf("not an mbox: %v", err)
	}
	big := "From x\nSubject: big\n\n" + strings.Repeat("0123456789\n", 100) + "From y\nSubject: small\n\nx\n"
	n, err := ImportMboxWithOptions(strings.NewReader(big), m, "INBOX", &MboxOptions{MaxMessageSize: 500})
	wantErr(t, "message over the limit", err, ErrTooLarge)
	if n != 0 {
		t.Fatalf("n = %d", n)
	}
	longLine := "From x\nSubject: long\n\n" + strings.Repeat("x", 200<<10) + "\n"
	_, err = ImportMboxWithOptions(strings.NewReader(longLine), m, "INBOX", &MboxOptions{MaxMessageSize: 100 << 10})
	wantErr(t, "line over the limit", err, ErrTooLarge)
	if n, err := ImportMbox(strings.NewReader(longLine), m, "INBOX"); n != 1 || err != nil {
		t.Fatalf("long line under the limit: %d, %v", n, err)
	}
	n, err = ImportMbox(strings.NewReader("From x\n\nx\n"), m, "Nope")
	wantErr(t, "missing folder", err, ErrNotFound)
	if n != 0 {
		t.Fatalf("n = %d", n)
	}
}
