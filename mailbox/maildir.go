package mailbox

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// Modes of everything a Maildir creates: mail is private.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// Maildir is a [Mailbox] in a Maildir++ directory tree. All file access
// goes through an [os.Root], so no name, symlink or ".." inside the tree
// reaches a file outside it. A Maildir is safe for concurrent use, also by
// several processes at once.
type Maildir struct {
	root     *os.Root
	path     string
	now      func() time.Time
	rand     io.Reader
	randMu   sync.Mutex
	host     string
	pid      int
	sep      byte
	afterTmp func(string)

	mu sync.Mutex
	// index maps a folder directory ("" for INBOX) to message IDs and the
	// paths of their files relative to it ("cur/…", "new/…"). It is filled
	// by the first lookup of an ID and checked against the disk on each use.
	index map[string]map[string]string
	// cleaned records the folders whose tmp/ has been swept.
	cleaned map[string]bool
}

var _ Mailbox = (*Maildir)(nil)

// OpenMaildir opens the Maildir at root: a directory with cur/, new/ and
// tmp/ (the INBOX), and a directory ".Name" laid out the same way for every
// other folder.
func OpenMaildir(root string, opts *Options) (*Maildir, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	m := &Maildir{
		path:     root,
		now:      o.Now,
		rand:     o.Rand,
		host:     o.Hostname,
		pid:      os.Getpid(),
		sep:      o.InfoSeparator,
		afterTmp: o.afterTmp,
		index:    map[string]map[string]string{},
		cleaned:  map[string]bool{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	if m.host == "" {
		m.host, _ = os.Hostname()
	}
	m.host = escapeHost(m.host)
	switch m.sep {
	case 0:
		m.sep = ':'
	case ':', '!':
	default:
		return nil, fmt.Errorf("mailbox: info separator %q is neither ':' nor '!'", m.sep)
	}
	if o.Create {
		if err := os.MkdirAll(root, dirMode); err != nil {
			return nil, fmt.Errorf("mailbox: %w", err)
		}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	m.root = r
	if o.Create {
		err = m.CreateFolder("INBOX")
	} else {
		err = m.checkFolder("", "INBOX")
		if errors.Is(err, ErrNotFound) {
			err = &NotMaildirError{Path: root, Reason: "no cur, new and tmp directories"}
		}
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return m, nil
}

// Close releases the directory handle.
func (m *Maildir) Close() error { return m.root.Close() }

// Path returns the root directory the Maildir was opened with.
func (m *Maildir) Path() string { return m.path }

// folderDir maps a folder name to its directory relative to the root: ""
// for INBOX (any case), ".Name" for the others (the Maildir++ layout).
func folderDir(name string) (string, error) {
	if strings.EqualFold(name, "INBOX") {
		return "", nil
	}
	if err := checkFolderName(name); err != nil {
		return "", err
	}
	return "." + name, nil
}

func checkFolderName(name string) error {
	bad := func(reason string) error { return &FolderNameError{Name: name, Reason: reason} }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > maxNameLen-1:
		return bad("too long")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case strings.Contains(name, "/"):
		return bad("contains '/'")
	case strings.Contains(name, ".."), name[0] == '.', name[len(name)-1] == '.':
		return bad("empty hierarchy level ('.' separates levels)")
	}
	for _, r := range name {
		if r < 0x20 || (0x7f <= r && r < 0xa0) {
			return bad("contains a control character")
		}
	}
	return nil
}

// join joins a folder directory and path elements with '/'.
func join(dir string, elem ...string) string {
	var b strings.Builder
	b.WriteString(dir)
	for _, e := range elem {
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(e)
	}
	return b.String()
}

// checkFolder returns a NotFoundError unless dir holds cur/, new/ and tmp/.
func (m *Maildir) checkFolder(dir, name string) error {
	for _, sub := range [...]string{"cur", "new", "tmp"} {
		st, err := m.root.Stat(join(dir, sub))
		if err == nil && !st.IsDir() {
			err = syscall.ENOTDIR
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return &NotFoundError{Folder: name}
			}
			return fmt.Errorf("mailbox: folder %q: %w", name, err)
		}
	}
	return nil
}

// Folders returns "INBOX" and the name of every ".Name" directory that
// holds a cur/ directory, sorted.
func (m *Maildir) Folders() ([]string, error) {
	d, err := m.root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	var out []string
	for _, n := range names {
		folder, ok := strings.CutPrefix(n, ".")
		if !ok || checkFolderName(folder) != nil || strings.EqualFold(folder, "INBOX") {
			continue
		}
		if st, err := m.root.Stat(join(n, "cur")); err == nil && st.IsDir() {
			out = append(out, folder)
		}
	}
	slices.Sort(out)
	return append([]string{"INBOX"}, out...), nil
}

// CreateFolder creates a folder with its cur/, new/ and tmp/ directories
// and, as Courier and Dovecot do, an empty maildirfolder file. Missing
// parts of an existing folder are added.
func (m *Maildir) CreateFolder(name string) error {
	dir, err := folderDir(name)
	if err != nil {
		return err
	}
	wrap := func(err error) error { return fmt.Errorf("mailbox: create folder %q: %w", name, err) }
	if dir != "" {
		if err := mkdirExist(m.root, dir); err != nil {
			return wrap(err)
		}
	}
	for _, sub := range [...]string{"cur", "new", "tmp"} {
		if err := mkdirExist(m.root, join(dir, sub)); err != nil {
			return wrap(err)
		}
	}
	if dir != "" {
		f, err := m.root.OpenFile(join(dir, "maildirfolder"), os.O_WRONLY|os.O_CREATE, fileMode)
		if err != nil {
			return wrap(err)
		}
		f.Close()
		if err := m.syncDir(dir); err != nil {
			return wrap(err)
		}
	}
	if err := m.syncDir("."); err != nil {
		return wrap(err)
	}
	return nil
}

func mkdirExist(r *os.Root, name string) error {
	err := r.Mkdir(name, dirMode)
	if errors.Is(err, fs.ErrExist) {
		if st, serr := r.Stat(name); serr == nil && st.IsDir() {
			return nil
		}
	}
	return err
}

// syncDir makes the entries of a directory durable (after a rename or an
// unlink). File systems that cannot sync a directory are not an error.
func (m *Maildir) syncDir(dir string) error {
	if dir == "" {
		dir = "."
	}
	d, err := m.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// readNames returns the names in a directory of the tree.
func (m *Maildir) readNames(dir string) ([]string, error) {
	d, err := m.root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}
