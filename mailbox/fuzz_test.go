package mailbox

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
)

// nameSeeds are file names from every writer we know and names that must
// be refused.
func nameSeeds() []string {
	var seeds []string
	for _, tc := range foreignNames {
		seeds = append(seeds, tc.name)
	}
	return append(seeds,
		"1700000000.M1P1R0011223344556677.test.example:2,DFPRST",
		"1700000000.M1P1.h:2,S1,",
		"1700000000.M1P1.h:2,S:2,F",
		"1700000000.M1P1.a!2,S:x",
		"1700000000.M1P1.h,S=99999999999999999999:2,",
		".hidden", "a/b", ",S=1:2,S", "x\x00y", "",
	)
}

func TestNameSeeds(t *testing.T) {
	if len(nameSeeds()) == 0 {
		t.Fatal("no ParseName seeds")
	}
	if len(mboxSeeds()) == 0 {
		t.Fatal("no mbox seeds")
	}
}

// FuzzParseName: ParseName never panics; a name it accepts is rebuilt
// exactly by String; a flag change keeps the ID and extra fields and reads
// back as the flags set.
func FuzzParseName(f *testing.F) {
	for _, s := range nameSeeds() {
		f.Add(s, uint64(Seen|Keyword(3)))
	}
	f.Fuzz(func(t *testing.T, name string, flags uint64) {
		n, err := ParseName(name)
		if err != nil {
			return
		}
		if n.String() != name {
			t.Fatalf("String() = %q, want %q", n.String(), name)
		}
		if n.ID == "" || strings.ContainsAny(n.ID, ",:") {
			t.Fatalf("ID %q", n.ID)
		}
		want := Flags(flags) & letterFlags
		changed := n.WithFlags(want)
		again, err := ParseName(changed.String())
		if err != nil {
			if len(changed.String()) > maxNameLen {
				return // the new flags made it too long
			}
			t.Fatalf("ParseName(%q) after WithFlags: %v", changed.String(), err)
		}
		if again != changed || again.ID != n.ID || again.Extra != n.Extra || again.Flags != want {
			t.Fatalf("WithFlags(%v) of %q: %+v, parsed back as %+v", want, name, changed, again)
		}
		var letters []byte
		for i := 2; i < len(again.Info); i++ {
			if FlagOf(again.Info[i]) != 0 {
				letters = append(letters, again.Info[i])
			}
		}
		if string(letters) != want.String() {
			t.Fatalf("info %q for flags %v: letters not in ASCII order", again.Info, want)
		}
	})
}

func mboxSeeds() [][]byte {
	return [][]byte{
		[]byte("From a@example.org Tue Nov 14 22:13:20 2023\nSubject: one\nStatus: RO\n\nbody\n>From quoted\n>>From twice\n\n" +
			"From b@example.org Tue Nov 14 22:13:21 2023\nSubject: two\n\nbody\n"),
		[]byte("From c@example.org Tue Nov 14 22:13:22 2023\r\nSubject: crlf\r\nX-Mozilla-Status: 0001\r\n\r\nbody\r\n\r\n"),
		[]byte("From x\n"),
		[]byte("From x\nFrom y\n\n\nFrom z"),
		[]byte("\n\nFrom x\nno header at all"),
		[]byte("not an mbox\n"),
		[]byte(""),
	}
}

// readMbox splits data with the mbox reader, at most 1000 messages.
func readMbox(t *testing.T, data []byte, format MboxFormat) ([][]byte, error) {
	r := newMboxReader(bytes.NewReader(data), &MboxOptions{Format: format, MaxMessageSize: 1 << 20})
	var msgs [][]byte
	for len(msgs) < 1000 {
		msg, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, bytes.Clone(msg))
		mboxFlags(msg)
	}
	return msgs, nil
}

// writeMboxrd writes messages as an mboxrd file.
func writeMboxrd(msgs [][]byte) []byte {
	var b bytes.Buffer
	for _, msg := range msgs {
		b.WriteString("From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n")
		for line := range bytes.Lines(msg) {
			if isQuotedFrom(line, MboxRD) || bytes.HasPrefix(line, fromLine) {
				b.WriteByte('>')
			}
			b.Write(line)
		}
		if !bytes.HasSuffix(msg, []byte("\n")) {
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// FuzzMboxReader: the reader never panics, and what it reads, written back
// as mboxrd, reads back the same from the second round on.
func FuzzMboxReader(f *testing.F) {
	for _, s := range mboxSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		readMbox(t, data, MboxO)
		first, err := readMbox(t, data, MboxRD)
		if err != nil || len(first) == 1000 {
			return
		}
		second, err := readMbox(t, writeMboxrd(first), MboxRD)
		if err != nil || len(second) != len(first) {
			t.Fatalf("re-read %d messages (%v), want %d", len(second), err, len(first))
		}
		third, err := readMbox(t, writeMboxrd(second), MboxRD)
		if err != nil || !slices.EqualFunc(second, third, bytes.Equal) {
			t.Fatalf("second round %q, third %q (%v)", second, third, err)
		}
		for i := range first {
			if bytes.HasSuffix(first[i], []byte("\n")) && !bytes.Equal(first[i], second[i]) {
				t.Fatalf("message %d: read %q, then %q", i, first[i], second[i])
			}
		}
	})
}

// FuzzHeader: header lookups and header-end detection never panic, and the
// header block found is a prefix of the input.
func FuzzHeader(f *testing.F) {
	for _, s := range mboxSeeds() {
		f.Add(s)
	}
	f.Add([]byte("Subject: a\r\n b\r\n\r\nbody"))
	f.Fuzz(func(t *testing.T, data []byte) {
		end, found := headerEnd(data)
		if end > len(data) || (found && end == len(data)) {
			t.Fatalf("headerEnd = %d, %v of %d bytes", end, found, len(data))
		}
		h := Header(data[:end])
		h.Get("Subject")
		h.Values("received")
		if sel := selectFields(h, []string{"Subject", "From"}); len(sel) > len(h) {
			t.Fatalf("selected %d bytes of %d", len(sel), len(h))
		}
	})
}
