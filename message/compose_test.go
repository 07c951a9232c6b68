package message

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func init() {
	// The golden files share the package's -update flag, whichever test
	// file declares it.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func composeUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var composeClock = time.Date(2025, 3, 14, 15, 9, 26, 0, time.FixedZone("", 3600))

// composeOpts are options with a fixed clock and a fixed random stream
// (seeded ChaCha8), so that output is the same on every run.
func composeOpts(seed byte) *ComposeOptions {
	return &ComposeOptions{
		Now:  func() time.Time { return composeClock },
		Rand: mathrand.NewChaCha8([32]byte{seed}),
	}
}

func addr(name, a string) *mail.Address { return &mail.Address{Name: name, Address: a} }

// requireTransportSafe checks what every composed message must be: 7-bit,
// CRLF only, no line over 998 octets, header lines within 78, no line
// ending in whitespace or starting with "From " (RFC 3156 §3).
func requireTransportSafe(t *testing.T, raw []byte) {
	t.Helper()
	inHeader := true
	for n, line := range bytes.Split(raw, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d: bare CR or LF: %q", n+1, line)
		}
		for _, c := range line {
			if c >= 0x80 || c < ' ' && c != '\t' {
				t.Fatalf("line %d: octet %#x is not 7-bit text: %q", n+1, c, line)
			}
		}
		if len(line) > 998 {
			t.Fatalf("line %d: %d octets", n+1, len(line))
		}
		if inHeader && len(line) > 78 && composeFoldable(line) {
			t.Errorf("header line %d: %d octets: %q", n+1, len(line), line)
		}
		if len(line) == 0 {
			inHeader = false
		}
		if bytes.HasPrefix(line, []byte("From ")) {
			t.Errorf("line %d starts with \"From \": %q", n+1, line)
		}
		if len(line) > 0 && isHeaderSpace(line[len(line)-1]) {
			t.Errorf("line %d ends in whitespace: %q", n+1, line)
		}
	}
}

// composeFoldable reports whether a header line over 78 octets could have
// been folded: whether it has whitespace, after "Name: " or the leading
// whitespace of a continuation, that follows neither whitespace nor a
// backslash and precedes more text.
func composeFoldable(line []byte) bool {
	rest := string(line)
	if !isHeaderSpace(rest[0]) {
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			rest = rest[i+1:]
		}
	}
	rest = strings.TrimLeft(rest, " \t")
	for i := 1; i < len(rest); i++ {
		if isHeaderSpace(rest[i]) && !isHeaderSpace(rest[i-1]) && rest[i-1] != '\\' && strings.TrimLeft(rest[i:], " \t") != "" {
			return true
		}
	}
	return false
}

// composeParse composes d with fixed options and parses the result.
func composeParse(t *testing.T, d *Draft) (*Message, []byte) {
	t.Helper()
	raw, err := Compose(d, composeOpts(1))
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	requireTransportSafe(t, raw)
	m, err := Parse(raw, nil)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, raw)
	}
	if !bytes.Equal(m.Raw, raw) {
		t.Fatalf("Parse had to canonicalise the output")
	}
	m.Root.Walk(func(p *Part) bool {
		if p.MediaType == "message/rfc822" && p.Header.Get("Content-Transfer-Encoding") == "base64" {
			return true // RFC 2046 §5.2.1 wants 7bit; Parse says so (see ComposeBody)
		}
		if len(p.Problems) > 0 {
			t.Errorf("part %s: %v", p.MediaType, p.Problems)
		}
		return true
	})
	return m, raw
}

// outlineTypes is "multipart/mixed(multipart/alternative(text/plain text/html) image/png)".
func outlineTypes(p *Part) string {
	if len(p.Children) == 0 {
		return p.MediaType
	}
	var kids []string
	for _, c := range p.Children {
		kids = append(kids, outlineTypes(c))
	}
	return p.MediaType + "(" + strings.Join(kids, " ") + ")"
}

// composeLeaves are the parts that are not multiparts, in order; an
// attached message counts as one, whatever it holds.
func composeLeaves(p *Part) []*Part {
	if !p.IsMultipart() {
		return []*Part{p}
	}
	var leaves []*Part
	for _, c := range p.Children {
		leaves = append(leaves, composeLeaves(c)...)
	}
	return leaves
}

func requireText(t *testing.T, m *Message, p *Part, want string) {
	t.Helper()
	got, err := m.Text(p)
	if err != nil {
		t.Fatalf("Text: %v", err)
	}
	// Text is written in canonical form: bare LF becomes CRLF.
	want = string(canonicalLines(want))
	if got != want {
		t.Fatalf("Text of %s (%s):\n got %q\nwant %q", p.MediaType, p.Header.Get("Content-Transfer-Encoding"), got, want)
	}
}

func TestComposeRoundTrip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Ünïcödé text in a line much longer than seventy-eight characters, ", 20)
	binary := make([]byte, 10000)
	mathrand.NewChaCha8([32]byte{9}).Read(binary)
	tests := []struct {
		name  string
		draft Draft
		tree  string
		cte   []string // Content-Transfer-Encoding of each leaf, in order
	}{
		{
			name:  "ascii text",
			draft: Draft{Subject: "Lunch?", Text: "Shall we have lunch at noon?\n\nAlice\n"},
			tree:  "text/plain", cte: []string{"7bit"},
		},
		{
			name:  "utf-8 text with long lines",
			draft: Draft{Subject: "Grüße aus Köln", Text: "Hallo,\n" + long + "\nTschüß\n"},
			tree:  "text/plain", cte: []string{"quoted-printable"},
		},
		{
			name:  "mostly non-ascii text",
			draft: Draft{Subject: "你好，世界", Text: "你好，世界。这是一封测试邮件。\n" + strings.Repeat("长长的一行", 100)},
			tree:  "text/plain", cte: []string{"base64"},
		},
		{
			name:  "line starting From",
			draft: Draft{Subject: "From lines", Text: "Hello,\nFrom here on, all is ASCII.\nFrom\nFrom  two spaces\n"},
			tree:  "text/plain", cte: []string{"quoted-printable"},
		},
		{
			name:  "trailing whitespace",
			draft: Draft{Subject: "spaces", Text: "spaces after this   \ntab after this\t\n \n\t\n-- \nsignature\nlast line without end "},
			tree:  "text/plain", cte: []string{"quoted-printable"},
		},
		{
			name:  "bare CR and no final line end",
			draft: Draft{Subject: "cr", Text: "one\rtwo\r\nthree"},
			tree:  "text/plain", cte: []string{"quoted-printable"},
		},
		{
			name:  "long ascii line",
			draft: Draft{Subject: "long", Text: strings.Repeat("x", 1200) + "\n" + strings.Repeat("word ", 300)},
			tree:  "text/plain", cte: []string{"quoted-printable"},
		},
		{
			name:  "empty",
			draft: Draft{},
			tree:  "text/plain", cte: []string{"7bit"},
		},
		{
			name:  "text and html",
			draft: Draft{Subject: "Newsletter", Text: "Read this.\n", HTML: "<p>Read <b>this</b> — now.</p>\n"},
			tree:  "multipart/alternative(text/plain text/html)", cte: []string{"7bit", "quoted-printable"},
		},
		{
			name:  "html only",
			draft: Draft{Subject: "html", HTML: "<p>only</p>"},
			tree:  "text/html", cte: []string{"7bit"},
		},
		{
			name: "attachments with non-ascii names",
			draft: Draft{Subject: "Fotos vom Ausflug", Text: "Anbei.\n", Attachments: []Attachment{
				{Filename: "Ausflug am Bodensee – Übersicht.pdf", Data: []byte("%PDF-1.4\n\x00\xff")},
				{Filename: "日本語のファイル名.png", Data: binary[:300], Inline: true},
				{Filename: strings.Repeat("sehr langer Dateiname äöü ", 12) + ".txt", Data: []byte("Eine Zeile\r\nNoch eine Zeile mit Umlauten: äöü\r\n")},
				{Filename: `quote " and \ backslash.bin`, Data: []byte{1, 2, 3}},
			}},
			tree: "multipart/mixed(text/plain application/pdf image/png text/plain application/octet-stream)",
			cte:  []string{"7bit", "base64", "base64", "quoted-printable", "base64"},
		},
		{
			name: "binary and text attachments",
			draft: Draft{Text: "Files.\n", HTML: "<p>Files.</p>", Attachments: []Attachment{
				{Filename: "random.bin", Data: binary},
				{Filename: "no-extension", Data: []byte("x")},
				{Data: []byte("no name at all")},
				{Filename: "unix.txt", Data: []byte("LF\nline ends\n")},
				{Filename: "dos.txt", Data: []byte("CRLF\r\nline ends\r\n")},
				{Filename: "mbox.txt", Data: []byte("From me\r\n")},
				{Filename: "latin1.txt", Data: []byte("caf\xe9\r\n")},
				{Filename: "empty.txt"},
				{Filename: "data.csv", ContentType: "text/csv; charset=utf-8; header=present", Data: []byte("a,b\r\n1,ä\r\n")},
				{Filename: "fwd.eml", Data: []byte("From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n")},
				{Filename: "fwd8.eml", Data: []byte("From: a@example.org\r\nSubject: hi\r\n\r\nbödy\r\n")},
			}},
			tree: "multipart/mixed(multipart/alternative(text/plain text/html) application/octet-stream application/octet-stream application/octet-stream text/plain text/plain text/plain text/plain text/plain text/csv message/rfc822(text/plain) message/rfc822)",
			cte:  []string{"7bit", "7bit", "base64", "base64", "base64", "base64", "7bit", "quoted-printable", "quoted-printable", "7bit", "quoted-printable", "7bit", "base64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.draft
			d.From = addr("Alice Ärger", "alice@example.org")
			d.To = []*mail.Address{addr("Bob", "bob@example.net")}
			m, _ := composeParse(t, &d)
			if got := outlineTypes(m.Root); got != tt.tree {
				t.Fatalf("tree %s, want %s", got, tt.tree)
			}
			if got := DecodeText(m.Root.Header.Get("Subject")); got != d.Subject {
				t.Errorf("Subject %q, want %q", got, d.Subject)
			}
			leaves := composeLeaves(m.Root)
			if len(leaves) != len(tt.cte) {
				t.Fatalf("%d leaves, want %d", len(leaves), len(tt.cte))
			}
			for i, p := range leaves {
				if got := p.Header.Get("Content-Transfer-Encoding"); got != tt.cte[i] {
					t.Errorf("part %d (%s): %s, want %s", i, p.MediaType, got, tt.cte[i])
				}
			}
			body := leaves[:1]
			if d.HTML != "" && d.Text != "" {
				body = leaves[:2]
			}
			switch {
			case d.Text != "" && d.HTML != "":
				requireText(t, m, body[0], d.Text)
				requireText(t, m, body[1], d.HTML)
			case d.HTML != "":
				requireText(t, m, body[0], d.HTML)
			default:
				requireText(t, m, body[0], d.Text)
			}
			for _, p := range body {
				if p.Disposition() != "" {
					t.Errorf("body part %s has a disposition", p.MediaType)
				}
				want := "us-ascii"
				if got, _ := m.Text(p); !asciiBytes([]byte(got)) {
					want = "utf-8"
				}
				if p.Params["charset"] != want {
					t.Errorf("charset %q, want %q", p.Params["charset"], want)
				}
			}
			for i, a := range d.Attachments {
				p := leaves[len(body)+i]
				if got := p.Filename(); got != a.Filename {
					t.Errorf("attachment %d: Filename %q, want %q", i, got, a.Filename)
				}
				if got := p.Params["name"]; got != a.Filename {
					t.Errorf("attachment %d: name %q, want %q", i, got, a.Filename)
				}
				wantDisp := "attachment"
				if a.Inline {
					wantDisp = "inline"
				}
				if got := p.Disposition(); got != wantDisp {
					t.Errorf("attachment %d: disposition %q, want %q", i, got, wantDisp)
				}
				data, err := m.TransferDecode(p)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, a.Data) {
					t.Errorf("attachment %d (%s): data %q, want %q", i, p.Header.Get("Content-Transfer-Encoding"), data, a.Data)
				}
			}
		})
	}
}

func TestComposeAttachmentTypes(t *testing.T) {
	t.Parallel()
	d := &Draft{From: addr("", "a@example.org"), Attachments: []Attachment{
		{Filename: "report.pdf", Data: []byte("%PDF")},
		{Filename: "photo.JPG", Data: []byte{0xff, 0xd8}},
		{Filename: "page.html", Data: []byte("<p>hi</p>\r\n")},
		{Filename: "archive.unknown-extension", Data: []byte{0}},
		{Filename: "given.dat", ContentType: "Application/X-Given; Foo=\"bar baz\"", Data: []byte{0}},
		{Filename: "ascii.txt", Data: []byte("plain\r\n")},
		{Filename: "utf8.txt", Data: []byte("plän\r\n")},
		{Filename: "latin1.txt", Data: []byte("pl\xe4n\r\n")},
	}}
	want := []struct{ mt, charset string }{
		{"application/pdf", ""},
		{"image/jpeg", ""},
		{"text/html", "us-ascii"},
		{"application/octet-stream", ""},
		{"application/x-given", ""},
		{"text/plain", "us-ascii"},
		{"text/plain", "utf-8"},
		{"text/plain", ""},
	}
	m, _ := composeParse(t, d)
	for i, p := range m.Root.Children[1:] {
		if p.MediaType != want[i].mt || p.Params["charset"] != want[i].charset {
			t.Errorf("attachment %d: %s charset=%q, want %s charset=%q", i, p.MediaType, p.Params["charset"], want[i].mt, want[i].charset)
		}
	}
	if got := m.Root.Children[5].Params["foo"]; got != "bar baz" {
		t.Errorf("parameter of a given type: %q", got)
	}
}

func TestComposeHeaderFields(t *testing.T) {
	t.Parallel()
	d := &Draft{
		From: addr("Ålice \"the sender\", Esq.", "alice@example.org"),
		To: []*mail.Address{addr("Bob", "bob@example.net"), addr("", "carol@example.com"), addr("Dave Smith-Jones the Third of His Name", "dave@example.com"), addr("Ève", "eve@example.com"), addr("", `"odd local"@example.com`),
			addr("Professor Doctor Maximilian Alexander von und zu Langername-Mustermann, Esq.", "max@example.com")},
		Cc:         []*mail.Address{addr("Frank", "frank@example.org")},
		Bcc:        []*mail.Address{addr("Hidden Harry", "harry@hidden.example")},
		ReplyTo:    []*mail.Address{addr("List", "list@example.org")},
		Subject:    "Re: [list] " + strings.Repeat("a long subject ", 10),
		MessageID:  "abc.123@example.org",
		InReplyTo:  "<parent@example.net>",
		References: []string{"<root@example.net>", "mid1@example.net", "<mid2@example.net>", "parent@example.net"},
		Extra: []HeaderField{
			{"X-Mailer", "securemail"},
			{"Autocrypt", "addr=alice@example.org; keydata=" + strings.Repeat("QUJDREVGR0g= ", 30)}, // written trimmed
			{"X-Empty", ""},
		},
		Text: "hi\n",
	}
	m, raw := composeParse(t, d)
	h := m.Root.Header
	var names []string
	for _, f := range h.Fields {
		names = append(names, f.Name)
	}
	wantNames := "From To Cc Reply-To Subject Date Message-ID In-Reply-To References MIME-Version X-Mailer Autocrypt X-Empty Content-Type Content-Transfer-Encoding"
	if got := strings.Join(names, " "); got != wantNames {
		t.Errorf("fields\n got %s\nwant %s", got, wantNames)
	}
	for _, f := range []struct {
		name  string
		addrs []*mail.Address
	}{{"From", []*mail.Address{d.From}}, {"To", d.To}, {"Cc", d.Cc}, {"Reply-To", d.ReplyTo}} {
		got, err := mail.ParseAddressList(h.Get(f.name))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if len(got) != len(f.addrs) {
			t.Fatalf("%s: %d addresses, want %d", f.name, len(got), len(f.addrs))
		}
		for i := range got {
			if *got[i] != *f.addrs[i] {
				t.Errorf("%s[%d] = %q, want %q", f.name, i, got[i], f.addrs[i])
			}
		}
	}
	if got := DecodeText(h.Get("Subject")); got != d.Subject {
		t.Errorf("Subject %q", got)
	}
	if got := h.Get("Date"); got != "Fri, 14 Mar 2025 15:09:26 +0100" {
		t.Errorf("Date %q", got)
	}
	if got, err := mail.ParseDate(h.Get("Date")); err != nil || !got.Equal(composeClock) {
		t.Errorf("Date reads back as %v, %v", got, err)
	}
	for name, want := range map[string]string{
		"Message-ID":   "<abc.123@example.org>",
		"In-Reply-To":  "<parent@example.net>",
		"References":   "<root@example.net> <mid1@example.net> <mid2@example.net> <parent@example.net>",
		"MIME-Version": "1.0",
		"X-Mailer":     "securemail",
		"Autocrypt":    strings.TrimSpace(d.Extra[1].Value),
		"X-Empty":      "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if bytes.Contains(bytes.ToLower(raw), []byte("bcc")) || bytes.Contains(raw, []byte("harry")) || bytes.Contains(raw, []byte("Harry")) {
		t.Errorf("Bcc leaked into the message:\n%s", raw)
	}
}

func TestComposeGeneratesDateAndMessageID(t *testing.T) {
	t.Parallel()
	d := &Draft{From: addr("Alice", "alice@mail.example.org"), To: []*mail.Address{addr("", "bob@example.net")}, Text: "x", HTML: "<p>x</p>"}
	a, err := Compose(d, composeOpts(7))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compose(d, composeOpts(7))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("same clock and random stream, different messages:\n%s\n%s", a, b)
	}
	c, err := Compose(d, composeOpts(8))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatalf("a different random stream gave the same message")
	}
	m, err := Parse(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The Message-ID is the first thing drawn from the stream.
	wantID, err := NewMessageID(composeOpts(7).Rand, "mail.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Root.Header.Get("Message-ID"); got != wantID {
		t.Errorf("Message-ID %q, want %q", got, wantID)
	}
	if !strings.HasSuffix(wantID, "@mail.example.org>") || len(wantID) != len("<@mail.example.org>")+26 {
		t.Errorf("Message-ID %q", wantID)
	}
	if got := m.Root.Header.Get("Date"); got != composeClock.Format(time.RFC1123Z) {
		t.Errorf("Date %q", got)
	}

	// A given Date and Message-ID win over the options.
	d.Date = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	d.MessageID = "<given@example.org>"
	h, err := ComposeHeader(d, composeOpts(7))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(h, []byte("\r\nDate: Sat, 03 Feb 2001 04:05:06 +0000\r\n")) || !bytes.Contains(h, []byte("\r\nMessage-ID: <given@example.org>\r\n")) {
		t.Errorf("header:\n%s", h)
	}

	// Default options: crypto/rand and the real clock.
	d.Date, d.MessageID = time.Time{}, ""
	raw, err := Compose(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err = Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if date, err := mail.ParseDate(m.Root.Header.Get("Date")); err != nil || time.Since(date) > time.Minute {
		t.Errorf("default Date %v, %v", date, err)
	}
}

func TestComposeIsHeaderPlusBody(t *testing.T) {
	t.Parallel()
	d := &Draft{
		From: addr("", "a@example.org"), MessageID: "x@example.org", Subject: "s",
		Text: "text\n", HTML: "<p>html</p>", Attachments: []Attachment{{Filename: "a.bin", Data: []byte{1}}},
	}
	whole, err := Compose(d, composeOpts(3))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ComposeHeader(d, composeOpts(3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ComposeBody(d, composeOpts(3))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(whole, append(h, b...)) {
		t.Fatalf("Compose != ComposeHeader + ComposeBody")
	}
	if bytes.Contains(bytes.ToLower(h), []byte("content-")) || bytes.Contains(h, []byte("\r\n\r\n")) {
		t.Errorf("ComposeHeader has MIME fields or a blank line:\n%s", h)
	}
	// The body is an entity of its own, as a signature will cover it.
	m, err := Parse(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Raw, b) || outlineTypes(m.Root) != "multipart/mixed(multipart/alternative(text/plain text/html) application/octet-stream)" {
		t.Errorf("body entity: %s", outlineTypes(m.Root))
	}
	requireTransportSafe(t, append([]byte("X: y\r\n"), b...))
}

func TestComposeBoundaryNotInContent(t *testing.T) {
	t.Parallel()
	d := &Draft{From: addr("", "a@example.org"), MessageID: "x@example.org", Text: "text", HTML: "html"}
	first, err := ComposeBody(d, composeOpts(5))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(first, nil)
	if err != nil {
		t.Fatal(err)
	}
	boundary := m.Root.Params["boundary"]
	// The same random stream would draw the same boundary: put it in the
	// text, as 7bit content and as a delimiter line.
	d.Text = "--" + boundary + "\n--" + boundary + "--\nboundary " + boundary
	d.HTML = d.Text
	raw, err := Compose(d, composeOpts(5))
	if err != nil {
		t.Fatal(err)
	}
	m, err = Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Root.Params["boundary"] == boundary {
		t.Fatalf("boundary %q reused although the content has it", boundary)
	}
	requireText(t, m, m.Root.Children[0], d.Text)
	requireText(t, m, m.Root.Children[1], d.HTML)

	// A "random" source that repeats itself cannot find a boundary.
	zeros := &ComposeOptions{Rand: bytes.NewReader(make([]byte, 1000))}
	zeroBoundary := "=_" + strings.Repeat("A", 24)
	d.Text = "--" + zeroBoundary
	if _, err := ComposeBody(d, zeros); err == nil || !strings.HasPrefix(err.Error(), "message: ") {
		t.Errorf("constant random source: %v", err)
	}
	// A failing one is an error too.
	failing := &ComposeOptions{Rand: io.LimitReader(bytes.NewReader(nil), 0)}
	if _, err := ComposeBody(d, failing); err == nil {
		t.Errorf("no error from an empty random source")
	}
	if _, err := ComposeHeader(&Draft{From: addr("", "a@example.org")}, failing); err == nil {
		t.Errorf("no error from an empty random source for the Message-ID")
	}
}

func TestComposeRejectsHeaderInjection(t *testing.T) {
	t.Parallel()
	base := func() *Draft {
		return &Draft{From: addr("Alice", "alice@example.org"), To: []*mail.Address{addr("Bob", "bob@example.net")}, Text: "x"}
	}
	tests := []struct {
		name  string
		edit  func(d *Draft)
		field string
	}{
		{"CRLF in Subject", func(d *Draft) { d.Subject = "hi\r\nBcc: victim@example.com" }, "Subject"},
		{"LF in Subject", func(d *Draft) { d.Subject = "hi\nX-Evil: 1" }, "Subject"},
		{"CR in Subject", func(d *Draft) { d.Subject = "hi\rX-Evil: 1" }, "Subject"},
		{"NUL in Subject", func(d *Draft) { d.Subject = "hi\x00" }, "Subject"},
		{"LF in From name", func(d *Draft) { d.From.Name = "Alice\nBcc: x@example.com" }, "From"},
		{"CRLF in To address", func(d *Draft) { d.To[0].Address = "bob@example.net\r\nBcc: x@example.com" }, "To"},
		{"CRLF in quoted To address", func(d *Draft) { d.To[0].Address = "\"bob\r\nBcc: x\"@example.net" }, "To"},
		{"LF in Cc name", func(d *Draft) { d.Cc = []*mail.Address{addr("C\n", "c@example.org")} }, "Cc"},
		{"CR in Reply-To", func(d *Draft) { d.ReplyTo = []*mail.Address{addr("", "r@example.org\r")} }, "Reply-To"},
		{"LF in Bcc", func(d *Draft) { d.Bcc = []*mail.Address{addr("", "b@example.org\nX: y")} }, "Bcc"},
		{"CRLF in Extra value", func(d *Draft) { d.Extra = []HeaderField{{"X-Tag", "a\r\nBcc: x@example.com"}} }, "Extra[0]"},
		{"folded Extra value", func(d *Draft) { d.Extra = []HeaderField{{"X-Tag", "a\r\n b"}} }, "Extra[0]"},
		{"CRLF in Extra name", func(d *Draft) { d.Extra = []HeaderField{{"X-Ok", "1"}, {"Bcc: x@example.com\r\nX-Tag", "a"}} }, "Extra[1]"},
		{"LF in Message-ID", func(d *Draft) { d.MessageID = "<a@b>\nBcc: x@example.com" }, "Message-ID"},
		{"CR in In-Reply-To", func(d *Draft) { d.InReplyTo = "<a@b>\r" }, "In-Reply-To"},
		{"LF in References", func(d *Draft) { d.References = []string{"<a@b>", "<c@d>\n"} }, "References[1]"},
		{"LF in file name", func(d *Draft) {
			d.Attachments = []Attachment{{Filename: "a.txt\r\nContent-Type: text/html", Data: []byte("x")}}
		}, "Attachments[0].Filename"},
		{"CRLF in content type", func(d *Draft) {
			d.Attachments = []Attachment{{Filename: "a", ContentType: "text/plain\r\nX: y", Data: []byte("x")}}
		}, "Attachments[0].ContentType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := base()
			tt.edit(d)
			out, err := Compose(d, composeOpts(1))
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			if !errors.Is(err, ErrHeaderInjection) {
				t.Errorf("error %v is not ErrHeaderInjection", err)
			}
			var he *HeaderError
			if !errors.As(err, &he) || he.Field != tt.field {
				t.Errorf("error %#v, want a HeaderError for %s", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "message: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestComposeRejectsInvalidDrafts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(d *Draft)
	}{
		{"no From", func(d *Draft) { d.From = nil }},
		{"nil To", func(d *Draft) { d.To = []*mail.Address{nil} }},
		{"address without domain", func(d *Draft) { d.To[0].Address = "bob" }},
		{"empty address", func(d *Draft) { d.To[0].Address = "" }},
		{"address with angle brackets", func(d *Draft) { d.To[0].Address = "<bob@example.net>" }},
		{"non-ascii address", func(d *Draft) { d.To[0].Address = "bøb@example.net" }},
		{"escape in address", func(d *Draft) { d.To[0].Address = "b\x1bob@example.net" }},
		{"invalid UTF-8 name", func(d *Draft) { d.To[0].Name = "B\xffob" }},
		{"invalid UTF-8 subject", func(d *Draft) { d.Subject = "\xff" }},
		{"invalid UTF-8 text", func(d *Draft) { d.Text = "\xff" }},
		{"invalid UTF-8 html", func(d *Draft) { d.HTML = "\xff" }},
		{"invalid UTF-8 file name", func(d *Draft) { d.Attachments = []Attachment{{Filename: "\xff"}} }},
		{"Message-ID without @", func(d *Draft) { d.MessageID = "<nothing>" }},
		{"Message-ID with space", func(d *Draft) { d.MessageID = "a b@example.org" }},
		{"Reference without @", func(d *Draft) { d.References = []string{"x"} }},
		{"Extra From", func(d *Draft) { d.Extra = []HeaderField{{"from", "mallory@example.com"}} }},
		{"Extra Bcc", func(d *Draft) { d.Extra = []HeaderField{{"Bcc", "x@example.com"}} }},
		{"Extra Content-Type", func(d *Draft) { d.Extra = []HeaderField{{"Content-Type", "text/html"}} }},
		{"Extra MIME-Version", func(d *Draft) { d.Extra = []HeaderField{{"MIME-Version", "2.0"}} }},
		{"Extra name with space", func(d *Draft) { d.Extra = []HeaderField{{"X Tag", "a"}} }},
		{"Extra name with colon", func(d *Draft) { d.Extra = []HeaderField{{"X-Tag:", "a"}} }},
		{"Extra empty name", func(d *Draft) { d.Extra = []HeaderField{{"", "a"}} }},
		{"Extra non-ascii value", func(d *Draft) { d.Extra = []HeaderField{{"X-Tag", "ä"}} }},
		{"Extra escape in value", func(d *Draft) { d.Extra = []HeaderField{{"X-Tag", "\x1b[2J"}} }},
		{"Extra unfoldable value", func(d *Draft) { d.Extra = []HeaderField{{"X-Tag", strings.Repeat("a", 1000)}} }},
		{"Date before 1900", func(d *Draft) { d.Date = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) }},
		{"multipart attachment", func(d *Draft) {
			d.Attachments = []Attachment{{Filename: "a", ContentType: "multipart/mixed; boundary=x"}}
		}},
		{"bad content type", func(d *Draft) { d.Attachments = []Attachment{{Filename: "a", ContentType: "text/"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &Draft{From: addr("Alice", "alice@example.org"), To: []*mail.Address{addr("Bob", "bob@example.net")}, Text: "x"}
			tt.edit(d)
			out, err := Compose(d, composeOpts(1))
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			if !strings.HasPrefix(err.Error(), "message: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if errors.Is(err, ErrHeaderInjection) {
				t.Errorf("%v reported as header injection", err)
			}
		})
	}
	if _, err := Compose(nil, nil); err == nil {
		t.Errorf("nil draft accepted")
	}
}

func TestNewMessageID(t *testing.T) {
	t.Parallel()
	id, err := NewMessageID(bytes.NewReader(make([]byte, 16)), "example.org")
	if err != nil || id != "<"+strings.Repeat("a", 26)+"@example.org>" {
		t.Errorf("NewMessageID = %q, %v", id, err)
	}
	a, _ := NewMessageID(nil, "[192.0.2.1]")
	b, _ := NewMessageID(nil, "[192.0.2.1]")
	if a == b || !strings.HasSuffix(a, "@[192.0.2.1]>") {
		t.Errorf("crypto/rand Message-IDs %q, %q", a, b)
	}
	for _, domain := range []string{"", "a..b", ".a", "a b", "a\r\nb", "a>b", "[a", "é.example"} {
		if id, err := NewMessageID(nil, domain); err == nil {
			t.Errorf("domain %q accepted: %q", domain, id)
		}
	}
	if _, err := NewMessageID(bytes.NewReader(make([]byte, 15)), "example.org"); err == nil {
		t.Errorf("short random source accepted")
	}
}

func TestEncodeHeaderValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value, want string }{
		{"Subject", "", ""},
		{"Subject", "Hello, world", "Hello, world"},
		{"Subject", "tab\tand  spaces", "tab\tand  spaces"},
		{"Subject", "Re: " + strings.Repeat("word ", 20) + "end",
			"Re: word word word word word word word word word word word word word\r\n word word word word word word word end"},
		{"Subject", "Café au lait", "=?utf-8?q?Caf=C3=A9?= au lait"},
		{"Subject", "Re: Ça va très bien", "Re: =?utf-8?q?=C3=87a_va_tr=C3=A8s?= bien"},
		{"Subject", "Grüße", "=?utf-8?q?Gr=C3=BC=C3=9Fe?="},
		{"Subject", "Größenübersicht für März", "=?utf-8?b?R3LDtsOfZW7DvGJlcnNpY2h0IGbDvHIgTcOkcno=?="}, // B: clearly shorter
		{"Subject", "你好", "=?utf-8?b?5L2g5aW9?="},
		{"Subject", " leading space", "=?utf-8?q?_leading?= space"},
		{"Subject", "trailing space ", "trailing =?utf-8?q?space_?="},
		{"Subject", " ", "=?utf-8?q?_?="},
		{"Subject", "looks =?utf-8?q?encoded?=", "looks =?utf-8?q?=3D=3Futf-8=3Fq=3Fencoded=3F=3D?="},
		{"Subject", "not =? encoded", "not =?utf-8?q?=3D=3F?= encoded"},
		{"Subject", "two\r\nlines", "=?utf-8?q?two=0D=0Alines?="},
		{"Subject", "esc\x1b[2J", "=?utf-8?q?esc=1B=5B2J?="},
		{"Subject", "a " + strings.Repeat("x", 100) + " b", "a\r\n " + strings.Repeat("x", 100) + "\r\n b"},
	}
	for _, tt := range tests {
		got := EncodeHeaderValue(tt.name, tt.value)
		if got != tt.want {
			t.Errorf("EncodeHeaderValue(%q, %q)\n got %q\nwant %q", tt.name, tt.value, got, tt.want)
		}
		requireEncodedHeader(t, tt.name, tt.value, got)
	}
	// A word too long for any line is encoded, and so split.
	long := strings.Repeat("y", 1000)
	got := EncodeHeaderValue("Subject", long)
	if !strings.HasPrefix(got, "=?utf-8?q?") {
		t.Errorf("a 1000-octet word stays plain: %.40q", got)
	}
	requireEncodedHeader(t, "Subject", long, got)
}

// requireEncodedHeader checks the invariants of EncodeHeaderValue: the
// result is printable ASCII in lines joined by folds (CRLF then space or
// tab), lines are at most 78 octets unless one word cannot be split (and
// never over 998), and unfolding then decoding gives the value back.
func requireEncodedHeader(t testing.TB, name, value, got string) {
	t.Helper()
	lines := strings.Split(got, "\r\n")
	for i, line := range lines {
		if i > 0 && (line == "" || !isHeaderSpace(line[0])) {
			t.Fatalf("line break not followed by whitespace in %q", got)
		}
		if strings.TrimLeft(line, " \t") == "" && (i > 0 || line != "") {
			t.Fatalf("blank line %d in %q", i, got)
		}
		for j := 0; j < len(line); j++ {
			if c := line[j]; (c < ' ' || c > '~') && c != '\t' {
				t.Fatalf("octet %#x in %q", c, got)
			}
		}
		n := len(line)
		if i == 0 {
			n += len(name) + 2
		}
		if len(name) > 40 {
			continue // a long field name leaves no room: nothing is promised
		}
		if n > 998 {
			t.Fatalf("line %d has %d octets", i, n)
		}
		if n > 78 && strings.ContainsAny(strings.TrimLeft(line, " \t"), " \t") {
			t.Fatalf("line %d has %d octets and could have been folded: %q", i, n, got)
		}
	}
	unfolded := strings.ReplaceAll(got, "\r\n", "")
	if strings.TrimSpace(unfolded) != unfolded {
		t.Fatalf("%q has whitespace a reader strips", unfolded)
	}
	if utf8.ValidString(value) {
		if back := DecodeText(unfolded); back != value {
			t.Fatalf("EncodeHeaderValue(%q, %q) = %q decodes to %q", name, value, got, back)
		}
	}
}

var encodeHeaderValueSeeds = []struct{ name, value string }{
	{"Subject", ""},
	{"Subject", "Hello"},
	{"Subject", "Re: Fwd: [list] " + strings.Repeat("long words ", 12)},
	{"Subject", "Grüße aus Köln — " + strings.Repeat("ä", 80)},
	{"Subject", "日本語の件名" + strings.Repeat("、長い", 30)},
	{"Subject", "emoji 😀🎉 and combining e\u0301"},
	{"Subject", "  spaces  around  "},
	{"Subject", "=?utf-8?q?not_encoded?= really"},
	{"Subject", "a\r\nBcc: victim@example.com"},
	{"Subject", "\x00\x1b[31m\u202e\u0085"},
	{"Subject", "\t"},
	{"Subject", strings.Repeat("x", 990)},
	{"Subject", strings.Repeat("x", 80) + " " + strings.Repeat("y", 80)},
	{"Comments", "_?=_=?="},
	{"X-A-Rather-Long-Field-Name-For-Testing", "value with ü"},
	{"Subject", "inva\xfflid"},
	{"Subject", strings.Repeat(`x\ `, 40) + "x"},
}

func TestEncodeHeaderValueSeedsNotEmpty(t *testing.T) {
	if len(encodeHeaderValueSeeds) == 0 {
		t.Fatal("no seeds for FuzzEncodeHeaderValue")
	}
	for _, s := range encodeHeaderValueSeeds {
		requireEncodedHeader(t, s.name, s.value, EncodeHeaderValue(s.name, s.value))
	}
}

func FuzzEncodeHeaderValue(f *testing.F) {
	for _, s := range encodeHeaderValueSeeds {
		f.Add(s.name, s.value)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		requireEncodedHeader(t, name, value, EncodeHeaderValue(name, value))
	})
}

// composeGoldenDrafts are written to testdata/compose/NAME.eml (go test
// -run ComposeGolden -update rewrites them).
var composeGoldenDrafts = map[string]*Draft{
	"plain": {
		From: addr("Alice", "alice@example.org"), To: []*mail.Address{addr("Bob", "bob@example.net")},
		Subject: "Lunch?", Text: "Shall we have lunch at noon?\n\n-- \nAlice\n",
	},
	"utf8-reply": {
		From: addr("Jörg Müller", "joerg@example.de"), To: []*mail.Address{addr("Zoë", "zoe@example.fr")},
		Cc: []*mail.Address{addr("", "list@example.org")}, Subject: "Re: Grüße aus Köln — Ausflug am Wochenende",
		InReplyTo: "<1@example.fr>", References: []string{"<0@example.fr>", "<1@example.fr>"},
		Text: "Hallo Zoë,\n\nFrom Köln mit Grüßen; das Wetter ist schön und die Zeilen sind lang, länger als achtundsiebzig Zeichen.\n> zitiert   \n",
	},
	"alternative-attachments": {
		From: addr("Alice", "alice@example.org"), To: []*mail.Address{addr("Bob", "bob@example.net")},
		Subject: "Fotos", Text: "Siehe Anhang.\n", HTML: "<p>Siehe <b>Anhang</b>.</p>\n",
		Attachments: []Attachment{
			{Filename: "Übersicht – März.pdf", Data: []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")},
			{Filename: "notes.txt", Data: []byte("line one\r\nline two\r\n")},
			{Filename: "logo.png", Data: []byte("\x89PNG\r\n\x1a\n"), Inline: true},
		},
	},
}

func TestComposeGolden(t *testing.T) {
	t.Parallel()
	for name, d := range composeGoldenDrafts {
		t.Run(name, func(t *testing.T) {
			raw, err := Compose(d, composeOpts(42))
			if err != nil {
				t.Fatal(err)
			}
			requireTransportSafe(t, raw)
			golden := filepath.Join("testdata", "compose", name+".eml")
			if composeUpdating() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run ComposeGolden -update writes it)", err)
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("differs from %s (go test -run ComposeGolden -update rewrites it):\n--- got\n%s--- want\n%s", golden, raw, want)
			}
		})
	}
}

// TestComposeInteropPython reads the golden messages with Python's email
// package, an independent MIME implementation, and checks that it finds
// the subject, the addresses, the text, and each attachment's name and
// bytes. It is skipped where python3 is not installed, except in CI,
// where a missing peer is a failure.
func TestComposeInteropPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not installed")
	}
	const script = `
import sys, email, email.policy, hashlib, json
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
out = {"subject": str(msg["subject"]), "from": str(msg["from"]), "to": str(msg["to"]), "defects": [], "parts": []}
for part in msg.walk():
    out["defects"] += [repr(d) for d in part.defects]
    for f in part.keys():
        out["defects"] += [repr(d) for d in getattr(part[f], "defects", [])]
    if part.is_multipart():
        continue
    payload = part.get_payload(decode=True)
    out["parts"].append({"type": part.get_content_type(), "filename": part.get_filename(),
                         "sha256": hashlib.sha256(payload).hexdigest(),
                         "text": part.get_content() if part.get_content_maintype() == "text" else None})
print(json.dumps(out))
`
	for name, d := range composeGoldenDrafts {
		t.Run(name, func(t *testing.T) {
			raw, err := Compose(d, composeOpts(42))
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "m.eml")
			if err := os.WriteFile(file, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(py, "-c", script, file).Output()
			if err != nil {
				t.Fatalf("python3: %v", err)
			}
			var got struct {
				Subject, From, To string
				Defects           []string
				Parts             []struct {
					Type, Sha256 string
					Filename     *string
					Text         *string
				}
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Subject != d.Subject {
				t.Errorf("python subject %q, want %q", got.Subject, d.Subject)
			}
			if want := d.From.Name + " <" + d.From.Address + ">"; got.From != want {
				t.Errorf("python From %q, want %q", got.From, want)
			}
			if len(got.Defects) > 0 {
				t.Errorf("python finds defects: %v", got.Defects)
			}
			texts := []string{d.Text}
			if d.HTML != "" {
				texts = append(texts, d.HTML)
			}
			if len(got.Parts) != len(texts)+len(d.Attachments) {
				t.Fatalf("python finds %d parts", len(got.Parts))
			}
			for i, want := range texts {
				// Line ends compared as LF: Python may give either.
				lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
				if p := got.Parts[i]; p.Text == nil || lf(*p.Text) != lf(want) {
					t.Errorf("python text %d: %v, want %q", i, p.Text, want)
				}
			}
			for i, a := range d.Attachments {
				p := got.Parts[len(texts)+i]
				if p.Filename == nil || *p.Filename != a.Filename {
					t.Errorf("python filename %v, want %q", p.Filename, a.Filename)
				}
				// Python gives 7bit text with LF line ends.
				lfData := bytes.ReplaceAll(a.Data, []byte("\r\n"), []byte("\n"))
				if p.Sha256 != fmt.Sprintf("%x", sha256.Sum256(a.Data)) && (!strings.HasPrefix(p.Type, "text/") || p.Sha256 != fmt.Sprintf("%x", sha256.Sum256(lfData))) {
					t.Errorf("python: attachment %q has other bytes", a.Filename)
				}
			}
		})
	}
}

func ExampleCompose() {
	d := &Draft{
		From:      &mail.Address{Name: "Alice", Address: "alice@example.org"},
		To:        []*mail.Address{{Name: "Bob", Address: "bob@example.net"}},
		Bcc:       []*mail.Address{{Address: "archive@example.org"}},
		Subject:   "Grüße",
		Date:      time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		MessageID: "example-1@example.org",
		Text:      "Hi Bob,\nthe report is attached.\n",
		Attachments: []Attachment{
			{Filename: "Bericht März.pdf", Data: []byte("%PDF-1.7")},
		},
	}
	// A fixed clock and random source make the output reproducible; nil
	// options use time.Now and crypto/rand.
	opts := &ComposeOptions{Rand: strings.NewReader("not random at all, for the example")}
	raw, err := Compose(d, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(raw), "\r\n", "\n"))
	// Output:
	// From: "Alice" <alice@example.org>
	// To: "Bob" <bob@example.net>
	// Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
	// Date: Fri, 14 Mar 2025 15:09:26 +0000
	// Message-ID: <example-1@example.org>
	// MIME-Version: 1.0
	// Content-Type: multipart/mixed; boundary="=_NZXXIIDSMFXGI33NEBQXIIDB"
	//
	// --=_NZXXIIDSMFXGI33NEBQXIIDB
	// Content-Type: text/plain; charset=us-ascii
	// Content-Transfer-Encoding: 7bit
	//
	// Hi Bob,
	// the report is attached.
	//
	// --=_NZXXIIDSMFXGI33NEBQXIIDB
	// Content-Type: application/pdf; name*=utf-8''Bericht%20M%C3%A4rz.pdf
	// Content-Transfer-Encoding: base64
	// Content-Disposition: attachment; filename*=utf-8''Bericht%20M%C3%A4rz.pdf
	//
	// JVBERi0xLjc=
	//
	// --=_NZXXIIDSMFXGI33NEBQXIIDB--
}

var composeRoundTripSeeds = []struct {
	subject, name, text, html, filename string
	data                                []byte
}{
	{"", "", "", "", "", nil},
	{"Hello", "Alice", "Hi.\n", "", "a.txt", []byte("x\r\n")},
	{"Grüße", "Jörg Müller", "From here\nspaces  \n\tтекст\r\n", "<p>é</p>", "Übersicht.pdf", []byte{0, 1, 2, 0xff}},
	{"日本語", "山田", strings.Repeat("長い行", 200), "", strings.Repeat("名前", 50) + ".png", bytes.Repeat([]byte{0x89}, 500)},
	{" =?x?q?y?= ", "\"quoted\" \\ name", strings.Repeat("=", 100) + "\r" + strings.Repeat(" ", 80) + "\n.", "--=_", `a"b\c.bin`, []byte("From \r\n")},
	{"s", "A Rather Long Display Name With Many Words In It That Keeps Going", "t", "", "", nil},
	{"", strings.Repeat("0", 71), "0", "0", "0", []byte("0")}, // a name too long for a line, with nowhere to fold
	{"", `a\ b\` + strings.Repeat(" x", 40), "", "", "", nil},
	{"x", "", strings.Repeat("a", 75) + " \n" + strings.Repeat("b", 74) + "=\n" + strings.Repeat("c", 75) + "From ", "", "t.txt", []byte(strings.Repeat("d", 75) + "From \r\n")},
}

func TestComposeRoundTripSeedsNotEmpty(t *testing.T) {
	if len(composeRoundTripSeeds) == 0 {
		t.Fatal("no seeds for FuzzComposeRoundTrip")
	}
}

// FuzzComposeRoundTrip composes a message from arbitrary strings and
// checks that it is transport-safe and that Parse gives every piece back:
// Compose either refuses the draft or writes it faithfully.
func FuzzComposeRoundTrip(f *testing.F) {
	for _, s := range composeRoundTripSeeds {
		f.Add(s.subject, s.name, s.text, s.html, s.filename, s.data)
	}
	f.Fuzz(func(t *testing.T, subject, name, text, html, filename string, data []byte) {
		d := &Draft{
			From:    addr(name, "alice@example.org"),
			To:      []*mail.Address{addr(name, "bob@example.net")},
			Subject: subject, Text: text, HTML: html,
			Attachments: []Attachment{{Filename: filename, Data: data}},
		}
		raw, err := Compose(d, composeOpts(1))
		if err != nil {
			var he *HeaderError
			if !errors.As(err, &he) && !strings.Contains(err.Error(), "not valid UTF-8") {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		requireTransportSafe(t, raw)
		m, err := Parse(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Root.Header
		if got := DecodeText(h.Get("Subject")); got != subject {
			t.Fatalf("Subject %q, want %q", got, subject)
		}
		if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Name != name {
			t.Fatalf("From %v, %v; want name %q", from, err, name)
		}
		leaves := composeLeaves(m.Root)
		for _, p := range leaves {
			for _, line := range bytes.Split(m.Body(p), []byte("\r\n")) {
				if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "7bit" && len(line) > 76 {
					t.Fatalf("%s line of %d octets", cte, len(line))
				}
			}
		}
		texts := []string{text}
		switch {
		case html != "" && text != "":
			texts = append(texts, html)
		case html != "":
			texts = []string{html}
		}
		if len(leaves) != len(texts)+1 {
			t.Fatalf("%d leaves", len(leaves))
		}
		for i, want := range texts {
			if got, err := m.Text(leaves[i]); err != nil || got != string(canonicalLines(want)) {
				t.Fatalf("text %d: %q, %v; want %q", i, got, err, canonicalLines(want))
			}
		}
		att := leaves[len(texts)]
		if got := att.Filename(); got != filename && !strings.Contains(filename, "=?") {
			t.Fatalf("Filename %q, want %q", got, filename)
		}
		if got, err := m.TransferDecode(att); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("data %q, %v; want %q", got, err, data)
		}
	})
}
