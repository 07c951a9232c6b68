package pgp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"os"
)

// spool holds plaintext until the message it came from has been
// authenticated (S04). Up to limit bytes stay in memory; beyond that the
// plaintext goes to a temporary file that is unlinked at once and
// encrypted with AES-256-CTR under a key that exists only in this
// process, so no plaintext reaches the disk and nothing is left behind if
// the process dies.
type spool struct {
	limit int
	dir   string
	mem   []byte
	file  *os.File
	ctr   cipher.Stream
	key   []byte
	iv    []byte
	n     int64
	buf   []byte
	used  int // plaintext bytes in buf, not yet encrypted and written
	// err is the first write failure: a local problem (a full disk, a
	// missing TempDir), not something the message did.
	err error
}

func newSpool(limit int, dir string) *spool {
	return &spool{limit: limit, dir: dir}
}

func (s *spool) Write(p []byte) (int, error) {
	n, err := s.write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

func (s *spool) write(p []byte) (int, error) {
	if s.file == nil && len(s.mem)+len(p) <= s.limit {
		if len(s.mem)+len(p) > cap(s.mem) {
			// Double, up to the limit: append's 1.25x growth of large
			// slices allocates five times the final size, and leaves
			// copies of the plaintext behind in the garbage.
			m := make([]byte, len(s.mem), min(max(2*cap(s.mem), len(s.mem)+len(p), 64<<10), s.limit))
			copy(m, s.mem)
			clear(s.mem)
			s.mem = m
		}
		s.mem = append(s.mem, p...)
		s.n += int64(len(p))
		return len(p), nil
	}
	if s.file == nil {
		if err := s.toFile(); err != nil {
			return 0, err
		}
	}
	if err := s.writeFile(p); err != nil {
		return 0, err
	}
	s.n += int64(len(p))
	return len(p), nil
}

func (s *spool) toFile() error {
	f, err := os.CreateTemp(s.dir, "securemail-spool-*")
	if err != nil {
		return fmt.Errorf("pgp: spool: %w", err)
	}
	// Unlinked at once: the data lives only as long as the descriptor.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return fmt.Errorf("pgp: spool: %w", err)
	}
	s.key, s.iv = make([]byte, 32), make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(rand.Reader, s.key); err != nil {
		f.Close()
		return err
	}
	s.ctr = newCTR(s.key, s.iv)
	s.file = f
	s.buf = make([]byte, 256<<10)
	mem := s.mem
	s.mem = nil
	err = s.writeFile(mem)
	clear(mem)
	return err
}

func newCTR(key, iv []byte) cipher.Stream {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key never fails
	}
	return cipher.NewCTR(b, iv)
}

func (s *spool) writeFile(p []byte) error {
	for len(p) > 0 {
		n := copy(s.buf[s.used:], p)
		s.used += n
		p = p[n:]
		if s.used == len(s.buf) {
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush encrypts and writes what s.buf holds: whole 256 KiB blocks, not
// the 48-octet pieces the armor decoder hands up.
func (s *spool) flush() error {
	if s.used == 0 {
		return nil
	}
	b := s.buf[:s.used]
	s.ctr.XORKeyStream(b, b)
	s.used = 0
	if _, err := s.file.Write(b); err != nil {
		return fmt.Errorf("pgp: spool: %w", err)
	}
	return nil
}

// Len is the number of bytes spooled.
func (s *spool) Len() int64 { return s.n }

// Bytes returns the spooled plaintext when it is in memory.
func (s *spool) Bytes() ([]byte, bool) { return s.mem, s.file == nil }

// WriteTo copies the plaintext to w.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	if s.file == nil {
		n, err := w.Write(s.mem)
		return int64(n), err
	}
	if err := s.flush(); err != nil {
		return 0, err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	ctr := newCTR(s.key, s.iv)
	var total int64
	for {
		n, err := s.file.Read(s.buf)
		if n > 0 {
			ctr.XORKeyStream(s.buf[:n], s.buf[:n])
			m, werr := w.Write(s.buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Close discards the plaintext.
func (s *spool) Close() error {
	clear(s.mem)
	s.mem = nil
	clear(s.key)
	clear(s.buf)
	if s.file != nil {
		err := s.file.Close()
		s.file = nil
		return err
	}
	return nil
}
