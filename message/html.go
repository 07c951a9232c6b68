package message

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Default limits of HTMLToText.
const (
	htmlDefaultMaxSize  = 8 << 20
	htmlDefaultMaxDepth = 512

	// htmlMaxPrefix caps the quote markers and list indentation levels
	// written before a line, so that deep nesting cannot multiply the
	// size of the output.
	htmlMaxPrefix = 10
	// htmlMaxURL caps a URL in the list of links (a data: URL can be
	// megabytes long).
	htmlMaxURL = 2048
)

// HTMLOptions bound the work of HTMLToText. A nil *HTMLOptions, or a zero
// field, means the default. There is deliberately nothing else to set: no
// fetcher, resolver, base URL or callback, because the converter never
// loads anything (S07).
type HTMLOptions struct {
	MaxSize  int // HTML read, bytes (default 8 MiB)
	MaxDepth int // elements open at once (default 512)
}

func (o *HTMLOptions) limits() (maxSize, maxDepth int) {
	maxSize, maxDepth = htmlDefaultMaxSize, htmlDefaultMaxDepth
	if o != nil {
		if o.MaxSize > 0 {
			maxSize = o.MaxSize
		}
		if o.MaxDepth > 0 {
			maxDepth = o.MaxDepth
		}
	}
	return maxSize, maxDepth
}

// HTMLToText converts an HTML body to text a person can read in a terminal.
// It reads r as UTF-8 (the caller has decoded the charset) and returns text
// that has been through [SafeText], ending in a newline unless empty.
//
// The layout: block elements start new lines and paragraphs are separated
// by a blank line; headings are marked "# ", "## "…; list items "- " or
// "1. ", nested lists indented; blockquotes prefixed "> "; <pre> kept as
// is; table rows on lines of their own with cells separated by " | " (empty
// layout cells leave no separator); <br> breaks the line; entities are
// decoded. A link is shown as "text [n]" with the numbered URLs listed at
// the end, the URL as written in href (without the tabs and newlines a
// browser would drop, escaped by [SafeLine], cut after 2 KiB), so the user
// sees where it really goes; a link whose text is its URL is shown once,
// without a number. An image is "[image: alt]", or "[image]" without alt,
// or nothing with alt="" (decorative: spacers, tracking pixels); an
// iframe, object, embed, frame, applet, video or audio element is
// "[iframe]" and so on.
//
// Nothing is ever fetched or opened (S07): no images, style sheets, frames,
// fonts or refreshes; cid: and remote URLs appear only as text. Scripts,
// style sheets, <head> metadata, <title>, <template> and <noscript> are
// dropped. Content hidden by CSS (display:none, font-size:0, white on
// white) or by the hidden attribute is shown, because styles are never
// interpreted: hiding text from the reader is an attack (S21), and
// showing it is the safe failure. An unterminated tag at the end of the
// input, such as the `<img src="http://x/` that opens an EFAIL
// exfiltration (S01), is shown as text: whatever it would have swallowed
// stays visible.
//
// Input larger than MaxSize, nesting deeper than MaxDepth or text more than
// four times MaxSize (through nested quote and list prefixes) is a
// [*LimitError], and nothing else is returned; memory and time stay
// proportional to MaxSize. An error from r is returned wrapped.
func HTMLToText(r io.Reader, opts *HTMLOptions) (string, error) {
	maxSize, maxDepth := opts.limits()
	h := &htmlRenderer{
		maxDepth: maxDepth,
		maxOut:   4 * min(maxSize, math.MaxInt/4),
		open:     make(map[string]int),
	}
	in := &htmlCappedReader{r: r, left: int64(maxSize) + 1}
	z := html.NewTokenizer(in)
	for {
		tt := z.Next()
		raw, dropLF := h.raw, h.preStart
		h.raw, h.preStart = htmlRawNone, false
		switch tt {
		case html.ErrorToken:
			err := z.Err()
			switch {
			case err == io.EOF:
				h.unterminated(z.Raw())
				return h.finish()
			case errors.Is(err, errHTMLTooLarge):
				return "", &LimitError{What: "html size", Limit: maxSize}
			default:
				return "", fmt.Errorf("message: html: %w", err)
			}
		case html.TextToken:
			switch {
			case raw == htmlRawSkip || h.hidden > 0:
			case raw == htmlRawPre:
				h.requestBreak(h.rawBreak)
				h.preText(z.Text(), dropLF)
				h.requestBreak(h.rawBreak)
			case h.pre > 0:
				h.preText(z.Text(), dropLF)
			default:
				h.text(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			if err := h.startTag(z, tt == html.SelfClosingTagToken); err != nil {
				return "", err
			}
		case html.EndTagToken:
			h.endTag(z)
		}
		if len(h.out) > h.maxOut {
			return "", h.outputLimit()
		}
	}
}

var errHTMLTooLarge = errors.New("message: html input too large")

// htmlCappedReader reads at most left-1 bytes of r; reading one more is
// errHTMLTooLarge.
type htmlCappedReader struct {
	r    io.Reader
	left int64
}

func (c *htmlCappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errHTMLTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left <= 0 {
		return n, errHTMLTooLarge
	}
	return n, err
}

// Raw-text elements: the tokenizer returns their content as one text token.
const (
	htmlRawNone = iota
	htmlRawSkip // script, style, title, noscript, noembed, noframes, iframe
	htmlRawPre  // textarea, xmp, plaintext: shown as preformatted text
)

type htmlElement struct {
	name   string
	atom   atom.Atom
	hidden bool // opened inside a <template>: no effect on the output
	bounds htmlBounds
	outer  int // stack index + 1 of the next open element of the same name, 0: none
}

// htmlBounds are the stack indexes (-1: none) of the innermost open
// elements that stop the search for an implied end tag, at or below an
// element: each check is then O(1), not a walk down the stack.
type htmlBounds struct {
	scope int // applet, caption, table, td, th, marquee, object, template, button
	list  int // ul, ol, menu, dir
	dl    int
	table int // table, template
	tr    int
}

var htmlNoBounds = htmlBounds{-1, -1, -1, -1, -1}

type htmlList struct {
	ordered bool
	next    int
}

// htmlRenderer writes text as the tokens arrive. Line breaks are requested
// rather than written (pendingBreak), so that adjacent blocks share one
// blank line and no break is written at the start or the end.
type htmlRenderer struct {
	maxDepth, maxOut int

	stack []htmlElement
	// open holds, by name, the stack index + 1 of the innermost open
	// element (0: none; the others are chained through outer), so that
	// finding what an end tag closes costs O(1).
	open map[string]int

	out          []byte
	pendingBreak int    // newlines owed before the next content (2: a blank line)
	breakQuote   int    // quote depth of the blank lines owed
	pendingSpace bool   // white space seen since the last content
	pendingSep   bool   // a table cell started since the last content
	itemMarker   string // "- ", "1. " or "# " owed to the next line

	raw      int // raw-text kind of the next text token
	rawBreak int
	preStart bool // the next text token directly follows <pre>: drop one leading LF
	hidden   int  // open <template> elements
	pre      int
	quote    int
	lists    []htmlList
	items    int    // open <li> elements
	rows     []bool // for each open <tr>: has it shown content yet
	// cellEmpty: a cell has started and shown nothing yet; the breaks its
	// first blocks ask for are dropped, so that Word's <td><p>…</p></td>
	// stays on the row's line.
	cellEmpty bool

	inLink    bool
	linkHref  string
	linkStart int // offset in out of the link's text, -1 before any
	links     []string
	linkNums  map[string]int
}

func (h *htmlRenderer) outputLimit() error {
	return &LimitError{What: "html output size", Limit: h.maxOut}
}

func (h *htmlRenderer) startTag(z *html.Tokenizer, selfClosing bool) error {
	name, hasAttr := z.TagName()
	a := atom.Lookup(name)
	var attrs htmlAttrs
	// Only links, images and ordered lists have attributes that matter;
	// reading the others would only cost copies.
	hasAttr = hasAttr && (a == atom.A || a == atom.Img || a == atom.Image || a == atom.Ol)
	for hasAttr {
		var key, val []byte
		key, val, hasAttr = z.TagAttr()
		switch string(key) {
		case "href":
			attrs.href = string(val)
		case "alt":
			attrs.alt, attrs.hasAlt = string(val), true
		case "title":
			attrs.title = string(val)
		case "start":
			attrs.start = string(val)
		}
	}
	switch a {
	case atom.Html, atom.Head, atom.Body:
		// Structure only; repeated ones must not add depth.
		return nil
	case atom.Script, atom.Style, atom.Title, atom.Noscript, atom.Noembed, atom.Noframes:
		h.raw = htmlRawSkip
		return nil
	case atom.Iframe:
		h.raw = htmlRawSkip
		if h.hidden == 0 {
			h.placeholder("[iframe]")
		}
		return nil
	case atom.Textarea, atom.Xmp, atom.Plaintext:
		h.raw, h.rawBreak, h.preStart = htmlRawPre, 2, a == atom.Textarea
		if a == atom.Textarea {
			h.rawBreak = 1
		}
		if h.hidden > 0 {
			h.raw = htmlRawSkip
		}
		return nil
	}

	h.closeImplied(a)
	e := htmlElement{name: a.String(), atom: a, hidden: h.hidden > 0}
	if a == 0 {
		e.name = string(name)
	}
	if !e.hidden {
		h.openEffects(a, &attrs)
	}
	if htmlVoid(a) {
		return nil
	}
	if selfClosing {
		// HTML ignores the flag on non-void elements, but SVG and MathML
		// honour it; not opening the element keeps their depth honest.
		if !e.hidden {
			h.closeEffects(e)
		}
		return nil
	}
	if len(h.stack) >= h.maxDepth {
		return &LimitError{What: "html depth", Limit: h.maxDepth}
	}
	if a == atom.Template {
		h.hidden++
	}
	i := len(h.stack)
	e.bounds = h.bounds()
	switch {
	case htmlScopeBoundary(a):
		e.bounds.scope = i
	case a == atom.Ul || a == atom.Ol || a == atom.Menu || a == atom.Dir:
		e.bounds.list = i
	case a == atom.Dl:
		e.bounds.dl = i
	case a == atom.Tr:
		e.bounds.tr = i
	}
	if a == atom.Table || a == atom.Template {
		e.bounds.table = i
	}
	e.outer = h.open[e.name]
	h.stack = append(h.stack, e)
	h.open[e.name] = i + 1
	return nil
}

// bounds are those of the innermost open element.
func (h *htmlRenderer) bounds() htmlBounds {
	if len(h.stack) == 0 {
		return htmlNoBounds
	}
	return h.stack[len(h.stack)-1].bounds
}

// lastOpen is the stack index of the innermost open element named name, or -1.
func (h *htmlRenderer) lastOpen(name string) int { return h.open[name] - 1 }

func (h *htmlRenderer) endTag(z *html.Tokenizer) {
	name, _ := z.TagName()
	i := h.lastOpen(string(name))
	if i < 0 {
		if h.hidden == 0 {
			switch atom.Lookup(name) {
			case atom.Br: // </br> is a <br>
				h.lineBreak()
			case atom.P: // so is a stray </p> a paragraph
				h.requestBreak(2)
			}
		}
		return
	}
	h.popTo(i)
}

// popTo closes the open elements from the top of the stack down to index i.
func (h *htmlRenderer) popTo(i int) {
	for len(h.stack) > i {
		e := h.stack[len(h.stack)-1]
		h.stack = h.stack[:len(h.stack)-1]
		h.open[e.name] = e.outer
		if e.atom == atom.Template {
			h.hidden--
			continue
		}
		if !e.hidden {
			h.closeEffects(e)
		}
	}
}

// closeImplied closes what a start tag of a closes without an end tag, the
// common cases of HTML's tree construction (<p> before a block, <li> before
// <li>, cells and rows): enough for the layout of text, and it keeps
// "<p>one<p>two…" from nesting deeper with every paragraph. An element is
// closed only if it is open above the boundary of its scope (an <li> of an
// outer list stays open when an inner list starts one).
func (h *htmlRenderer) closeImplied(a atom.Atom) {
	b := h.bounds()
	switch {
	case a == atom.Li:
		h.closeAbove(h.lastOpen("li"), max(b.scope, b.list))
	case a == atom.Dt || a == atom.Dd:
		h.closeAbove(max(h.lastOpen("dt"), h.lastOpen("dd")), max(b.scope, b.dl))
	case a == atom.Tbody || a == atom.Thead || a == atom.Tfoot:
		h.closeAbove(max(h.lastOpen("tbody"), h.lastOpen("thead"), h.lastOpen("tfoot")), b.table)
	case a == atom.Tr:
		h.closeAbove(h.lastOpen("tr"), b.table)
	case a == atom.Td || a == atom.Th:
		h.closeAbove(max(h.lastOpen("td"), h.lastOpen("th")), max(b.table, b.tr))
	case a == atom.A:
		h.closeAbove(h.lastOpen("a"), -1)
	case a == atom.Option && h.top() == atom.Option,
		htmlHeading(a) > 0 && htmlHeading(h.top()) > 0:
		h.popTo(len(h.stack) - 1)
	}
	if htmlClosesP(a) {
		h.closeAbove(h.lastOpen("p"), h.bounds().scope)
	}
}

// closeAbove closes the element at stack index i, and all above it, if it
// is open above the boundary index.
func (h *htmlRenderer) closeAbove(i, boundary int) {
	if i >= 0 && i > boundary {
		h.popTo(i)
	}
}

func (h *htmlRenderer) top() atom.Atom {
	if len(h.stack) == 0 {
		return 0
	}
	return h.stack[len(h.stack)-1].atom
}

func htmlScopeBoundary(a atom.Atom) bool {
	switch a {
	case atom.Applet, atom.Caption, atom.Table, atom.Td, atom.Th, atom.Marquee,
		atom.Object, atom.Template, atom.Button:
		return true
	}
	return false
}

func htmlClosesP(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center,
		atom.Details, atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Dd, atom.Dt,
		atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form,
		atom.Header, atom.Hgroup, atom.Hr, atom.Li, atom.Listing, atom.Main,
		atom.Menu, atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Section,
		atom.Summary, atom.Table, atom.Ul:
		return true
	}
	return htmlHeading(a) > 0
}

func htmlHeading(a atom.Atom) int {
	switch a {
	case atom.H1:
		return 1
	case atom.H2:
		return 2
	case atom.H3:
		return 3
	case atom.H4:
		return 4
	case atom.H5:
		return 5
	case atom.H6:
		return 6
	}
	return 0
}

func htmlVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Basefont, atom.Bgsound, atom.Br, atom.Col,
		atom.Embed, atom.Frame, atom.Hr, atom.Image, atom.Img, atom.Input,
		atom.Keygen, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track,
		atom.Wbr:
		return true
	}
	return false
}

// htmlBlockBreak is the break before and after a block element: 2 for a
// blank line, 1 for a line break.
func htmlBlockBreak(a atom.Atom) int {
	switch a {
	case atom.P, atom.Blockquote, atom.Pre, atom.Listing, atom.Dl, atom.Figure, atom.Hr:
		return 2
	case atom.Div, atom.Li, atom.Dt, atom.Dd, atom.Tr, atom.Table, atom.Caption,
		atom.Address, atom.Article, atom.Aside, atom.Center, atom.Details,
		atom.Dialog, atom.Fieldset, atom.Figcaption, atom.Footer, atom.Form,
		atom.Header, atom.Hgroup, atom.Legend, atom.Main, atom.Nav, atom.Section,
		atom.Summary, atom.Option:
		return 1
	}
	if htmlHeading(a) > 0 {
		return 2
	}
	return 0
}

func (h *htmlRenderer) listBreak() int {
	if len(h.lists) > 0 {
		return 1
	}
	return 2
}

// htmlAttrs are the attributes the text depends on; all others, src and
// style among them, are never read.
type htmlAttrs struct {
	href, alt, title, start string
	hasAlt                  bool
}

func (h *htmlRenderer) openEffects(a atom.Atom, attrs *htmlAttrs) {
	switch a {
	case atom.A:
		if u := htmlLinkTarget(attrs.href); u != "" && u[0] != '#' {
			h.inLink, h.linkHref, h.linkStart = true, u, -1
		}
	case atom.Img, atom.Image:
		alt := strings.Join(strings.Fields(attrs.alt), " ")
		if alt == "" {
			alt = strings.Join(strings.Fields(attrs.title), " ")
		}
		switch {
		case alt != "":
			h.placeholder("[image: " + alt + "]")
		case !attrs.hasAlt:
			h.placeholder("[image]")
		}
		// alt="" marks a decorative image (spacers, tracking pixels).
	case atom.Object, atom.Embed, atom.Frame, atom.Applet, atom.Video, atom.Audio:
		h.placeholder("[" + a.String() + "]")
	case atom.Br:
		h.lineBreak()
	case atom.Hr:
		h.requestBreak(2)
		h.word("---")
		h.requestBreak(2)
	case atom.Ul, atom.Ol, atom.Menu, atom.Dir:
		h.requestBreak(h.listBreak())
		l := htmlList{ordered: a == atom.Ol, next: 1}
		if attrs.start != "" {
			if n, err := strconv.Atoi(strings.TrimSpace(attrs.start)); err == nil && n > -1e9 && n < 1e9 {
				l.next = n
			}
		}
		h.lists = append(h.lists, l)
	case atom.Li:
		h.requestBreak(1)
		h.items++
		h.itemMarker = "- "
		if n := len(h.lists); n > 0 && h.lists[n-1].ordered {
			h.itemMarker = strconv.Itoa(h.lists[n-1].next) + ". "
			h.lists[n-1].next++
		}
	case atom.Dd:
		h.requestBreak(1)
		h.itemMarker = "  "
	case atom.Blockquote:
		h.requestBreak(2)
		h.quote++
	case atom.Pre, atom.Listing:
		h.requestBreak(2)
		h.pre++
		h.preStart = true
	case atom.Tr:
		h.requestBreak(1)
		h.rows = append(h.rows, false)
	case atom.Td, atom.Th:
		if n := len(h.rows); n > 0 && h.rows[n-1] {
			// The breaks owed are the previous cell's: this one
			// goes on the same line.
			h.pendingBreak, h.pendingSep = 0, true
		}
		h.cellEmpty = true
	default:
		if l := htmlHeading(a); l > 0 {
			h.requestBreak(2)
			h.itemMarker = strings.Repeat("#", l) + " "
		} else if n := htmlBlockBreak(a); n > 0 {
			h.requestBreak(n)
		}
	}
}

func (h *htmlRenderer) closeEffects(e htmlElement) {
	switch e.atom {
	case atom.A:
		h.finishLink()
	case atom.Ul, atom.Ol, atom.Menu, atom.Dir:
		h.lists = h.lists[:len(h.lists)-1]
		h.requestBreak(h.listBreak())
	case atom.Li:
		h.items--
		h.requestBreak(1)
	case atom.Blockquote:
		h.quote--
		h.requestBreak(2)
	case atom.Pre, atom.Listing:
		h.pre--
		h.requestBreak(2)
	case atom.Tr:
		shown := h.rows[len(h.rows)-1]
		h.rows = h.rows[:len(h.rows)-1]
		if shown {
			// Rows are lines: the blank line a cell's last
			// paragraph asked for is not the table's.
			h.pendingBreak = 0
			if n := len(h.rows); n > 0 {
				h.rows[n-1] = true
			}
		}
		h.cellEmpty = false
		h.requestBreak(1)
	case atom.Td, atom.Th:
		h.cellEmpty = false
	default:
		if n := htmlBlockBreak(e.atom); n > 0 {
			h.requestBreak(n)
		}
	}
}

// requestBreak asks for n newlines (2: a blank line) before the next content.
func (h *htmlRenderer) requestBreak(n int) {
	if h.cellEmpty {
		return
	}
	if h.pendingBreak == 0 || h.quote < h.breakQuote {
		h.breakQuote = h.quote
	}
	h.pendingBreak = max(h.pendingBreak, n)
}

// lineBreak is a <br>: one more newline, up to a blank line.
func (h *htmlRenderer) lineBreak() {
	if h.pendingBreak < 2 {
		h.requestBreak(h.pendingBreak + 1)
	}
}

// beginContent writes what is owed before content: newlines and the next
// line's prefix, or a cell separator, or a space.
func (h *htmlRenderer) beginContent() {
	switch {
	case len(h.out) == 0:
		h.writePrefix()
	case h.pendingBreak > 0:
		h.out = append(h.out, '\n')
		for i := 1; i < h.pendingBreak && len(h.out) <= h.maxOut; i++ {
			h.writeQuote(h.breakQuote, true)
			h.out = append(h.out, '\n')
		}
		h.writePrefix()
	case h.pendingSep:
		h.out = append(h.out, " | "...)
	case h.pendingSpace:
		h.out = append(h.out, ' ')
	}
	h.pendingBreak, h.pendingSpace, h.pendingSep = 0, false, false
	h.cellEmpty = false
	if n := len(h.rows); n > 0 {
		h.rows[n-1] = true
	}
	if h.inLink && h.linkStart < 0 {
		h.linkStart = len(h.out)
	}
}

func (h *htmlRenderer) writeQuote(depth int, blank bool) {
	if depth <= 0 {
		return
	}
	for range min(depth, htmlMaxPrefix) {
		h.out = append(h.out, '>')
	}
	if !blank {
		h.out = append(h.out, ' ')
	}
}

// writePrefix starts a line: quote markers, list indentation, and the
// marker of a list item or heading that has not shown any content yet.
func (h *htmlRenderer) writePrefix() {
	h.writeQuote(h.quote, false)
	levels := len(h.lists)
	if h.itemMarker != "" || h.items == 0 {
		levels--
	}
	for range min(levels, htmlMaxPrefix) {
		h.out = append(h.out, "  "...)
	}
	h.out = append(h.out, h.itemMarker...)
	h.itemMarker = ""
}

// text writes inline text with runs of white space collapsed to one space.
func (h *htmlRenderer) text(b []byte) {
	for len(b) > 0 {
		if n := htmlSpaceLen(b); n > 0 {
			h.pendingSpace = true
			b = b[n:]
			continue
		}
		end := 0
		for end < len(b) && htmlSpaceLen(b[end:]) == 0 {
			end++
		}
		h.beginContent()
		h.out = append(h.out, b[:end]...)
		b = b[end:]
	}
}

// htmlSpaceLen returns the length of the white space that starts b: HTML's
// ASCII white space, or a no-break space (layout cells are full of them).
func htmlSpaceLen(b []byte) int {
	switch {
	case len(b) == 0:
		return 0
	case b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r' || b[0] == '\f':
		return 1
	case len(b) > 1 && b[0] == 0xc2 && b[1] == 0xa0:
		return 2
	}
	return 0
}

// preText writes preformatted text, keeping its spaces and newlines.
func (h *htmlRenderer) preText(b []byte, dropLF bool) {
	if dropLF && len(b) > 0 && b[0] == '\n' {
		b = b[1:]
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b)
		}
		if i > 0 {
			h.beginContent()
			h.out = append(h.out, b[:i]...)
		}
		if i < len(b) {
			h.requestBreak(h.pendingBreak + 1)
			i++
		}
		b = b[i:]
	}
}

// word writes s as one inline word.
func (h *htmlRenderer) word(s string) {
	h.beginContent()
	h.out = append(h.out, s...)
}

// placeholder writes a marker such as "[image: logo]" with space around it.
func (h *htmlRenderer) placeholder(s string) {
	h.pendingSpace = true
	h.word(s)
	h.pendingSpace = true
}

// htmlLinkTarget is the URL a browser would follow for href, as it will be
// shown: the URL parser strips leading and trailing C0 controls and spaces
// and drops every tab and newline (WHATWG URL, "basic URL parser"), so
// "http://good.example\n.evil.example" goes to good.example.evil.example and
// is shown that way. Other controls stay, to be escaped by SafeLine; a very
// long URL is cut.
func htmlLinkTarget(href string) string {
	u := strings.TrimFunc(href, func(r rune) bool { return r <= ' ' })
	u = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, u)
	u = SafeLine(u)
	if len(u) > htmlMaxURL {
		cut := htmlMaxURL
		for cut > 0 && u[cut]&0xc0 == 0x80 {
			cut--
		}
		u = u[:cut] + "…"
	}
	return u
}

// finishLink ends a link: unless its text is its URL, "[n]" follows the
// text and the URL gets number n in the list at the end.
func (h *htmlRenderer) finishLink() {
	if !h.inLink {
		return
	}
	h.inLink = false
	if h.linkStart >= 0 {
		text := h.out[h.linkStart:]
		if string(text) == h.linkHref || "mailto:"+string(text) == h.linkHref {
			return
		}
	}
	n := h.linkNums[h.linkHref]
	if n == 0 {
		if h.linkNums == nil {
			h.linkNums = make(map[string]int)
		}
		h.links = append(h.links, h.linkHref)
		n = len(h.links)
		h.linkNums[h.linkHref] = n
	}
	h.pendingSpace = true
	h.word("[" + strconv.Itoa(n) + "]")
}

// unterminated shows, as text, a tag cut off by the end of the input.
func (h *htmlRenderer) unterminated(raw []byte) {
	if len(raw) > 0 {
		h.pendingSpace = true
		h.text(raw)
	}
}

func (h *htmlRenderer) finish() (string, error) {
	h.popTo(0)
	if len(h.links) > 0 {
		if len(h.out) > 0 {
			h.out = append(h.out, "\n\n"...)
		}
		h.out = append(h.out, "Links:"...)
		for i, u := range h.links {
			h.out = append(h.out, "\n["...)
			h.out = strconv.AppendInt(h.out, int64(i+1), 10)
			h.out = append(h.out, "] "...)
			h.out = append(h.out, u...)
		}
	}
	if len(h.out) > h.maxOut {
		return "", h.outputLimit()
	}
	if len(h.out) == 0 {
		return "", nil
	}
	h.out = append(h.out, '\n')
	return SafeText(string(h.out)), nil
}
