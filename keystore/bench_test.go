package keystore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/securemail/securemail/keystore"
)

// The benchmarks share one store of benchKeys OpenPGP contacts, built on
// first use (only when a benchmark runs, never in a plain `go test`) and
// removed by TestMain.
const benchKeys = 10000

var bench struct {
	once  sync.Once
	root  string // os.MkdirTemp directory, removed by TestMain
	dir   string // the store
	addrs []string
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.root != "" {
		os.RemoveAll(bench.root)
	}
	os.Exit(code)
}

// benchAddr is the address of contact i (1-based).
func benchAddr(i int) string { return fmt.Sprintf("user%05d@bench.example", i) }

// benchStore returns the directory of the shared 10,000-key store and the
// contacts' addresses, building the store the first time.
func benchStore(b *testing.B) (string, []string) {
	b.Helper()
	bench.once.Do(func() {
		bench.root, bench.err = os.MkdirTemp("", "securemail-bench-")
		if bench.err != nil {
			return
		}
		bench.dir = filepath.Join(bench.root, "keys")
		var gen, imp time.Duration
		bench.addrs, gen, imp, bench.err = buildBenchStore(bench.dir, benchKeys)
		if bench.err == nil {
			b.Logf("built a store of %d keys: generate %v, Import %v", benchKeys, gen.Round(time.Millisecond), imp.Round(time.Millisecond))
		}
	})
	if bench.err != nil {
		b.Fatalf("building the benchmark store: %v", bench.err)
	}
	return bench.dir, bench.addrs
}

// buildBenchStore generates n fresh v4 Ed25519 keys (in parallel), one
// address each, and imports them as one keyring with a single Import call.
func buildBenchStore(dir string, n int) (addrs []string, gen, imp time.Duration, err error) {
	start := time.Now()
	addrs = make([]string, n)
	blobs := make([][]byte, n)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	now := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, Time: func() time.Time { return now }}
			for {
				i := int(next.Add(1))
				if i > n || failed.Load() != nil {
					return
				}
				addr := benchAddr(i)
				e, err := openpgp.NewEntity(fmt.Sprintf("Bench User %05d", i), "", addr, cfg)
				var buf bytes.Buffer
				if err == nil {
					err = e.Serialize(&buf)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				addrs[i-1], blobs[i-1] = addr, buf.Bytes()
			}
		})
	}
	wg.Wait()
	if p := failed.Load(); p != nil {
		return nil, 0, 0, *p
	}
	keyring := bytes.Join(blobs, nil)
	gen = time.Since(start)

	start = time.Now()
	s, err := keystore.Open(dir, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	res, err := s.Import([]keystore.Input{{Name: "bench.pgp", Data: keyring}}, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	imp = time.Since(start)
	if len(res) != n || s.Len() != n {
		return nil, 0, 0, fmt.Errorf("imported %d results, store holds %d keys, want %d", len(res), s.Len(), n)
	}
	for _, r := range res {
		if r.Status != keystore.StatusNew || len(r.Emails) != 1 {
			return nil, 0, 0, fmt.Errorf("key %s: status %s, emails %v", r.Fingerprint, r.Status, r.Emails)
		}
	}
	return addrs, gen, imp, nil
}

// BenchmarkOpen10k opens (reads the index of) a store of 10,000 contacts.
func BenchmarkOpen10k(b *testing.B) {
	dir, _ := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := keystore.Open(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		if s.Len() != benchKeys {
			b.Fatalf("store holds %d keys, want %d", s.Len(), benchKeys)
		}
	}
}

// BenchmarkLookup10k looks contacts up by address in an open store of
// 10,000 (goal: under 50 µs per lookup).
func BenchmarkLookup10k(b *testing.B) {
	dir, addrs := benchStore(b)
	s, err := keystore.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		addr := addrs[i%len(addrs)]
		i += 7919 // a prime: spread the lookups over the store
		if es := s.Lookup(addr); len(es) != 1 {
			b.Fatalf("Lookup(%s) = %d entries, want 1", addr, len(es))
		}
	}
}

// BenchmarkList10k is what `securemail keys list` does before printing:
// Open, then Entries.
func BenchmarkList10k(b *testing.B) {
	dir, _ := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		s, err := keystore.Open(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		if es := s.Entries(); len(es) != benchKeys {
			b.Fatalf("Entries() = %d, want %d", len(es), benchKeys)
		}
	}
}
