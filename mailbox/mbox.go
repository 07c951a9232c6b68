package mailbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// MboxFormat says how an mbox file quoted the body lines that start with
// "From ".
type MboxFormat int

const (
	// MboxRD (the default): every line matching ^>*From was given one more
	// '>', so one is removed on reading (">From " → "From ",
	// ">>From " → ">From ").
	MboxRD MboxFormat = iota
	// MboxO: only "From " was quoted, to ">From ", so only ">From "
	// loses its '>' on reading. A body line that was ">From " to begin
	// with cannot be told apart and becomes "From " too: the format's flaw.
	MboxO
)

// MboxOptions tune [ImportMboxWithOptions]; nil means the defaults.
type MboxOptions struct {
	Format MboxFormat
	// MaxMessageSize bounds each message; 0 means [DefaultMaxMessageSize].
	MaxMessageSize int64
}

// ImportMbox delivers every message of an mbox file to folder of dst, in
// order, and returns how many it delivered. See [ImportMboxWithOptions].
func ImportMbox(r io.Reader, dst Mailbox, folder string) (n int, err error) {
	return ImportMboxWithOptions(r, dst, folder, nil)
}

// ImportMboxWithOptions delivers every message of an mbox file to folder of
// dst. A message starts after each line beginning with "From " (the
// envelope line, which is not part of the message); the empty line that
// separates it from the next one is removed and, for [MboxRD], the quoting
// of "From " lines is undone. All other bytes are kept as they are,
// including the line ends. The read/answered/flagged state that mutt
// (Status, X-Status) and Thunderbird (X-Mozilla-Status) keep in headers
// becomes the message's flags. On an error, n messages have been
// delivered.
func ImportMboxWithOptions(r io.Reader, dst Mailbox, folder string, opts *MboxOptions) (n int, err error) {
	mr := newMboxReader(r, opts)
	for {
		msg, err := mr.next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if _, err := dst.Deliver(folder, bytes.NewReader(msg), mboxFlags(msg)); err != nil {
			return n, err
		}
		n++
	}
}

// mboxReader splits an mbox file into messages.
type mboxReader struct {
	br      *bufio.Reader
	format  MboxFormat
	max     int64
	line    int64  // lines read
	started bool   // the first From_ line has been read
	more    bool   // a From_ line was read and its message not yet returned
	msg     []byte // the message being read, reused
	long    []byte // a line longer than the bufio buffer, reused
}

func newMboxReader(r io.Reader, opts *MboxOptions) *mboxReader {
	mr := &mboxReader{br: bufio.NewReaderSize(r, 64<<10), max: DefaultMaxMessageSize}
	if opts != nil {
		mr.format = opts.Format
		if opts.MaxMessageSize > 0 {
			mr.max = opts.MaxMessageSize
		}
	}
	return mr
}

var fromLine = []byte("From ")

// next returns the next message, valid until the following call, or io.EOF
// after the last.
func (r *mboxReader) next() ([]byte, error) {
	if !r.started {
		r.started = true
		// Empty lines before the first message are tolerated.
		for {
			line, err := r.readLine()
			if len(line) == 0 && err == io.EOF {
				return nil, io.EOF
			}
			if err != nil && err != io.EOF {
				return nil, err
			}
			if bytes.HasPrefix(line, fromLine) {
				r.more = true
				break
			}
			if len(bytes.TrimRight(line, "\r\n")) != 0 || err == io.EOF {
				return nil, &MboxError{Line: r.line, Reason: `not an mbox file: the first line does not start with "From "`}
			}
		}
	}
	if !r.more {
		return nil, io.EOF
	}
	r.msg = r.msg[:0]
	for {
		line, err := r.readLine()
		if bytes.HasPrefix(line, fromLine) {
			return r.finish(), nil
		}
		if isQuotedFrom(line, r.format) {
			line = line[1:]
		}
		if int64(len(r.msg)+len(line)) > r.max {
			return nil, &MboxError{Line: r.line, Err: &TooLargeError{Limit: r.max}}
		}
		r.msg = append(r.msg, line...)
		if err == io.EOF {
			r.more = false
			return r.finish(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// finish removes the empty line that separates a message from the next.
func (r *mboxReader) finish() []byte {
	switch {
	case bytes.HasSuffix(r.msg, []byte("\n\n")):
		return r.msg[:len(r.msg)-1]
	case bytes.HasSuffix(r.msg, []byte("\r\n\r\n")):
		return r.msg[:len(r.msg)-2]
	}
	return r.msg
}

// readLine returns the next line with its '\n' (the last line may have
// none), valid until the next call; io.EOF comes with the last line or
// alone.
func (r *mboxReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if int64(len(r.long)) > r.max {
				return nil, &MboxError{Line: r.line + 1, Err: &TooLargeError{Limit: r.max}}
			}
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	if err != nil && err != io.EOF {
		return nil, &MboxError{Line: r.line + 1, Err: err}
	}
	if len(line) > 0 {
		r.line++
	}
	return line, err
}

// isQuotedFrom reports whether line starts with a quoted "From ": one or
// more '>' before it in mboxrd, exactly one in mboxo.
func isQuotedFrom(line []byte, format MboxFormat) bool {
	i := 0
	for i < len(line) && line[i] == '>' && (i == 0 || format == MboxRD) {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], fromLine)
}

// mboxFlags reads the flags mbox readers keep in headers: mutt's Status
// ('R' read) and X-Status ('A' answered, 'F' flagged, 'T' draft, 'D'
// deleted), and Thunderbird's X-Mozilla-Status bits.
func mboxFlags(msg []byte) Flags {
	end, _ := headerEnd(msg)
	h := Header(msg[:end])
	var f Flags
	if strings.Contains(h.Get("Status"), "R") {
		f |= Seen
	}
	for _, c := range h.Get("X-Status") {
		switch c {
		case 'A':
			f |= Answered
		case 'F':
			f |= Flagged
		case 'T':
			f |= Draft
		case 'D':
			f |= Trashed
		}
	}
	if v, err := strconv.ParseUint(h.Get("X-Mozilla-Status"), 16, 16); err == nil {
		for bit, flag := range map[uint64]Flags{0x1: Seen, 0x2: Answered, 0x4: Flagged, 0x8: Trashed, 0x1000: Passed} {
			if v&bit != 0 {
				f |= flag
			}
		}
	}
	return f
}
