package mailbox

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
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigMaildir.dir != "" && !bigMaildir.keep {
		os.RemoveAll(bigMaildir.dir)
	}
	os.Exit(code)
}

// bigMaildir is the 100,000-message fixture, made once per test binary.
// With MAILBOX_BENCH_DIR set, the fixture is made there (or found there,
// when its cur/ exists) and kept, so that repeated runs skip making it.
var bigMaildir struct {
	once sync.Once
	dir  string
	keep bool
	err  error
}

const bigCount = 100_000

// typicalHeader is a header block of the size received mail has: a few
// Received lines, a DKIM signature, authentication results (about 2 KiB).
const typicalHeader = `Return-Path: <alice@example.org>
Delivered-To: bob@example.net
Received: from mx1.example.net ([192.0.2.10])
	by imap.example.net with LMTP id 8Hc2LwBqU2XFbQAAkGd8Kw
	for <bob@example.net>; Tue, 14 Nov 2023 22:13:21 +0000
Received: from mail.example.org (mail.example.org [198.51.100.7])
	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))
	by mx1.example.net (Postfix) with ESMTPS id 4SVQ1x2zKkz9sTn
	for <bob@example.net>; Tue, 14 Nov 2023 22:13:21 +0000 (UTC)
Authentication-Results: mx1.example.net; dkim=pass header.d=example.org;
	spf=pass smtp.mailfrom=alice@example.org; dmarc=pass header.from=example.org
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=2023;
	t=1700000000; h=from:to:subject:date:message-id:mime-version:content-type;
	bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR
	 yYfSbx7hrg2iLj7vKbpF1lgVGHc4NKDxHmsGj8lEoIRpqKw6ieeVrFyfdvmY03zIsPj1Z
	 9TVGGB2qVNeiQMY3LyYjAxO6bRkUjnUHmpWiXdgdVNVQ=
From: Alice Example <alice@example.org>
To: Bob Example <bob@example.net>
Subject: Message %d about the quarterly numbers
Date: Tue, 14 Nov 2023 22:13:20 +0000
Message-ID: <%d.1700000000@mail.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable
X-Mailer: securemail-bench

`

// makeBigMaildir writes bigCount messages straight into a Maildir, 90% in
// cur/ with flags and Dovecot size hints, 10% in new/.
func makeBigMaildir() (string, error) {
	bigMaildir.once.Do(func() {
		dir, err := os.Getenv("MAILBOX_BENCH_DIR"), error(nil)
		if dir != "" {
			bigMaildir.dir, bigMaildir.keep = dir, true
			if _, err := os.Stat(filepath.Join(dir, "cur")); err == nil {
				return
			}
			err = os.MkdirAll(dir, 0o700)
		} else {
			dir, err = os.MkdirTemp("", "mailbox-bench-")
		}
		if err != nil {
			bigMaildir.err = err
			return
		}
		bigMaildir.dir = dir
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
				bigMaildir.err = err
				return
			}
		}
		body := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 40)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Go(func() {
				var buf bytes.Buffer
				for i := w; i < bigCount; i += 4 {
					buf.Reset()
					fmt.Fprintf(&buf, typicalHeader, i, i)
					buf.WriteString(body)
					name := fmt.Sprintf("%d.M%dP%d.bench.example,S=%d,W=%d", 1600000000+i, i%1000000, 4242, buf.Len(), buf.Len()+60)
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
		bigMaildir.err = <-errs
		// Write the files back now, not while the benchmark runs.
		syscall.Sync()
	})
	return bigMaildir.dir, bigMaildir.err
}

// heapSampler tracks the largest live heap seen.
type heapSampler struct {
	sample []metrics.Sample
	peak   uint64
}

func newHeapSampler() *heapSampler {
	runtime.GC()
	return &heapSampler{sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

func (h *heapSampler) take() {
	metrics.Read(h.sample)
	h.peak = max(h.peak, h.sample[0].Value.Uint64())
}

// BenchmarkList100k lists a folder of 100,000 messages, reading every
// header block, and keeps what a message list shows (ID, flags, From,
// Subject, Date). "full" holds each whole header block while reading it;
// "fields" asks only for the fields shown. peak-heap-MiB is the largest
// live heap seen during a listing (sampled every 1,000 messages).
func BenchmarkList100k(b *testing.B) {
	dir, err := makeBigMaildir()
	if err != nil {
		b.Fatal(err)
	}
	type row struct {
		id, from, subject, date string
		flags                   Flags
	}
	for _, bc := range []struct {
		name string
		opts *ListOptions
	}{
		{"full", nil},
		{"fields", &ListOptions{HeaderFields: []string{"From", "Subject", "Date"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := OpenMaildir(dir, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			heap := newHeapSampler()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rows := make([]row, 0, bigCount)
				for msg, err := range m.List("INBOX", bc.opts) {
					if err != nil {
						b.Fatal(err)
					}
					rows = append(rows, row{msg.ID, msg.Header.Get("From"), msg.Header.Get("Subject"), msg.Header.Get("Date"), msg.Flags})
					if len(rows)%1000 == 0 {
						heap.take()
					}
				}
				if len(rows) != bigCount || rows[bigCount-1].subject == "" {
					b.Fatalf("listed %d messages", len(rows))
				}
				heap.take()
			}
			b.ReportMetric(float64(heap.peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkDeliver measures one delivery (two fsyncs) of a 4 KiB message.
func BenchmarkDeliver(b *testing.B) {
	m, _ := newTestMaildir(b, &Options{})
	msg := bytes.Repeat([]byte("x"), 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Deliver("INBOX", bytes.NewReader(msg), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseName measures parsing a Dovecot file name.
func BenchmarkParseName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseName("1700000000.M412345P2021.mail.example.org,S=2048,W=2101:2,RS"); err != nil {
			b.Fatal(err)
		}
	}
}
