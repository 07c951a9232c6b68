package message

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRenderTextPlain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ mediaType, body, want string }{
		{"text/plain", "", ""},
		{"text/plain", "Hi,\r\n\r\nsee you.\r\n", "Hi,\n\nsee you.\n"},
		{"text/plain", "no final newline", "no final newline\n"},
		{"", "default type (RFC 2045)", "default type (RFC 2045)\n"},
		{"Text/PLAIN", "case", "case\n"},
		{"text/plain", "tab\tkept\x1b[31m", "tab\tkept\\u001b[31m\n"},
	} {
		r, err := RenderText(c.mediaType, nil, []byte(c.body), nil)
		if err != nil || r.Kind != RenderedPlain || r.Text != c.want {
			t.Errorf("RenderText(%q, %q) = %v %q, %v; want plain %q", c.mediaType, c.body, r.Kind, r.Text, err, c.want)
		}
	}
}

// TestRenderTextFlowed follows RFC 3676's rules for format=flowed.
func TestRenderTextFlowed(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, delsp, body, want string
	}{
		{"soft breaks joined (§4.1)", "", "This is a \r\nflowed paragraph.\r\nFixed line.\r\n", "This is a flowed paragraph.\nFixed line.\n"},
		{"DelSp=yes (§4.2)", "yes", "Donau\r\ndampf \r\nschiff\r\n", "Donau\ndampfschiff\n"},
		{"signature separator on its own line (§4.3)", "", "Bye \r\n-- \r\nBob\r\n", "Bye \n-- \nBob\n"},
		{"space-stuffing removed (§4.4)", "", " From the start\r\n >not a quote\r\n  two spaces\r\n", "From the start\n>not a quote\n two spaces\n"},
		{"quoted paragraphs (§4.5)", "", "> quoted \r\n> more\r\nreply\r\n", "> quoted more\nreply\n"},
		{"quote depth change ends a paragraph (§4.5)", "", ">> deep \r\n> shallow\r\n", ">> deep \n> shallow\n"},
		{"blank quoted line", "", "> a\r\n>\r\n> b\r\n", "> a\n>\n> b\n"},
		{"flowed last line", "", "end \r\n", "end \n"},
		{"LF only", "", "one \ntwo\n", "one two\n"},
		{"no newline at the end", "", "a \r\nb", "a b\n"},
		{"empty", "", "", ""},
	} {
		params := map[string]string{"format": "Flowed", "delsp": c.delsp, "charset": "utf-8"}
		r, err := RenderText("text/plain", params, []byte(c.body), nil)
		if err != nil || r.Text != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, r.Text, err, c.want)
		}
	}
}

func TestRenderTextHTML(t *testing.T) {
	t.Parallel()
	body := []byte(`<p>Hello <a href="https://x.example/">there</a></p>`)
	r, err := RenderText("text/html", map[string]string{"charset": "utf-8"}, body, nil)
	if err != nil || r.Kind != RenderedHTML || r.Text != "Hello there [1]\n\nLinks:\n[1] https://x.example/\n" {
		t.Errorf("got %v %q, %v", r.Kind, r.Text, err)
	}

	// Content without integrity protection (S05): HTML is not rendered.
	r, err = RenderText("text/html", nil, body, &RenderOptions{NoHTML: true})
	if err != nil || r.Kind != RenderedAttachment || r.Text != "[attachment: text/html]\n" {
		t.Errorf("NoHTML: got %v %q, %v", r.Kind, r.Text, err)
	}

	_, err = RenderText("text/html", nil, []byte("<div><div><div>x"), &RenderOptions{HTML: &HTMLOptions{MaxDepth: 2}})
	var le *LimitError
	if !errors.As(err, &le) || le.What != "html depth" {
		t.Errorf("limit: err = %v", err)
	}
}

func TestRenderTextOtherTypes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ mediaType, want string }{
		{"application/pdf", "[attachment: application/pdf]\n"},
		{"text/enriched", "[attachment: text/enriched]\n"},
		{"IMAGE/PNG", "[attachment: image/png]\n"},
		{"x/\x1b[2J\nfake", "[attachment: x/\\u001b[2j\\u000afake]\n"},
	} {
		r, err := RenderText(c.mediaType, nil, []byte("%PDF-1.7 \x1b[2J"), nil)
		if err != nil || r.Kind != RenderedAttachment || r.Text != c.want {
			t.Errorf("RenderText(%q) = %v %q, %v; want %q", c.mediaType, r.Kind, r.Text, err, c.want)
		}
	}
}

func TestRenderedKindString(t *testing.T) {
	t.Parallel()
	got := fmt.Sprint(RenderedPlain, RenderedHTML, RenderedAttachment, RenderedKind(0))
	if want := "plain html attachment unknown"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func ExampleRenderText() {
	body := "> Can we meet on \r\n> Thursday?\r\nYes, at 10. \r\nSee you then.\r\n-- \r\nBob\r\n"
	r, err := RenderText("text/plain", map[string]string{"format": "flowed"}, []byte(body), nil)
	if err != nil {
		panic(err)
	}
	fmt.Print(strings.ReplaceAll(r.Text, " \n", "␠\n"))
	// Output:
	// > Can we meet on Thursday?
	// Yes, at 10. See you then.
	// --␠
	// Bob
}
