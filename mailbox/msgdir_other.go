//go:build !linux

package mailbox

import (
	"os"
	"time"
)

// msgDir reads the message files of one cur/ or new/ directory through an
// os.Root.
type msgDir struct {
	root *os.Root
}

func openMsgDir(r *os.Root, path string) (*msgDir, error) {
	d, err := r.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	return &msgDir{root: d}, nil
}

func (d *msgDir) close() error { return d.root.Close() }

// read returns the size and modification time of the message file name
// and, when h is not nil, its header block read by h.
func (d *msgDir) read(name string, h *headerReader) (size int64, mtime time.Time, header []byte, truncated bool, err error) {
	if st, err := d.root.Lstat(name); err != nil {
		return 0, time.Time{}, nil, false, err
	} else if !st.Mode().IsRegular() {
		return 0, time.Time{}, nil, false, &os.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	f, err := d.root.Open(name)
	if err != nil {
		return 0, time.Time{}, nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, time.Time{}, nil, false, err
	}
	if !st.Mode().IsRegular() {
		return 0, time.Time{}, nil, false, &os.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	if h == nil {
		return st.Size(), st.ModTime(), nil, false, nil
	}
	header, truncated, err = readHeader(h, f, st.Size())
	if err != nil {
		return 0, time.Time{}, nil, false, err
	}
	return st.Size(), st.ModTime(), header, truncated, nil
}
