package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// pemWriter writes an RFC 7468 PEM object as its content is written:
// the BEGIN line first, base64 in 64-column lines, and the END line on
// Close. It lets a CMS object of any size go out without being held.
type pemWriter struct {
	w     *lineWriter
	enc   io.WriteCloser
	label string
}

func newPEMWriter(w io.Writer, label string) (*pemWriter, error) {
	if _, err := fmt.Fprintf(w, "-----BEGIN %s-----\n", label); err != nil {
		return nil, err
	}
	lw := &lineWriter{w: w}
	return &pemWriter{w: lw, enc: base64.NewEncoder(base64.StdEncoding, lw), label: label}, nil
}

func (p *pemWriter) Write(b []byte) (int, error) { return p.enc.Write(b) }

// Close flushes the last base64 quantum and writes the END line.
func (p *pemWriter) Close() error {
	if err := p.enc.Close(); err != nil {
		return err
	}
	if p.w.col > 0 {
		if _, err := p.w.w.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(p.w.w, "-----END %s-----\n", p.label)
	return err
}

// lineWriter breaks what is written to it into 64-column lines.
type lineWriter struct {
	w   io.Writer
	col int
	buf []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	l.buf = l.buf[:0]
	for len(b) > 0 {
		k := min(64-l.col, len(b))
		l.buf = append(l.buf, b[:k]...)
		b = b[k:]
		if l.col += k; l.col == 64 {
			l.buf = append(l.buf, '\n')
			l.col = 0
		}
	}
	if _, err := l.w.Write(l.buf); err != nil {
		return 0, err
	}
	return n, nil
}

// pemReader decodes one PEM object read line by line from r: the BEGIN
// line (whose label must be one of labels), base64 lines, the END line
// with the same label. Nothing but white space may follow the object.
// Unlike encoding/pem it does not need the object whole in memory.
type pemReader struct {
	dec   io.Reader
	lines *pemLines
}

var errPEMLabel = errors.New("not a PEM object of the expected kind")

func newPEMReader(r *bufio.Reader, labels ...string) (*pemReader, error) {
	for {
		line, err := r.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) == 0 && err == nil {
			continue // blank lines before the object
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		t := string(bytes.TrimRight(line, " \t\r\n"))
		for _, l := range labels {
			if t == "-----BEGIN "+l+"-----" {
				pl := &pemLines{r: r, end: "-----END " + l + "-----"}
				return &pemReader{dec: base64.NewDecoder(base64.StdEncoding, pl), lines: pl}, nil
			}
		}
		return nil, errPEMLabel
	}
}

func (p *pemReader) Read(b []byte) (int, error) {
	n, err := p.dec.Read(b)
	if err == io.EOF && !p.lines.done {
		return n, errors.New("PEM: the END line is missing")
	}
	return n, err
}

// pemLines yields the base64 lines of a PEM object, without their line
// ends, and stops at the END line.
type pemLines struct {
	r    *bufio.Reader
	end  string
	rest []byte
	done bool
}

func (p *pemLines) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if len(p.rest) == 0 {
			if p.done {
				break
			}
			if n > 0 && p.r.Buffered() == 0 {
				break // hand over what there is before blocking
			}
			if err := p.next(); err != nil {
				if n > 0 && err == io.EOF {
					break
				}
				return n, err
			}
			continue
		}
		k := copy(b[n:], p.rest)
		p.rest = p.rest[k:]
		n += k
	}
	if n == 0 && p.done {
		return 0, io.EOF
	}
	return n, nil
}

// next reads the following line into rest, or finds the END line.
func (p *pemLines) next() error {
	line, err := p.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return errors.New("PEM: a line is too long")
	}
	if err != nil && err != io.EOF {
		return err
	}
	t := bytes.TrimRight(line, " \t\r\n")
	if bytes.HasPrefix(t, []byte("-----")) {
		if string(t) != p.end {
			return fmt.Errorf("PEM: %q where %q was expected", t, p.end)
		}
		p.done = true
		for {
			tail, err := p.r.ReadSlice('\n')
			if len(bytes.TrimSpace(tail)) > 0 {
				return errors.New("PEM: data after the END line")
			}
			if err == io.EOF {
				return nil
			}
			if err != nil && err != bufio.ErrBufferFull {
				return err
			}
		}
	}
	if bytes.IndexByte(t, ':') >= 0 {
		return errors.New("PEM: headers are not allowed (RFC 7468)")
	}
	if len(t) == 0 && err == io.EOF {
		return io.EOF
	}
	p.rest = t
	return nil
}
