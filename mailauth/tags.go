package mailauth

import (
	"errors"
	"fmt"
)

// maxTags bounds a tag list: DKIM signatures, key records, ARC seals and
// DMARC records have a dozen tags at most.
const maxTags = 64

// tag is one tag-spec of a tag list (RFC 6376 §3.2).
type tag struct {
	name  string
	value string // whitespace around it removed; inner FWS kept
	// start, end: where the value lies in the input, from just after
	// the "=" to just before the ";" (or the end): what signing and
	// verification blank out of b= (§3.5, "including all surrounding
	// whitespace").
	start, end int
}

// tagList is a parsed tag list.
type tagList []tag

// get returns the value of the named tag and whether it is present.
func (l tagList) get(name string) (string, bool) {
	for i := range l {
		if l[i].name == name {
			return l[i].value, true
		}
	}
	return "", false
}

func (l tagList) find(name string) *tag {
	for i := range l {
		if l[i].name == name {
			return &l[i]
		}
	}
	return nil
}

var errEmptyTagList = errors.New("empty tag list")

func isFWSByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// parseTagList parses a tag list: tag-name "=" tag-value pairs separated
// by ";" with optional whitespace. Names are a letter then letters,
// digits or "_"; values are printable characters except ";" (VALCHAR),
// octets of 0x80 and above (RFC 8616 allows UTF-8 in some values), and
// whitespace. Control characters (NUL among them) and duplicate names
// make the whole list invalid (§3.2). Names are case-sensitive.
func parseTagList(s []byte) (tagList, error) {
	var l tagList
	i := 0
	for i < len(s) {
		for i < len(s) && isFWSByte(s[i]) {
			i++
		}
		if i < len(s) && s[i] == ';' { // an empty tag-spec: tolerated
			i++
			continue
		}
		if i == len(s) {
			break
		}
		ns := i
		if !isAlpha(s[i]) {
			return nil, fmt.Errorf("tag name starts with %q", s[i])
		}
		for i < len(s) && (isAlpha(s[i]) || isDigit(s[i]) || s[i] == '_') {
			i++
		}
		name := string(s[ns:i])
		for i < len(s) && isFWSByte(s[i]) {
			i++
		}
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("tag %q has no '='", name)
		}
		i++
		vs := i
		for i < len(s) && s[i] != ';' {
			c := s[i]
			if c < 0x20 && !isFWSByte(c) || c == 0x7f {
				return nil, fmt.Errorf("tag %q: control character 0x%02x in the value", name, c)
			}
			i++
		}
		ve := i
		a, b := vs, ve
		for a < b && isFWSByte(s[a]) {
			a++
		}
		for b > a && isFWSByte(s[b-1]) {
			b--
		}
		for j := range l {
			if l[j].name == name {
				return nil, fmt.Errorf("tag %q appears twice", name)
			}
		}
		if len(l) == maxTags {
			return nil, fmt.Errorf("more than %d tags", maxTags)
		}
		l = append(l, tag{name: name, value: string(s[a:b]), start: vs, end: ve})
		if i < len(s) {
			i++ // the ';'
		}
	}
	if len(l) == 0 {
		return nil, errEmptyTagList
	}
	return l, nil
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// stripFWS removes all whitespace from a tag value (base64 in b=, bh=, p=
// may be folded anywhere).
func stripFWS(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if isFWSByte(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)-n)
	for i := 0; i < len(s); i++ {
		if !isFWSByte(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// splitColonList splits a colon-separated tag value (h=, t=, s=, q=),
// trimming whitespace around each element.
func splitColonList(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ':' {
			e := s[start:i]
			a, b := 0, len(e)
			for a < b && isFWSByte(e[a]) {
				a++
			}
			for b > a && isFWSByte(e[b-1]) {
				b--
			}
			out = append(out, e[a:b])
			start = i + 1
		}
	}
	return out
}
