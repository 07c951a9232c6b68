package cms

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// sdtSeeds returns the seed corpus: openssl output and messages made by
// Sign committed in testdata (regenerate with go test -run
// 'TestOpenSSLSignWeVerify|TestWriteSignedSeeds' -update-signed-seeds),
// and hand-written BER. It generates no keys: under -fuzz every worker
// runs it, and instrumented RSA key generation takes minutes.
func sdtSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "signed-*.der"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	seeds = append(seeds,
		sdtUnsigned(nil, []byte("x")),
		[]byte{0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0x61, 0x00, 0x00, 0x00, 0x00},
		[]byte{0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00},
		[]byte{0x04, 0x84, 0xff, 0xff, 0xff, 0xff},
	)
	return seeds
}

func TestWriteSignedSeeds(t *testing.T) {
	if !*sdtUpdateSeeds {
		t.Skip("run with -update-signed-seeds")
	}
	pki := sdtPKI()
	for _, id := range pki.goodSigners() {
		for _, detached := range []bool{false, true} {
			msg, err := Sign([]byte("seed"), []Signer{{Certificate: id.cert, Key: id.key, SubjectKeyID: detached}}, &SignOptions{Detached: detached, Now: sdtClock})
			if err != nil {
				t.Fatal(err)
			}
			name := "signed-go-" + id.name + "-encapsulated.der"
			if detached {
				name = "signed-go-" + id.name + "-detached-ski.der"
			}
			if err := os.WriteFile(filepath.Join("testdata", name), msg, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestFuzzSeedCorpusNotEmpty(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "signed-openssl-*.der"))
	if len(files) == 0 {
		t.Fatal("no openssl seeds in testdata")
	}
	if files, _ := filepath.Glob(filepath.Join("testdata", "signed-go-*.der")); len(files) == 0 {
		t.Fatal("no Go-signed seeds in testdata")
	}
	if n := len(sdtSeeds(t)); n < 10 {
		t.Fatalf("only %d seeds", n)
	}
}

func FuzzToDER(f *testing.F) {
	for _, s := range sdtSeeds(f) {
		f.Add(s)
	}
	lim := &Limits{MaxSize: 1 << 20, MaxDepth: 32}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := ToDER(in, lim)
		if err != nil {
			if out != nil {
				t.Fatal("output with an error")
			}
			return
		}
		// Within a constant factor of the input.
		if len(out) > 2*len(in)+8 {
			t.Fatalf("output %d bytes for %d", len(out), len(in))
		}
		again, err := ToDER(out, lim)
		if err != nil {
			t.Fatalf("output does not re-read: %v", err)
		}
		if !bytes.Equal(again, out) {
			t.Fatal("ToDER not idempotent")
		}
	})
}

func FuzzParseSignedData(f *testing.F) {
	for _, s := range sdtSeeds(f) {
		f.Add(s)
	}
	lim := &Limits{MaxSize: 1 << 20, MaxDepth: 32}
	f.Fuzz(func(t *testing.T, in []byte) {
		sd, err := ParseSignedData(in, lim)
		if err != nil {
			return
		}
		opts := &VerifyOptions{}
		if !sd.Encapsulated {
			opts.Detached = bytes.NewReader([]byte("seed"))
		}
		res, err := sd.Verify(opts)
		if err != nil {
			return
		}
		if res.Unsigned || len(res.Signers) != len(sd.SignerInfos) {
			t.Fatalf("%d results for %d signers", len(res.Signers), len(sd.SignerInfos))
		}
		for _, r := range res.Signers {
			if r.Valid == (r.Err != nil) {
				t.Fatalf("Valid=%v with Err=%v", r.Valid, r.Err)
			}
		}
	})
}
