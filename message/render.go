package message

import (
	"bytes"
	"strings"
)

// RenderOptions tune RenderText. A nil *RenderOptions means the defaults.
type RenderOptions struct {
	// HTML bounds the conversion of text/html parts; nil means the
	// defaults of HTMLToText.
	HTML *HTMLOptions
	// NoHTML leaves text/html parts unrendered, as attachments. Set it for
	// content whose integrity is not protected, such as S/MIME CBC
	// EnvelopedData (S05), where an attacker can splice markup into the
	// plaintext.
	NoHTML bool
}

// RenderedKind says how a body part was turned into text.
type RenderedKind int

const (
	RenderedPlain      RenderedKind = iota + 1 // text/plain, format=flowed undone
	RenderedHTML                               // text/html through HTMLToText
	RenderedAttachment                         // not shown: offered as an attachment
)

func (k RenderedKind) String() string {
	switch k {
	case RenderedPlain:
		return "plain"
	case RenderedHTML:
		return "html"
	case RenderedAttachment:
		return "attachment"
	}
	return "unknown"
}

// Rendered is what a terminal shows of one body part.
type Rendered struct {
	Kind RenderedKind
	// Text has been through SafeText: it holds no control character but
	// newline and tab, no escape sequence and no bidi control, so it can be
	// written to a terminal as is. It ends in a newline unless empty. For
	// an attachment it is a one-line marker such as
	// "[attachment: application/pdf]".
	Text string
}

// RenderText renders one text part for a terminal: text/plain (the
// default when mediaType is empty, RFC 2045 §5.2) as it is, or joined back
// into paragraphs when params has format=flowed (RFC 3676); text/html
// through [HTMLToText], which never fetches anything; every other type as
// an attachment marker. Each part is rendered on its own: never join the
// texts of several parts before rendering (S01).
//
// mediaType is type/subtype in any case; params are its Content-Type
// parameters with lower-case names, as [Part] holds them. body must
// already be decoded to UTF-8 ([Message.Text] does it): the charset
// parameter is not looked at, and invalid UTF-8 is shown as U+FFFD.
//
// The only errors are HTMLToText's limit errors ([*LimitError]).
func RenderText(mediaType string, params map[string]string, body []byte, opts *RenderOptions) (Rendered, error) {
	var htmlOpts *HTMLOptions
	noHTML := false
	if opts != nil {
		htmlOpts, noHTML = opts.HTML, opts.NoHTML
	}
	mt := strings.ToLower(strings.TrimSpace(mediaType))
	switch {
	case mt == "text/plain" || mt == "":
		var s string
		if strings.EqualFold(params["format"], "flowed") {
			s = SafeText(unflow(string(body), strings.EqualFold(params["delsp"], "yes")))
		} else {
			s = SafeText(string(body)) // CRLF becomes LF there
		}
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		return Rendered{Kind: RenderedPlain, Text: s}, nil
	case mt == "text/html" && !noHTML:
		s, err := HTMLToText(bytes.NewReader(body), htmlOpts)
		if err != nil {
			return Rendered{}, err
		}
		return Rendered{Kind: RenderedHTML, Text: s}, nil
	}
	return Rendered{Kind: RenderedAttachment, Text: "[attachment: " + SafeLine(mt) + "]\n"}, nil
}

// unflow undoes format=flowed (RFC 3676 §4): a line ending in a space is
// joined with the next line of the same quote depth (§4.5), after the
// space-stuffing space is removed (§4.4) and, with DelSp=yes, the trailing
// space too (§4.2). The signature separator "-- " stands on its own line
// (§4.3).
// Quoted paragraphs are written with their depth as ">> ".
func unflow(s string, delSp bool) string {
	s = strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s) + 1)
	inPara, paraDepth := false, 0
	for line := range strings.SplitSeq(s, "\n") {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		text := strings.TrimPrefix(line[depth:], " ")
		sigSep := text == "-- "
		flowed := strings.HasSuffix(text, " ") && !sigSep
		if inPara && (depth != paraDepth || sigSep) {
			// A flowed line followed by a different quote depth is
			// treated as fixed (§4.5); the signature separator is
			// a line of its own, "neither fixed nor flowed" (§4.3).
			b.WriteByte('\n')
			inPara = false
		}
		if !inPara && depth > 0 {
			b.WriteString(line[:depth])
			if text != "" {
				b.WriteByte(' ')
			}
		}
		if flowed && delSp {
			text = text[:len(text)-1]
		}
		b.WriteString(text)
		inPara, paraDepth = flowed, depth
		if !flowed {
			b.WriteByte('\n')
		}
	}
	if inPara {
		b.WriteByte('\n')
	}
	return b.String()
}
