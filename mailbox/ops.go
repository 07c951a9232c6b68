package mailbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// retries bounds how often an operation looks a message up again after
// another process renamed it (a flag change) under its feet.
const retries = 8

// location is where a message's file is: its folder directory and its path
// relative to it ("cur/NAME" or "new/NAME").
type location struct {
	dir, rel string
}

func (l location) path() string { return join(l.dir, l.rel) }
func (l location) sub() string  { return l.rel[:3] }
func (l location) file() string { return l.rel[4:] }

// locate finds the file of message id in folder. It trusts the index only
// after checking that the file is still there, and rescans the folder
// otherwise.
func (m *Maildir) locate(folder, id string) (location, error) {
	dir, err := folderDir(folder)
	if err != nil {
		return location{}, err
	}
	if checkID(id) != nil {
		return location{}, &NotFoundError{Folder: folder, ID: id}
	}
	m.mu.Lock()
	rel, ok := m.index[dir][id]
	m.mu.Unlock()
	if ok {
		if _, err := m.root.Lstat(join(dir, rel)); err == nil {
			return location{dir, rel}, nil
		}
	}
	idx, err := m.scanIndex(dir, folder)
	if err != nil {
		return location{}, err
	}
	m.mu.Lock()
	m.index[dir] = idx
	rel, ok = idx[id]
	m.mu.Unlock()
	if !ok {
		return location{}, &NotFoundError{Folder: folder, ID: id}
	}
	return location{dir, rel}, nil
}

// scanIndex maps every message ID of a folder to its file; one in cur/
// wins over one in new/, which it must have been moved from.
func (m *Maildir) scanIndex(dir, folder string) (map[string]string, error) {
	idx := map[string]string{}
	for _, sub := range [...]string{"new", "cur"} {
		names, err := m.readNames(join(dir, sub))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &NotFoundError{Folder: folder}
			}
			return nil, fmt.Errorf("mailbox: folder %q: %w", folder, err)
		}
		for _, name := range names {
			if n, err := ParseName(name); err == nil {
				idx[n.ID] = sub + "/" + name
			}
		}
	}
	return idx, nil
}

// known reports whether the index holds id in dir and its file is there,
// without reading the directory.
func (m *Maildir) known(dir, id string) bool {
	m.mu.Lock()
	rel, ok := m.index[dir][id]
	m.mu.Unlock()
	return ok && m.exists(join(dir, rel))
}

// remember records where a message is now, if its folder is indexed.
func (m *Maildir) remember(dir, id, rel string) {
	m.mu.Lock()
	if idx := m.index[dir]; idx != nil {
		idx[id] = rel
	}
	m.mu.Unlock()
}

func (m *Maildir) forget(dir, id string) {
	m.mu.Lock()
	delete(m.index[dir], id)
	m.mu.Unlock()
}

// Open returns the message's file for reading.
func (m *Maildir) Open(folder, id string) (io.ReadCloser, error) {
	for attempt := 0; ; attempt++ {
		loc, err := m.locate(folder, id)
		if err != nil {
			return nil, err
		}
		// A message file is a regular file: not a symlink (as in a
		// listing), not a FIFO that would block the open.
		if st, err := m.root.Lstat(loc.path()); err == nil && !st.Mode().IsRegular() {
			return nil, fmt.Errorf("mailbox: open %q in %q: %v is not a regular file", id, folder, st.Mode().Type())
		}
		f, err := m.root.Open(loc.path())
		if errors.Is(err, fs.ErrNotExist) && attempt < retries {
			continue // renamed since we looked
		}
		if err != nil {
			return nil, fmt.Errorf("mailbox: open %q in %q: %w", id, folder, err)
		}
		if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
			f.Close()
			return nil, fmt.Errorf("mailbox: open %q in %q: not a regular file", id, folder)
		}
		return f, nil
	}
}

// SetFlags changes the flags in the message's file name, keeping the rest
// of the name (the ID, extra fields such as Dovecot's S= size, unknown
// letters). A message in new/ moves to cur/ when its flags change.
func (m *Maildir) SetFlags(folder, id string, set, clear Flags) (Flags, error) {
	set &= letterFlags
	clear &= letterFlags
	for attempt := 0; ; attempt++ {
		loc, err := m.locate(folder, id)
		if err != nil {
			return 0, err
		}
		n, err := ParseName(loc.file())
		if err != nil {
			return 0, err
		}
		flags := (n.Flags | set) &^ clear
		if flags == n.Flags {
			return flags, nil
		}
		if n.Sep == 0 {
			n.Sep = m.sep
		}
		rel := "cur/" + n.WithFlags(flags).String()
		err = m.root.Rename(loc.path(), join(loc.dir, rel))
		if errors.Is(err, fs.ErrNotExist) && attempt < retries {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("mailbox: set flags of %q in %q: %w", id, folder, err)
		}
		m.remember(loc.dir, id, rel)
		if err := m.syncDir(join(loc.dir, "cur")); err != nil {
			return 0, err
		}
		if loc.sub() == "new" {
			if err := m.syncDir(join(loc.dir, "new")); err != nil {
				return 0, err
			}
		}
		return flags, nil
	}
}

// Move renames the message's file into the same subdirectory (new/ or
// cur/) of dest under the same name, so its ID, flags and extra fields stay.
// It never overwrites: a message of the same ID in dest (the same file
// name, or one this Maildir has seen there) is an [ExistError].
func (m *Maildir) Move(folder, id, dest string) error {
	destDir, err := folderDir(dest)
	if err != nil {
		return err
	}
	if err := m.checkFolder(destDir, dest); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		loc, err := m.locate(folder, id)
		if err != nil {
			return err
		}
		if loc.dir == destDir {
			return nil
		}
		target := location{destDir, loc.rel}
		if m.exists(target.path()) || m.exists(join(destDir, "new", id)) || m.known(destDir, id) {
			return &ExistError{Folder: dest, ID: id}
		}
		err = m.root.Rename(loc.path(), target.path())
		if errors.Is(err, fs.ErrNotExist) && attempt < retries {
			continue
		}
		if err != nil {
			return fmt.Errorf("mailbox: move %q from %q to %q: %w", id, folder, dest, err)
		}
		m.forget(loc.dir, id)
		m.remember(destDir, id, loc.rel)
		if err := m.syncDir(join(destDir, loc.sub())); err != nil {
			return err
		}
		return m.syncDir(join(loc.dir, loc.sub()))
	}
}

// Delete removes the message's file.
func (m *Maildir) Delete(folder, id string) error {
	for attempt := 0; ; attempt++ {
		loc, err := m.locate(folder, id)
		if err != nil {
			return err
		}
		err = m.root.Remove(loc.path())
		if errors.Is(err, fs.ErrNotExist) && attempt < retries {
			continue
		}
		if err != nil {
			return fmt.Errorf("mailbox: delete %q in %q: %w", id, folder, err)
		}
		m.forget(loc.dir, id)
		return m.syncDir(join(loc.dir, loc.sub()))
	}
}

// isHidden reports whether a directory entry is to be skipped, as the
// Maildir specification says of names starting with '.'.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }
