package mailbox

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/mailbox/imaptest"
)

const imapBenchCount = 10_000

// imapListFields are the fields a message list asks for (the TUI's).
var imapListFields = []string{"From", "Subject", "Date", "Content-Type"}

// fillDovecot stores n messages with typical headers in the user's INBOX
// as a mail server would: written to a Maildir of their own, then
// imported by Dovecot (doveadm import), which indexes and caches them as
// a delivery does.
func fillDovecot(b *testing.B, d *imaptest.Dovecot, n int) {
	b.Helper()
	src := filepath.Join(d.Dir, "import")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(src, sub), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	body := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n", 40)
	var buf bytes.Buffer
	for i := range n {
		buf.Reset()
		fmt.Fprintf(&buf, strings.ReplaceAll(typicalHeader, "\n", "\r\n"), i, i)
		buf.WriteString(body)
		name := fmt.Sprintf("%d.M%dP4242.bench.example,S=%d,W=%d:2,S", 1600000000+i, i, buf.Len(), buf.Len())
		if err := os.WriteFile(filepath.Join(src, "cur", name), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// Dovecot indexes the source too, as the mail user.
	uid, gid := imaptest.Owner(filepath.Join(d.Dir, "mail"))
	if uid >= 0 {
		err := filepath.WalkDir(src, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(p, uid, gid)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	d.Doveadm("import", "-u", d.User, "maildir:"+src, "", "all")
	m := dialDovecot(b, d, "-")
	got := 0
	for _, err := range m.List("INBOX", &ListOptions{SkipHeaders: true}) {
		if err != nil {
			b.Fatal(err)
		}
		got++
	}
	if got != n {
		b.Fatalf("Dovecot lists %d messages, want %d", got, n)
	}
}

// firstPage opens INBOX as a message list does: every message's ID and
// flags (no header), then the header fields of the newest page of 50.
func firstPage(b *testing.B, m *IMAP) {
	rows := 0
	for _, err := range m.List("INBOX", &ListOptions{SkipHeaders: true}) {
		if err != nil {
			b.Fatal(err)
		}
		rows++
	}
	page := 0
	for msg, err := range m.List("INBOX", &ListOptions{Offset: rows - 50, Limit: 50, HeaderFields: imapListFields}) {
		if err != nil {
			b.Fatal(err)
		}
		if msg.Header.Get("Subject") == "" {
			b.Fatalf("message %s has no Subject", msg.ID)
		}
		page++
	}
	if rows != imapBenchCount || page != 50 {
		b.Fatalf("listed %d rows and a page of %d", rows, page)
	}
}

// BenchmarkIMAPOpen10k opens a folder of 10,000 messages on a Dovecot on
// loopback, as the message list does (firstPage), in a new session each
// time: connection, TLS and login included. "cold" starts with an empty
// header cache; "cached" with the cache that one earlier listing of the
// whole folder left on disk. "all-headers-cold" and "-cached" stream the
// list fields of all 10,000 messages (what sorting the list needs), ns/op
// including the connection. first-page-ms is the time to the first page
// after the login; the goals are 1 s cold and 200 ms cached.
func BenchmarkIMAPOpen10k(b *testing.B) {
	d := imaptest.StartDovecot(b)
	fillDovecot(b, d, imapBenchCount)

	b.Run("cold", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			m := dialBench(b, d, b.TempDir())
			start := time.Now()
			firstPage(b, m)
			total += time.Since(start)
			m.Close()
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "first-page-ms")
	})

	cache := b.TempDir()
	warm := dialBench(b, d, cache)
	for _, err := range warm.List("INBOX", &ListOptions{HeaderFields: imapListFields}) {
		if err != nil {
			b.Fatal(err)
		}
	}
	warm.Close()
	b.Run("cached", func(b *testing.B) {
		var total time.Duration
		for b.Loop() {
			m := dialBench(b, d, cache)
			start := time.Now()
			firstPage(b, m)
			total += time.Since(start)
			m.Close()
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "first-page-ms")
	})

	allHeaders := func(b *testing.B, cache func() string) {
		for b.Loop() {
			m := dialBench(b, d, cache())
			n := 0
			for _, err := range m.List("INBOX", &ListOptions{HeaderFields: imapListFields}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != imapBenchCount {
				b.Fatalf("listed %d", n)
			}
			m.Close()
		}
	}
	b.Run("all-headers-cold", func(b *testing.B) { allHeaders(b, b.TempDir) })
	b.Run("all-headers-cached", func(b *testing.B) { allHeaders(b, func() string { return cache }) })
}

// dialBench connects outside the timed part of a first-page measurement
// but inside b.Loop (connection and login are part of ns/op).
func dialBench(b *testing.B, d *imaptest.Dovecot, cache string) *IMAP {
	b.Helper()
	opts := dovecotOptions(b, d, cache)
	m, err := DialIMAP(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	return m
}
