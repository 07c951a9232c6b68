package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The header cache of an IMAP account keeps, per folder and UIDVALIDITY,
// what never changes about a message: its size, its arrival time and its
// header block (whole, or the fields a listing asked for). A listing then
// fetches only the UIDs and flags of the folder and the headers it has not
// seen, so that a large folder opens fast.
//
// On disk, each folder is one file in the cache directory, named by a hash
// of the folder name:
//
//	magic "SMIMAPC2" | UIDVALIDITY uint32 | name length uint16 | name
//	records: length uint32 | CRC-32 (IEEE) of the payload uint32 | payload
//	payload: UID uint32 | size uint64 | date int64 (Unix seconds) |
//	         flags uint8 (1 header, 2 truncated) | size limit uint32 |
//	         field-set length uint16 | field set | header length uint32 | header
//
// (big-endian). Records are appended as listings learn them; a later
// record for a UID replaces an earlier one. A record that is cut short or
// fails its CRC ends the reading (a crash, another process writing at the
// same time): the cache is a cache, so what is lost is fetched again. The
// file is rewritten whole (temporary file, rename) when UIDVALIDITY changes
// or when most of its records are superseded.

const (
	cacheMagic      = "SMIMAPC2"
	cacheMaxRecord  = 4 << 20 // a header is at most DefaultMaxHeaderSize+1; leave room
	cacheFlagHeader = 1
	cacheFlagTrunc  = 2
)

// imapCache holds the folders' caches of one account.
type imapCache struct {
	dir     string
	mu      sync.Mutex
	folders map[string]*folderCache
}

func newIMAPCache(dir string) *imapCache {
	return &imapCache{dir: dir, folders: map[string]*folderCache{}}
}

// folder returns the cache of a folder, loading it from disk the first
// time.
func (c *imapCache) folder(name string) *folderCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	fc := c.folders[name]
	if fc == nil {
		fc = &folderCache{name: name, entries: map[uint32]*cacheEntry{}}
		if c.dir != "" {
			sum := sha256.Sum256([]byte(name))
			fc.path = filepath.Join(c.dir, hex.EncodeToString(sum[:16])+".cache")
			fc.load()
		}
		c.folders[name] = fc
	}
	return fc
}

func (c *imapCache) flushAll() error {
	c.mu.Lock()
	folders := make([]*folderCache, 0, len(c.folders))
	for _, fc := range c.folders {
		folders = append(folders, fc)
	}
	c.mu.Unlock()
	var errs []error
	for _, fc := range folders {
		errs = append(errs, fc.flush())
	}
	return errors.Join(errs...)
}

// cacheEntry is what is cached of one message.
type cacheEntry struct {
	size int64
	date int64
	// header is set when hasHeader: the whole header block when fields is
	// "", else the fields named in fields (lower case, sorted, separated
	// by spaces); truncated says it was cut at the size limit, limit.
	hasHeader bool
	truncated bool
	limit     int
	fields    string
	header    []byte
}

// hasMeta reports whether the size and arrival time are known.
func (e *cacheEntry) hasMeta() bool { return e.size > 0 || e.date != 0 }

// covers reports whether the entry's header holds every field of want (a
// field-set key) and was read with a limit of at least limit bytes.
func (e *cacheEntry) covers(want string, limit int) bool {
	if !e.hasHeader || (e.truncated && e.limit < limit) {
		return false
	}
	if e.fields == "" {
		return true
	}
	if want == "" {
		return false
	}
	have := strings.Fields(e.fields)
	for _, f := range strings.Fields(want) {
		if _, ok := slices.BinarySearch(have, f); !ok {
			return false
		}
	}
	return true
}

// folderCache is the cache of one folder, for one UIDVALIDITY.
type folderCache struct {
	name string
	path string // "" for memory only

	mu          sync.Mutex
	uidValidity uint32
	entries     map[uint32]*cacheEntry
	pending     []uint32 // UIDs whose records are not yet on disk
	// flags are the flags last seen of each message: not persisted, used
	// to answer a flag change queued while the server is unreachable.
	flags   map[uint32]Flags
	records int  // records in the file
	rewrite bool // the file must be rewritten, not appended to
}

// fieldKey is the canonical form of a field list: lower case, sorted,
// unique, separated by spaces.
func fieldKey(names []string) string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.ToLower(n))
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), " ")
}

// validate empties the cache when the folder's UIDVALIDITY is not the one
// it was made for.
func (fc *folderCache) validate(uidValidity uint32) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.uidValidity == uidValidity {
		return
	}
	fc.uidValidity = uidValidity
	fc.entries = map[uint32]*cacheEntry{}
	fc.flags = nil
	fc.pending = nil
	fc.rewrite = true
}

// get returns a copy of the entry of uid, if any.
func (fc *folderCache) get(uid uint32) (cacheEntry, bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	e, ok := fc.entries[uid]
	if !ok {
		return cacheEntry{}, false
	}
	return *e, true
}

// validity returns the UIDVALIDITY the cache is for (0: not known yet).
func (fc *folderCache) validity() uint32 {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.uidValidity
}

// count returns the number of entries.
func (fc *folderCache) count() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.entries)
}

// putMeta records the size and arrival time of uid, for the UIDVALIDITY
// they were learnt under.
func (fc *folderCache) putMeta(uidValidity, uid uint32, size, date int64) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if uidValidity != fc.uidValidity {
		return
	}
	e := fc.entries[uid]
	if e == nil {
		e = &cacheEntry{}
		fc.entries[uid] = e
	} else if e.size == size && e.date == date {
		return
	}
	e.size, e.date = size, date
	fc.pending = append(fc.pending, uid)
}

// putHeader records the header of uid read for the field set fields.
func (fc *folderCache) putHeader(uidValidity, uid uint32, fields string, header []byte, truncated bool, limit int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if uidValidity != fc.uidValidity {
		return
	}
	e := fc.entries[uid]
	if e == nil {
		e = &cacheEntry{}
		fc.entries[uid] = e
	}
	e.hasHeader, e.fields, e.header, e.truncated, e.limit = true, fields, header, truncated, limit
	fc.pending = append(fc.pending, uid)
}

// setFlags remembers the flags last seen of uid.
func (fc *folderCache) setFlags(uid uint32, f Flags) {
	fc.mu.Lock()
	if fc.flags == nil {
		fc.flags = map[uint32]Flags{}
	}
	fc.flags[uid] = f
	fc.mu.Unlock()
}

// knownFlags returns the flags last seen of uid.
func (fc *folderCache) knownFlags(uid uint32) Flags {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.flags[uid]
}

// prune forgets the UIDs that are no longer in the folder.
func (fc *folderCache) prune(uidValidity uint32, present func(uid uint32) bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if uidValidity != fc.uidValidity {
		return
	}
	for uid := range fc.entries {
		if !present(uid) {
			delete(fc.entries, uid)
		}
	}
	for uid := range fc.flags {
		if !present(uid) {
			delete(fc.flags, uid)
		}
	}
}

// forget drops the entry of uid (a message moved or deleted here).
func (fc *folderCache) forget(uid uint32) {
	fc.mu.Lock()
	delete(fc.entries, uid)
	delete(fc.flags, uid)
	fc.mu.Unlock()
}

// flush writes the pending records: appended to the file, or the whole
// cache into a new file when UIDVALIDITY changed or most records on disk
// are stale.
func (fc *folderCache) flush() error {
	if fc.path == "" {
		fc.mu.Lock()
		fc.pending = nil
		fc.mu.Unlock()
		return nil
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.pending) == 0 && !fc.rewrite {
		return nil
	}
	if fc.uidValidity == 0 {
		fc.pending = nil
		return nil
	}
	if fc.rewrite || fc.records > 2*len(fc.entries)+1000 {
		return fc.rewriteLocked()
	}
	var buf bytes.Buffer
	seen := map[uint32]bool{}
	for _, uid := range fc.pending {
		if e, ok := fc.entries[uid]; ok && !seen[uid] {
			seen[uid] = true
			appendRecord(&buf, uid, e)
		}
	}
	fc.pending = nil
	f, err := os.OpenFile(fc.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return fc.rewriteLocked()
	}
	if err != nil {
		return fmt.Errorf("mailbox: header cache: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mailbox: header cache: %w", err)
	}
	fc.records += len(seen)
	return nil
}

func (fc *folderCache) rewriteLocked() error {
	data := encodeCache(fc.name, fc.uidValidity, fc.entries)
	fc.pending = nil
	fc.rewrite = false
	fc.records = len(fc.entries)
	if err := os.MkdirAll(filepath.Dir(fc.path), 0o700); err != nil {
		return fmt.Errorf("mailbox: header cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(fc.path), ".cache-*")
	if err != nil {
		return fmt.Errorf("mailbox: header cache: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), fc.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("mailbox: header cache: %w", err)
	}
	return nil
}

// encodeCache returns the file of a folder's cache.
func encodeCache(name string, uidValidity uint32, entries map[uint32]*cacheEntry) []byte {
	var buf bytes.Buffer
	buf.WriteString(cacheMagic)
	buf.Write(binary.BigEndian.AppendUint32(nil, uidValidity))
	if len(name) > 0xffff {
		name = name[:0xffff]
	}
	buf.Write(binary.BigEndian.AppendUint16(nil, uint16(len(name))))
	buf.WriteString(name)
	uids := make([]uint32, 0, len(entries))
	for uid := range entries {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	for _, uid := range uids {
		appendRecord(&buf, uid, entries[uid])
	}
	return buf.Bytes()
}

func appendRecord(buf *bytes.Buffer, uid uint32, e *cacheEntry) {
	var flags uint8
	if e.hasHeader {
		flags |= cacheFlagHeader
	}
	if e.truncated {
		flags |= cacheFlagTrunc
	}
	fields := e.fields
	if len(fields) > 0xffff {
		fields = ""
	}
	p := make([]byte, 0, 4+8+8+1+4+2+len(fields)+4+len(e.header))
	p = binary.BigEndian.AppendUint32(p, uid)
	p = binary.BigEndian.AppendUint64(p, uint64(e.size))
	p = binary.BigEndian.AppendUint64(p, uint64(e.date))
	p = append(p, flags)
	p = binary.BigEndian.AppendUint32(p, uint32(min(max(e.limit, 0), 1<<31-1)))
	p = binary.BigEndian.AppendUint16(p, uint16(len(fields)))
	p = append(p, fields...)
	p = binary.BigEndian.AppendUint32(p, uint32(len(e.header)))
	p = append(p, e.header...)
	buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
	buf.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(p)))
	buf.Write(p)
}

// load reads the folder's cache file; a missing or unreadable one is an
// empty cache.
func (fc *folderCache) load() {
	data, err := os.ReadFile(fc.path)
	if err != nil {
		return
	}
	uidValidity, entries, records, ok := parseCache(data, fc.name)
	if !ok {
		fc.rewrite = true
		return
	}
	fc.uidValidity, fc.entries, fc.records = uidValidity, entries, records
}

// parseCache reads a cache file made for folder. ok is false when the
// file is not one (wrong magic, another folder's name); records that are
// cut short or damaged end the reading without an error.
func parseCache(data []byte, folder string) (uidValidity uint32, entries map[uint32]*cacheEntry, records int, ok bool) {
	if len(data) < len(cacheMagic)+6 || string(data[:len(cacheMagic)]) != cacheMagic {
		return 0, nil, 0, false
	}
	p := data[len(cacheMagic):]
	uidValidity = binary.BigEndian.Uint32(p)
	n := int(binary.BigEndian.Uint16(p[4:]))
	p = p[6:]
	if len(p) < n || string(p[:n]) != folder {
		return 0, nil, 0, false
	}
	p = p[n:]
	entries = map[uint32]*cacheEntry{}
	for len(p) >= 8 {
		size := binary.BigEndian.Uint32(p)
		sum := binary.BigEndian.Uint32(p[4:])
		if size > cacheMaxRecord || uint64(len(p)-8) < uint64(size) {
			break
		}
		rec := p[8 : 8+size]
		if crc32.ChecksumIEEE(rec) != sum {
			break
		}
		uid, e, ok := parseRecord(rec)
		if !ok {
			break
		}
		entries[uid] = e
		records++
		p = p[8+size:]
	}
	return uidValidity, entries, records, true
}

func parseRecord(rec []byte) (uint32, *cacheEntry, bool) {
	if len(rec) < 4+8+8+1+4+2 {
		return 0, nil, false
	}
	uid := binary.BigEndian.Uint32(rec)
	e := &cacheEntry{
		size:  int64(binary.BigEndian.Uint64(rec[4:])),
		date:  int64(binary.BigEndian.Uint64(rec[12:])),
		limit: int(binary.BigEndian.Uint32(rec[21:]) & (1<<31 - 1)),
	}
	flags := rec[20]
	nf := int(binary.BigEndian.Uint16(rec[25:]))
	rest := rec[27:]
	if uid == 0 || e.size < 0 || len(rest) < nf+4 {
		return 0, nil, false
	}
	e.fields = string(rest[:nf])
	rest = rest[nf:]
	nh := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(len(rest)) != uint64(nh) {
		return 0, nil, false
	}
	e.hasHeader = flags&cacheFlagHeader != 0
	e.truncated = flags&cacheFlagTrunc != 0
	if e.hasHeader {
		e.header = bytes.Clone(rest)
	}
	return uid, e, true
}
