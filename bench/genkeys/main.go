// Command genkeys writes a keyring of N fresh OpenPGP v4 public keys for
// benchmarks: each an Ed25519 (EdDSA legacy) primary key with a Curve25519
// encryption subkey and one user ID, "Bench User 00001
// <user00001@bench.example>", "... 00002", and so on, so that every key has
// its own address. Keys are generated in parallel on every core.
//
//	go run ./bench/genkeys -n 10000 -o keys.asc
//	go run ./bench/genkeys -n 10000 -binary -o keys.pgp
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

func main() {
	n := flag.Int("n", 10000, "number of keys")
	out := flag.String("o", "-", "output `FILE` (- for stdout)")
	binary := flag.Bool("binary", false, "write binary packets instead of ASCII armor")
	domain := flag.String("domain", "bench.example", "mail domain of the addresses")
	workers := flag.Int("j", runtime.GOMAXPROCS(0), "parallel generators")
	quiet := flag.Bool("q", false, "do not report progress on stderr")
	flag.Parse()
	if *n < 1 || *workers < 1 || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: genkeys [-n N] [-o FILE] [-binary] [-domain D] [-j WORKERS] [-q]")
		os.Exit(2)
	}
	start := time.Now()
	keys, err := generate(*n, *workers, *domain)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genkeys:", err)
		os.Exit(1)
	}
	if err := write(*out, keys, *binary); err != nil {
		fmt.Fprintln(os.Stderr, "genkeys:", err)
		os.Exit(1)
	}
	if !*quiet {
		fmt.Fprintf(os.Stderr, "genkeys: %d keys in %v (%d workers)\n", *n, time.Since(start).Round(time.Millisecond), *workers)
	}
}

// address is the address of key i (1-based): user00001@bench.example.
func address(i int, domain string) string { return fmt.Sprintf("user%05d@%s", i, domain) }

// generate returns the serialized public keys, key i at index i-1.
func generate(n, workers int, domain string) ([][]byte, error) {
	keys := make([][]byte, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	now := time.Now()
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := &packet.Config{
				Algorithm: packet.PubKeyAlgoEdDSA,
				Curve:     packet.Curve25519,
				Time:      func() time.Time { return now },
			}
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				e, err := openpgp.NewEntity(fmt.Sprintf("Bench User %05d", i), "", address(i, domain), cfg)
				var buf bytes.Buffer
				if err == nil {
					err = e.Serialize(&buf)
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("key %d: %w", i, err) })
					next.Store(int64(n)) // stop the others
					return
				}
				keys[i-1] = buf.Bytes()
			}
		}()
	}
	wg.Wait()
	return keys, firstErr
}

func write(path string, keys [][]byte, binary bool) (err error) {
	var f *os.File
	if path == "-" {
		f = os.Stdout
	} else {
		if f, err = os.Create(path); err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	var aw io.WriteCloser
	if !binary {
		if aw, err = armor.Encode(bw, openpgp.PublicKeyType, nil); err != nil {
			return err
		}
		w = aw
	}
	for _, k := range keys {
		if _, err := w.Write(k); err != nil {
			return err
		}
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			return err
		}
		if _, err := bw.WriteString("\n"); err != nil {
			return err
		}
	}
	return bw.Flush()
}
