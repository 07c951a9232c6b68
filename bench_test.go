package securemail

import (
	"encoding/base64"
	"strings"
	"testing"
)

// plainMessage is a typical 50 KiB text/plain message.
func plainMessage() []byte {
	var b strings.Builder
	b.WriteString("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: report\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for b.Len() < 50<<10 {
		b.WriteString("The quarterly figures are attached; the summary follows in this line of text.\r\n")
	}
	return []byte(b.String())
}

// multipartMessage is a typical 50 KiB multipart/mixed message: text and
// HTML alternatives and a small attachment.
func multipartMessage() []byte {
	var b strings.Builder
	b.WriteString("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: report\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for i := 0; i < 200; i++ {
		b.WriteString("The quarterly figures are attached; the summary follows.\r\n")
	}
	b.WriteString("--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>")
	for i := 0; i < 200; i++ {
		b.WriteString("<p>The <b>quarterly</b> figures are <a href=\"https://example.org/q\">attached</a>.</p>\r\n")
	}
	b.WriteString("</body></html>\r\n--alt--\r\n--outer\r\nContent-Type: application/pdf; name=q.pdf\r\nContent-Disposition: attachment; filename=q.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	pdf := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("%PDF-1.4 binary data ", 1000)))
	for len(pdf) > 76 {
		b.WriteString(pdf[:76] + "\r\n")
		pdf = pdf[76:]
	}
	b.WriteString(pdf + "\r\n--outer--\r\n")
	return []byte(b.String())
}

func benchmarkOpen(b *testing.B, raw []byte) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Open(raw, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenPlain50K(b *testing.B)     { benchmarkOpen(b, plainMessage()) }
func BenchmarkOpenMultipart50K(b *testing.B) { benchmarkOpen(b, multipartMessage()) }
