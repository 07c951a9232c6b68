package tui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailbox"
)

// bigFolder is the 100,000-message Maildir of the benchmarks, made once
// per test binary. With TUI_BENCH_DIR set it is made there (or found
// there, when its cur/ exists) and kept, so that repeated runs skip
// making it.
var bigFolder struct {
	once sync.Once
	dir  string
	err  error
}

const bigCount = 100_000

// benchHeader is a header block of the size received mail has (about
// 1.5 KiB): Received lines, a DKIM signature, authentication results.
const benchHeader = `Return-Path: <sender%d@example.org>
Received: from mail.example.org (mail.example.org [198.51.100.7])
	by mx1.example.net (Postfix) with ESMTPS id 4SVQ1x2zKkz9sTn
	for <bob@example.net>; Tue, 14 Nov 2023 22:13:21 +0000 (UTC)
Authentication-Results: mx1.example.net; dkim=pass header.d=example.org;
	spf=pass smtp.mailfrom=alice@example.org; dmarc=pass header.from=example.org
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=2023;
	t=1700000000; h=from:to:subject:date:message-id:mime-version:content-type;
	bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR
	 yYfSbx7hrg2iLj7vKbpF1lgVGHc4NKDxHmsGj8lEoIRpqKw6ieeVrFyfdvmY03zIsPj1Z
From: Sender %d <sender%d@example.org>
To: Bob Example <bob@example.net>
Subject: Message %d about the quarterly numbers
Date: %s
Message-ID: <%d.1700000000@mail.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

`

func makeBigFolder(b *testing.B) string {
	bigFolder.once.Do(func() {
		dir := os.Getenv("TUI_BENCH_DIR")
		if dir != "" {
			if _, err := os.Stat(filepath.Join(dir, "cur")); err == nil {
				bigFolder.dir = dir
				return
			}
		} else {
			d, err := os.MkdirTemp("", "tui-bench-")
			if err != nil {
				bigFolder.err = err
				return
			}
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				bigFolder.err = err
				return
			}
		}
		body := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 20)
		base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Go(func() {
				var buf bytes.Buffer
				for i := w; i < bigCount; i += 4 {
					buf.Reset()
					date := base.Add(time.Duration(i) * time.Minute).Format(time.RFC1123Z)
					fmt.Fprintf(&buf, benchHeader, i%500, i%500, i%500, i, date, i)
					buf.WriteString(body)
					name := fmt.Sprintf("%d.M%dP4242.bench.example,S=%d", 1600000000+i, i%1000000, buf.Len())
					sub := "new"
					if i%10 != 0 {
						sub, name = "cur", name+":2,S"
					}
					if err := os.WriteFile(filepath.Join(dir, sub, name), buf.Bytes(), 0o600); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		bigFolder.err = <-errs
		bigFolder.dir = dir
		syscall.Sync()
	})
	if bigFolder.err != nil {
		b.Fatal(bigFolder.err)
	}
	return bigFolder.dir
}

func benchConfig(b *testing.B, dir string) (Config, *mailbox.Maildir) {
	md, err := mailbox.OpenMaildir(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	st, err := keystore.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return Config{Mailbox: md, Store: st, NoVerifyList: true}, md
}

// firstFrame does what the program does from start to the first frame
// that shows the folder's newest messages: list the folder by name, read
// the header fields of the rows on screen, draw.
func firstFrame(b *testing.B, cfg Config) (*Model, string) {
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.openFolder("INBOX")
	f := m.cur
	m.Update(scanCmd(cfg.Mailbox, "INBOX", f.gen)())
	lo, hi, ok := f.unloadedWindow(m.listHeight())
	if !ok {
		b.Fatal("no window to read")
	}
	m.Update(windowCmd(cfg.Mailbox, "INBOX", f.gen, lo, hi-lo+1)())
	return m, m.View().Content
}

// BenchmarkFirstFrame100k is the time from start to the first frame
// showing the newest messages of a 100,000-message folder (goal: under
// 500 ms). The background reading of the other headers starts after it
// and is not counted.
func BenchmarkFirstFrame100k(b *testing.B) {
	dir := makeBigFolder(b)
	cfg, md := benchConfig(b, dir)
	defer md.Close()
	b.ReportAllocs()
	for b.Loop() {
		m, frame := firstFrame(b, cfg)
		if !strings.Contains(frame, "Message 99999 about") {
			b.Fatalf("the first frame does not show the newest message:\n%s", frame)
		}
		if m.cur.streaming {
			// Stop the background reader this frame started.
			m.cur.streaming = false
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/frame")
}

// loadAll reads every header of the folder, as the background reader
// does, and returns the model and the peak live heap while it ran.
func loadAll(b *testing.B, cfg Config) (*Model, uint64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	take := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	m, _ := firstFrame(b, cfg)
	f := m.cur
	s := newHeaderStream(cfg.Mailbox, "INBOX")
	for {
		msg := s.batchCmd("INBOX", f.gen)().(headersMsg)
		m.Update(msg)
		take()
		if msg.stream == nil {
			break
		}
	}
	if f.loaded != bigCount {
		b.Fatalf("%d rows read", f.loaded)
	}
	return m, peak
}

// BenchmarkKeypress100k is the cost of one key press in a
// 100,000-message folder whose headers are all read: Update and View
// (goal: under 2 ms, far inside one frame). heap-MiB is the live heap
// of the model then, peak-heap-MiB the largest while reading the folder
// (goal: under 200 MiB).
func BenchmarkKeypress100k(b *testing.B) {
	dir := makeBigFolder(b)
	cfg, md := benchConfig(b, dir)
	defer md.Close()
	m, peak := loadAll(b, cfg)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for _, k := range []struct {
		name string
		keys []tea.KeyPressMsg
	}{
		{"down-up", []tea.KeyPressMsg{keyPress("j"), keyPress("k")}},
		{"page", []tea.KeyPressMsg{keyPress("pgdown"), keyPress("pgup")}},
		{"end-home", []tea.KeyPressMsg{keyPress("G"), keyPress("g")}},
	} {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Update(k.keys[i%len(k.keys)])
				_ = m.View()
				i++
			}
		})
	}
	b.Run("sort-subject", func(b *testing.B) {
		for b.Loop() {
			m.Update(keyPress("s"))
			_ = m.View()
		}
	})
	// Typing a filter: Update and View only; the filtering itself runs in
	// a command (its cost is filter-command).
	b.Run("filter-keystroke", func(b *testing.B) {
		m.Update(keyPress("/"))
		i := 0
		for b.Loop() {
			if i%2 == 0 {
				m.Update(keyPress("e"))
			} else {
				m.Update(keyPress("backspace"))
			}
			_ = m.View()
			i++
		}
		m.Update(keyPress("esc"))
	})
	b.Run("filter-command", func(b *testing.B) {
		f := m.cur
		for b.Loop() {
			f.filter = "quarterly"
			f.shown = ""
			if msg := f.filterCmd()().(filteredMsg); len(msg.order) != bigCount {
				b.Fatalf("%d rows match", len(msg.order))
			}
		}
		f.filter = ""
	})
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	})
	runtime.KeepAlive(m)
}
