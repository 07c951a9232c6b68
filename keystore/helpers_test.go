package keystore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// fastKDF keeps unit tests quick; the parameters are stored per key, so the
// code paths are the same as with DefaultKDF.
var fastKDF = KDFParams{Time: 1, Memory: 64, Threads: 1}

var testPass = []byte("correct horse battery staple")

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "keys"), &Options{KDF: &fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func passFunc(pw []byte) func() ([]byte, error) {
	return func() ([]byte, error) { return pw, nil }
}

// newEntity makes a v4 Ed25519 OpenPGP key for tests.
func newEntity(t testing.TB, name, addr string, created time.Time, lifetime time.Duration) *openpgp.Entity {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, Time: func() time.Time { return created }}
	if lifetime > 0 {
		cfg.KeyLifetimeSecs = uint32(lifetime / time.Second)
	}
	e, err := openpgp.NewEntity(name, "", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func publicBytes(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := e.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func secretBytes(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// storeFiles returns every file under dir with its content.
func storeFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() && info.Name() != "lock" {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = data
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameFiles(t testing.TB, before, after map[string][]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("store changed: %d files before, %d after", len(before), len(after))
	}
	for p, b := range before {
		if !bytes.Equal(after[p], b) {
			t.Fatalf("store changed: %s", p)
		}
	}
}
