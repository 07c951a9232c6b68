package mailbox

import (
	"bytes"
	"io"
	"io/fs"
	"iter"
	"time"
)

// Mailbox is where messages live: a Maildir ([Maildir]) today, an IMAP
// account later. Folders are named by strings such as "INBOX", "Sent" or
// "Lists.golang" ('.' separates hierarchy levels); messages by the ID a
// listing or a delivery returned. Implementations are safe for concurrent
// use.
type Mailbox interface {
	// Folders returns the names of all folders, "INBOX" first, the rest
	// sorted.
	Folders() ([]string, error)
	// CreateFolder creates a folder; creating one that exists is not an
	// error.
	CreateFolder(name string) error
	// List yields the messages of a folder (see [ListOptions]). An error
	// about the folder as a whole comes alone and ends the listing; an
	// error about one message comes with what is known of it (at least its
	// ID, when it has one) and the listing goes on.
	List(folder string, opts *ListOptions) iter.Seq2[Message, error]
	// Open returns the raw bytes of a message; the caller closes it.
	// [ReadMessage] reads it whole, with a size limit.
	Open(folder, id string) (io.ReadCloser, error)
	// Deliver stores the message read from r in folder with the given
	// flags and returns its ID. The message becomes visible whole or not
	// at all.
	Deliver(folder string, r io.Reader, flags Flags) (id string, err error)
	// SetFlags adds the flags in set, then removes those in clear, and
	// returns the flags the message has now.
	SetFlags(folder, id string, set, clear Flags) (Flags, error)
	// Move moves a message to another folder; it keeps its ID. It never
	// overwrites: a message of that ID in dest is an [ExistError].
	Move(folder, id, dest string) error
	// Delete removes a message for good (compare the [Trashed] flag).
	Delete(folder, id string) error
	// Close releases the mailbox.
	Close() error
}

// Message describes one message of a listing.
type Message struct {
	ID      string
	Folder  string
	Flags   Flags
	New     bool      // not yet seen by any mail reader (Maildir new/, IMAP \Recent)
	Size    int64     // in bytes, as stored
	ModTime time.Time // for a Maildir, the file's modification time
	// Header is the raw header block, or only the fields asked for in
	// [ListOptions.HeaderFields]; nil with [ListOptions.SkipHeaders].
	Header Header
	// HeaderTruncated says the header block was longer than
	// [ListOptions.MaxHeaderSize] and Header holds its first lines only.
	HeaderTruncated bool
}

// DefaultMaxHeaderSize is the default [ListOptions.MaxHeaderSize].
const DefaultMaxHeaderSize = 256 << 10

// ListOptions tune [Mailbox.List]; nil means the defaults.
type ListOptions struct {
	// Offset skips that many messages and Limit, when positive, stops after
	// that many: pages of a folder without reading the headers of the
	// messages skipped. Messages come oldest first (by the delivery time
	// their ID starts with, then by ID).
	Offset, Limit int
	// SkipHeaders leaves Message.Header nil and does not open the files.
	SkipHeaders bool
	// HeaderFields, when not nil, keeps only the fields with these names
	// (case-insensitive) in Message.Header: for a message list, ask for
	// From, Subject, Date and the like and hold far less memory.
	HeaderFields []string
	// MaxHeaderSize bounds the bytes read per header block;
	// 0 means [DefaultMaxHeaderSize].
	MaxHeaderSize int
}

// DefaultMaxMessageSize is the default [ReadOptions.MaxSize].
const DefaultMaxMessageSize = 64 << 20

// ReadOptions tune [ReadMessage]; nil means the defaults.
type ReadOptions struct {
	// MaxSize is the largest message read, in bytes; 0 means
	// [DefaultMaxMessageSize]. A larger message is a [TooLargeError].
	MaxSize int64
}

// ReadMessage returns the raw bytes of a message, refusing one larger than
// the limit of opts.
func ReadMessage(mb Mailbox, folder, id string, opts *ReadOptions) ([]byte, error) {
	limit := int64(DefaultMaxMessageSize)
	if opts != nil && opts.MaxSize > 0 {
		limit = opts.MaxSize
	}
	rc, err := mb.Open(folder, id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if f, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if st, err := f.Stat(); err == nil {
			if st.Size() > limit {
				return nil, &TooLargeError{Folder: folder, ID: id, Limit: limit}
			}
			buf.Grow(int(st.Size()) + bytes.MinRead)
		}
	}
	if _, err := buf.ReadFrom(io.LimitReader(rc, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, &TooLargeError{Folder: folder, ID: id, Limit: limit}
	}
	return buf.Bytes(), nil
}

// Options tune [OpenMaildir]; nil means the defaults.
type Options struct {
	// Now is the clock: it names new files and decides when a file in tmp/
	// is stale. nil means time.Now.
	Now func() time.Time
	// Rand supplies the random part of new file names; nil means
	// crypto/rand.Reader. It is read under a lock.
	Rand io.Reader
	// Hostname goes into new file names; "" means os.Hostname.
	Hostname string
	// InfoSeparator is the byte before the flags of a file name: ':' (the
	// default) or '!', for file systems that do not allow ':'. Existing
	// names keep the separator they have.
	InfoSeparator byte
	// Create makes the root directory a Maildir (cur/, new/, tmp/, mode
	// 0700) when it is missing or empty of them.
	Create bool

	// afterTmp, when set, runs after a delivery has written and synced its
	// tmp file and before it is renamed into place (crash tests).
	afterTmp func(tmpPath string)
}
