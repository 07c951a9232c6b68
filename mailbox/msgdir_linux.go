package mailbox

import (
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// msgDir reads the message files of one cur/ or new/ directory. On Linux
// it opens them with openat(2) relative to the directory, which was itself
// opened through the os.Root, with O_NOFOLLOW: a name is one path element
// (ParseName refuses '/'), so no file outside the directory is reached and
// a symlink is refused outright. Going around *os.File saves the runtime's
// poller set-up for each of the many files a listing opens.
type msgDir struct {
	dir *os.File
	fd  int
	// noatime is cleared once O_NOATIME is refused (files not ours).
	noatime atomic.Bool
}

func openMsgDir(r *os.Root, path string) (*msgDir, error) {
	f, err := r.Open(path)
	if err != nil {
		return nil, err
	}
	d := &msgDir{dir: f, fd: int(f.Fd())}
	d.noatime.Store(true)
	return d, nil
}

func (d *msgDir) close() error { return d.dir.Close() }

// fdReader reads from a file descriptor.
type fdReader int

func (r fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(r), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// read returns the size and modification time of the message file name
// and, when h is not nil, its header block read by h.
func (d *msgDir) read(name string, h *headerReader) (size int64, mtime time.Time, header []byte, truncated bool, err error) {
	if h == nil {
		// Size and time only (ListOptions.SkipHeaders): a stat, no open.
		var st unix.Stat_t
		for {
			err = unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
			if err != unix.EINTR {
				break
			}
		}
		if err != nil {
			return 0, time.Time{}, nil, false, &os.PathError{Op: "fstatat", Path: name, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return 0, time.Time{}, nil, false, &os.PathError{Op: "stat", Path: name, Err: errNotRegular}
		}
		sec, nsec := st.Mtim.Unix()
		return st.Size, time.Unix(sec, nsec), nil, false, nil
	}
	// O_NOATIME: listing a folder is not reading its messages, and
	// leaves their inodes alone. O_NONBLOCK: a FIFO does not hang us.
	var fd int
	for {
		flags := syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC
		noatime := d.noatime.Load()
		if noatime {
			flags |= syscall.O_NOATIME
		}
		fd, err = syscall.Openat(d.fd, name, flags, 0)
		if err == syscall.EPERM && noatime {
			d.noatime.Store(false)
			continue
		}
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return 0, time.Time{}, nil, false, &os.PathError{Op: "openat", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return 0, time.Time{}, nil, false, &os.PathError{Op: "fstat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return 0, time.Time{}, nil, false, &os.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	sec, nsec := st.Mtim.Unix()
	size, mtime = st.Size, time.Unix(sec, nsec)
	if h == nil {
		return size, mtime, nil, false, nil
	}
	header, truncated, err = readHeader(h, fdReader(fd), size)
	if err != nil {
		return 0, time.Time{}, nil, false, &os.PathError{Op: "read", Path: name, Err: err}
	}
	return size, mtime, header, truncated, nil
}
