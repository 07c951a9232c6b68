package mailbox

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func fillCache(fc *folderCache, uv uint32, n int) {
	fc.validate(uv)
	for i := 1; i <= n; i++ {
		fc.putMeta(uv, uint32(i), int64(1000+i), int64(1700000000+i))
		fc.putHeader(uv, uint32(i), fieldKey([]string{"Subject", "From"}), []byte("Subject: s\r\nFrom: f\r\n"), i%3 == 0, 100)
	}
}

func TestIMAPCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := newIMAPCache(dir)
	fc := c.folder("INBOX")
	fillCache(fc, 7, 10)
	if err := c.flushAll(); err != nil {
		t.Fatal(err)
	}
	// More, appended.
	fc.putMeta(7, 11, 5, 6)
	fc.putMeta(7, 3, 333, 444) // replaces the size of 3, keeps its header
	if err := fc.flush(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.cache"))
	if len(files) != 1 {
		t.Fatalf("cache files: %q", files)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file mode: %v %v", st.Mode(), err)
	}

	again := newIMAPCache(dir).folder("INBOX")
	if again.validity() != 7 || again.count() != 11 {
		t.Fatalf("reloaded: UIDVALIDITY %d, %d entries", again.validity(), again.count())
	}
	e, _ := again.get(3)
	if e.size != 333 || e.date != 444 || !e.hasHeader || !e.truncated || e.limit != 100 || string(e.header) != "Subject: s\r\nFrom: f\r\n" {
		t.Fatalf("entry 3: %+v", e)
	}
	if !e.covers("subject", 100) || e.covers("subject", 200) || e.covers("to", 10) || e.covers("", 10) {
		t.Errorf("covers of a truncated Subject/From entry is wrong")
	}
	if e, _ := again.get(11); e.hasHeader || e.size != 5 {
		t.Fatalf("entry 11: %+v", e)
	}

	// Another folder's cache is another file; a name clash is not served.
	if other := newIMAPCache(dir).folder("Sent"); other.count() != 0 {
		t.Fatalf("Sent has %d entries", other.count())
	}

	// UIDVALIDITY changes: everything goes, the file is rewritten.
	again.validate(8)
	if again.count() != 0 {
		t.Fatal("entries kept across UIDVALIDITY")
	}
	again.putMeta(8, 1, 1, 1)
	if err := again.flush(); err != nil {
		t.Fatal(err)
	}
	third := newIMAPCache(dir).folder("INBOX")
	if third.validity() != 8 || third.count() != 1 {
		t.Fatalf("after the UIDVALIDITY change: %d, %d entries", third.validity(), third.count())
	}
}

func TestIMAPCacheDamage(t *testing.T) {
	dir := t.TempDir()
	c := newIMAPCache(dir)
	fillCache(c.folder("INBOX"), 9, 20)
	if err := c.flushAll(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.cache"))
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// Cut anywhere: what comes before the cut is read, nothing breaks.
	prev := -1
	for cut := 0; cut <= len(data); cut++ {
		_, entries, _, ok := parseCache(data[:cut], "INBOX")
		if !ok {
			continue
		}
		if len(entries) < prev {
			t.Fatalf("cut at %d: %d entries, fewer than a shorter file", cut, len(entries))
		}
		prev = len(entries)
	}
	if prev != 20 {
		t.Fatalf("the whole file gives %d entries", prev)
	}
	// A flipped byte in a record ends the reading there.
	bad := bytes.Clone(data)
	bad[len(bad)-3] ^= 0xff
	_, entries, _, ok := parseCache(bad, "INBOX")
	if !ok || len(entries) != 19 {
		t.Fatalf("damaged last record: ok %v, %d entries", ok, len(entries))
	}
	if _, _, _, ok := parseCache(data, "Sent"); ok {
		t.Fatal("a cache for INBOX was read for Sent")
	}
	if _, _, _, ok := parseCache([]byte("garbage"), "INBOX"); ok {
		t.Fatal("garbage was read as a cache")
	}
	// A damaged file on disk is an empty cache, rewritten on the next
	// flush.
	if err := os.WriteFile(files[0], []byte("SMIMAPC2 broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	fc := newIMAPCache(dir).folder("INBOX")
	if fc.count() != 0 {
		t.Fatalf("damaged file gave %d entries", fc.count())
	}
	fillCache(fc, 9, 2)
	if err := fc.flush(); err != nil {
		t.Fatal(err)
	}
	if n := newIMAPCache(dir).folder("INBOX").count(); n != 2 {
		t.Fatalf("after the rewrite: %d entries", n)
	}
}

func FuzzParseCache(f *testing.F) {
	dir := f.TempDir()
	c := newIMAPCache(dir)
	fillCache(c.folder("INBOX"), 3, 4)
	if err := c.flushAll(); err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.cache"))
	seed, err := os.ReadFile(files[0])
	if err != nil || len(seed) == 0 {
		f.Fatalf("no seed: %v", err)
	}
	f.Add(seed)
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		uv, entries, _, ok := parseCache(data, "INBOX")
		if !ok {
			return
		}
		// What was read writes back and reads again the same.
		uv2, entries2, _, ok := parseCache(encodeCache("INBOX", uv, entries), "INBOX")
		if !ok || uv2 != uv || len(entries2) != len(entries) {
			t.Fatalf("round trip: %v %d/%d entries", ok, len(entries2), len(entries))
		}
		for uid, e := range entries {
			e2 := entries2[uid]
			if e2 == nil || e2.size != e.size || e2.date != e.date || e2.hasHeader != e.hasHeader || !bytes.Equal(e2.header, e.header) || e2.fields != e.fields {
				t.Fatalf("entry %d: %+v != %+v", uid, e2, e)
			}
		}
	})
}
