package message

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// outline describes a parsed tree: one line per part with its type, the
// exact bytes of its header and body (quoted), and its problems.
func outline(m *Message) string {
	var b strings.Builder
	m.Root.Walk(func(p *Part) bool {
		fmt.Fprintf(&b, "%s%s %v\n", strings.Repeat("  ", p.Depth), p.MediaType, p.Params)
		fmt.Fprintf(&b, "%s  header %q\n", strings.Repeat("  ", p.Depth), m.Raw[p.Start:p.HeaderEnd])
		if !p.IsMultipart() && len(p.Children) == 0 {
			fmt.Fprintf(&b, "%s  body %q\n", strings.Repeat("  ", p.Depth), m.Body(p))
		}
		for _, pr := range p.Problems {
			fmt.Fprintf(&b, "%s  problem: %s\n", strings.Repeat("  ", p.Depth), pr)
		}
		return true
	})
	return b.String()
}

// checkRanges verifies the structural invariants of a tree: ranges inside
// Raw and ordered, children inside their parent's body and in order.
func checkRanges(t testing.TB, m *Message) {
	t.Helper()
	m.Root.Walk(func(p *Part) bool {
		if !(0 <= p.Start && p.Start <= p.HeaderEnd && p.HeaderEnd <= p.BodyStart && p.BodyStart <= p.End && p.End <= len(m.Raw)) {
			t.Fatalf("bad ranges %d %d %d %d (len %d)", p.Start, p.HeaderEnd, p.BodyStart, p.End, len(m.Raw))
		}
		last := p.BodyStart
		for _, c := range p.Children {
			if c.Start < last || c.End > p.End || c.Parent != p {
				t.Fatalf("child %d..%d outside parent body %d..%d", c.Start, c.End, last, p.End)
			}
			last = c.End
		}
		return true
	})
}

func TestParseGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/parse/*.eml")
	if len(files) == 0 {
		t.Fatal("no test messages")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkRanges(t, m)
			got := outline(m)
			golden := strings.TrimSuffix(f, ".eml") + ".tree"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Fatalf("tree differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestParseCanonicalizesLF(t *testing.T) {
	m, err := Parse([]byte("From: a@example.org\nSubject: x\n\nline1\nline2\r\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Raw) != "From: a@example.org\r\nSubject: x\r\n\r\nline1\r\nline2\r\n" {
		t.Fatalf("%q", m.Raw)
	}
	crlf := []byte("From: a@example.org\r\n\r\nbody\r\n")
	m, _ = Parse(crlf, nil)
	if &m.Raw[0] != &crlf[0] {
		t.Fatal("canonical input was copied")
	}
}

// TestSignedPartBytes checks the exact bytes a multipart/signed signature
// covers (RFC 3156 §5): the first part's header and body, without the CRLF
// that belongs to the next delimiter.
func TestSignedPartBytes(t *testing.T) {
	raw := "From: a@example.org\r\n" +
		"Content-Type: multipart/signed; boundary=\"sig\"; protocol=\"application/pgp-signature\"; micalg=pgp-sha256\r\n" +
		"\r\n" +
		"This is a preamble.\r\n" +
		"--sig\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Signed text.\r\n" +
		"  trailing spaces stay  \r\n" +
		"\r\n" +
		"--sig  \r\n" +
		"Content-Type: application/pgp-signature\r\n" +
		"\r\n" +
		"-----BEGIN PGP SIGNATURE-----\r\n" +
		"--sig--\r\n" +
		"epilogue\r\n"
	m, err := Parse([]byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Root.Children) != 2 {
		t.Fatalf("%d parts", len(m.Root.Children))
	}
	want := "Content-Type: text/plain; charset=utf-8\r\n\r\nSigned text.\r\n  trailing spaces stay  \r\n"
	if got := string(m.Bytes(m.Root.Children[0])); got != want {
		t.Fatalf("signed bytes:\n%q\nwant\n%q", got, want)
	}
	if got := string(m.Body(m.Root.Children[1])); got != "-----BEGIN PGP SIGNATURE-----" {
		t.Fatalf("signature part: %q", got)
	}
}

func TestParseBoundaryPrefixIsNotADelimiter(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--bb\r\nstill one\r\n--b--\r\n"
	m, err := Parse([]byte("From: x@example.org\r\n"+raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Root.Children) != 1 || string(m.Body(m.Root.Children[0])) != "one\r\n--bb\r\nstill one" {
		t.Fatalf("%s", outline(m))
	}
}

func TestParseLimits(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From: deep@example.org\r\n")
	const depth = 10000
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("\r\nleaf\r\n")
	var le *LimitError
	if _, err := Parse(b.Bytes(), nil); !errors.As(err, &le) || le.What != "depth" {
		t.Fatalf("10,000-deep nesting: %v", err)
	}
	big := "From: a@example.org\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\nbody\r\n"
	if _, err := Parse([]byte(big), nil); !errors.As(err, &le) || le.What != "header size" {
		t.Fatalf("2 MiB header: %v", err)
	}
	if _, err := Parse([]byte(big), &ParseOptions{MaxSize: 1 << 20}); !errors.As(err, &le) || le.What != "size" {
		t.Fatalf("size: %v", err)
	}
	var parts bytes.Buffer
	parts.WriteString("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n")
	for i := 0; i < 20000; i++ {
		parts.WriteString("--p\r\n\r\nx\r\n")
	}
	if _, err := Parse(parts.Bytes(), nil); !errors.As(err, &le) || le.What != "parts" {
		t.Fatalf("20,000 parts: %v", err)
	}
	for _, bad := range []string{"", "no header here\r\n", "\r\nbody only", ": empty name\r\n"} {
		if _, err := Parse([]byte(bad), nil); !errors.Is(err, ErrNoHeader) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestHeaderDuplicatesAndFolding(t *testing.T) {
	m, err := Parse([]byte("From: a@example.org\r\nFrom: b@example.org\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n folded\r\nnot a field line\r\n\r\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := m.Root.Header
	if h.Count("from") != 2 || h.Values("FROM")[1] != "b@example.org" {
		t.Fatalf("%+v", h)
	}
	if got := DecodeText(h.Get("Subject")); got != "café folded" {
		t.Fatalf("subject %q", got)
	}
	f := h.Fields[2]
	if string(m.Raw[f.Start:f.End]) != "Subject: =?utf-8?q?caf=C3=A9?=\r\n folded\r\n" {
		t.Fatalf("field bytes %q", m.Raw[f.Start:f.End])
	}
}

func TestDecodeBodies(t *testing.T) {
	raw := "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" +
		"--x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 =\r\nsoft\r\n" +
		"--x\r\nContent-Type: application/octet-stream; name=\"=?utf-8?b?w6kucGRm?=\"\r\nContent-Disposition: attachment; filename*=utf-8''%C3%A9t%C3%A9.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n" +
		"--x--\r\n"
	m, err := Parse([]byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := m.Text(m.Root.Children[0])
	if err != nil || txt != "café soft" {
		t.Fatalf("%q %v", txt, err)
	}
	att := m.Root.Children[1]
	data, err := m.TransferDecode(att)
	if err != nil || string(data) != "hello" {
		t.Fatalf("%q %v", data, err)
	}
	if att.Filename() != "été.pdf" || att.Disposition() != "attachment" {
		t.Fatalf("filename %q", att.Filename())
	}
}

// FuzzParse: no input panics, and every tree keeps its invariants.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, &ParseOptions{MaxDepth: 16, MaxParts: 200})
		if err != nil {
			return
		}
		checkRanges(t, m)
		m.Root.Walk(func(p *Part) bool {
			m.TransferDecode(p)
			m.Text(p)
			p.Filename()
			return true
		})
	})
}

func parseSeeds(t testing.TB) [][]byte {
	files, _ := filepath.Glob("testdata/parse/*.eml")
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestParseSeedsNotEmpty(t *testing.T) {
	if len(parseSeeds(t)) < 5 {
		t.Fatal("the fuzz seed corpus is (nearly) empty")
	}
}
