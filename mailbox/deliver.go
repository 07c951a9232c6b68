package mailbox

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// StaleTmpAge is how old a file in tmp/ must be before it is removed as the
// remains of an interrupted delivery (the Maildir specification's 36
// hours).
const StaleTmpAge = 36 * time.Hour

// Deliver stores a message the Maildir way: it writes tmp/NAME (created
// exclusively, mode 0600), syncs it, renames it to new/NAME, or to
// cur/NAME:2,FLAGS when flags are given, and syncs that directory. A crash
// at any point leaves no partial file in new/ or cur/; an orphan in tmp/ is
// removed once stale ([Maildir.CleanTmp]). NAME is a unique name
// "SECONDS.MmicrosecondsPpidRrandom.host", which is also the returned ID.
func (m *Maildir) Deliver(folder string, r io.Reader, flags Flags) (string, error) {
	dir, err := folderDir(folder)
	if err != nil {
		return "", err
	}
	if err := m.checkFolder(dir, folder); err != nil {
		return "", err
	}
	wrap := func(err error) error { return fmt.Errorf("mailbox: deliver to %q: %w", folder, err) }
	flags &= letterFlags

	var (
		id  string
		tmp string
		f   *os.File
	)
	for attempt := 0; ; attempt++ {
		if id, err = m.uniqueName(); err != nil {
			return "", wrap(err)
		}
		tmp = join(dir, "tmp", id)
		f, err = m.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || attempt == 4 {
			return "", wrap(err)
		}
	}
	done := false
	defer func() {
		if !done {
			m.root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return "", wrap(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", wrap(err)
	}
	if err := f.Close(); err != nil {
		return "", wrap(err)
	}
	if m.afterTmp != nil {
		m.afterTmp(tmp)
	}

	sub := "new"
	for attempt := 0; ; attempt++ {
		n := Name{ID: id, Size: -1, VirtualSize: -1}
		if flags != 0 {
			n.Sep = m.sep
			n = n.WithFlags(flags)
			sub = "cur"
		}
		rel := join(sub, n.String())
		// The random part makes a clash all but impossible; the check
		// guards against a Rand that repeats itself.
		if !m.exists(join(dir, rel)) && !m.exists(join(dir, "new", id)) {
			if err := m.root.Rename(tmp, join(dir, rel)); err != nil {
				return "", wrap(err)
			}
			done = true
			m.remember(dir, id, rel)
			break
		}
		if attempt == 4 {
			return "", wrap(fmt.Errorf("%s exists", rel))
		}
		if id, err = m.uniqueName(); err != nil {
			return "", wrap(err)
		}
	}
	if err := m.syncDir(join(dir, sub)); err != nil {
		return "", wrap(err)
	}
	return id, nil
}

func (m *Maildir) exists(path string) bool {
	_, err := m.root.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// uniqueName returns a new unique name:
// SECONDS.MmicrosecondsPpidRrandom.host.
func (m *Maildir) uniqueName() (string, error) {
	var r [8]byte
	m.randMu.Lock()
	_, err := io.ReadFull(m.rand, r[:])
	m.randMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("random name: %w", err)
	}
	now := m.now()
	b := make([]byte, 0, 64+len(m.host))
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, ".M"...)
	b = strconv.AppendInt(b, int64(now.Nanosecond()/1000), 10)
	b = append(b, 'P')
	b = strconv.AppendInt(b, int64(m.pid), 10)
	b = append(b, 'R')
	b = hex.AppendEncode(b, r[:])
	b = append(b, '.')
	b = append(b, m.host...)
	return string(b), nil
}

// CleanTmp removes the files in the folder's tmp/ directory last modified
// more than [StaleTmpAge] ago by the Options clock, and returns how many it
// removed. [Maildir.List] does this once per folder.
func (m *Maildir) CleanTmp(folder string) (int, error) {
	dir, err := folderDir(folder)
	if err != nil {
		return 0, err
	}
	return m.cleanTmp(dir, folder)
}

func (m *Maildir) cleanTmp(dir, folder string) (int, error) {
	tmp := join(dir, "tmp")
	names, err := m.readNames(tmp)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, &NotFoundError{Folder: folder}
		}
		return 0, fmt.Errorf("mailbox: clean tmp of %q: %w", folder, err)
	}
	now := m.now()
	removed := 0
	for _, name := range names {
		p := join(tmp, name)
		st, err := m.root.Lstat(p)
		if err != nil || st.IsDir() || now.Sub(st.ModTime()) <= StaleTmpAge {
			continue
		}
		if err := m.root.Remove(p); err == nil {
			removed++
		} else if !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("mailbox: clean tmp of %q: %w", folder, err)
		}
	}
	m.mu.Lock()
	m.cleaned[dir] = true
	m.mu.Unlock()
	return removed, nil
}
