package keystore

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/eddsa"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

func TestS51_ModesAndExclusiveCreate(t *testing.T) {
	old := syscall.Umask(0) // modes must not depend on a friendly umask
	defer syscall.Umask(old)
	s := newTestStore(t)
	if _, err := s.Generate(GenerateRequest{Email: "mode@example.org", Algo: "p256", Passphrase: testPass}); err != nil {
		t.Fatal(err)
	}
	err := filepath.Walk(s.Dir(), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(fileMode)
		if info.IsDir() {
			want = dirMode
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %04o, want %04o", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// createFile never overwrites.
	p := filepath.Join(s.Dir(), "objects", "probe")
	if ok, err := createFile(p, []byte("first")); !ok || err != nil {
		t.Fatalf("create: %v %v", ok, err)
	}
	if ok, err := createFile(p, []byte("second")); ok || err != nil {
		t.Fatalf("second create: %v %v", ok, err)
	}
	if got, _ := os.ReadFile(p); string(got) != "first" {
		t.Fatalf("existing file overwritten: %q", got)
	}
}

// The child half of the crash and concurrency tests: it runs in a process
// of its own so that it can be killed with SIGKILL.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("KEYSTORE_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestS52_*")
	}
	opts := &Options{KDF: &fastKDF}
	switch os.Getenv("KEYSTORE_HELPER_MODE") {
	case "pause":
		// Stop between writing the new index and renaming it into place.
		opts.afterTempWrite = func() {
			fmt.Println("ready")
			time.Sleep(time.Hour)
		}
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(os.Getenv("KEYSTORE_HELPER_N"))
	prefix := os.Getenv("KEYSTORE_HELPER_PREFIX")
	for i := 0; i < n; i++ {
		e := newEntity(t, "User", fmt.Sprintf("%s%d@example.org", prefix, i), time.Now(), 0)
		if _, err := s.Import([]Input{{Name: "k", Data: publicBytes(t, e)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func helperCmd(t *testing.T, dir, mode, prefix string, n int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KEYSTORE_HELPER_DIR="+dir, "KEYSTORE_HELPER_MODE="+mode,
		"KEYSTORE_HELPER_PREFIX="+prefix, "KEYSTORE_HELPER_N="+strconv.Itoa(n))
	return cmd
}

// checkConsistent opens the store and reads every object it names.
func checkConsistent(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("store unreadable after crash: %v", err)
	}
	for _, e := range s.Entries() {
		if _, err := s.PGPKey(e.Fingerprint); err != nil {
			t.Fatalf("entry %s unusable after crash: %v", e.Fingerprint, err)
		}
	}
	return s
}

func TestS52_KillMidWrite(t *testing.T) {
	s := newTestStore(t)
	e := newEntity(t, "Old", "old@example.org", time.Now(), 0)
	if _, err := s.Import([]Input{{Name: "old", Data: publicBytes(t, e)}}, nil); err != nil {
		t.Fatal(err)
	}
	indexBefore, _ := os.ReadFile(s.indexPath())

	// Deterministic: killed after the new index is written, before rename.
	cmd := helperCmd(t, s.Dir(), "pause", "new", 1)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	indexAfter, _ := os.ReadFile(s.indexPath())
	if !bytes.Equal(indexBefore, indexAfter) {
		t.Fatal("index changed although the writer died before committing")
	}
	s2 := checkConsistent(t, s.Dir())
	if s2.Len() != 1 {
		t.Fatalf("%d entries, want the 1 from before the crash", s2.Len())
	}
	// The next writer cleans up what the dead one left behind.
	if _, err := s2.Import([]Input{{Name: "x", Data: publicBytes(t, newEntity(t, "X", "x@example.org", time.Now(), 0))}}, nil); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(s.Dir())
	for _, e := range ents {
		if e.Name() != "index" && e.Name() != "lock" && e.Name() != "objects" {
			t.Errorf("left behind: %s", e.Name())
		}
	}

	// Random: a writer importing in a loop is killed at random moments;
	// every time, the store must open and every key in it must be whole.
	last := 2
	for i := 0; i < 8; i++ {
		cmd := helperCmd(t, s.Dir(), "loop", fmt.Sprintf("r%d-", i), 1000)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(100+i*37) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		s3 := checkConsistent(t, s.Dir())
		if s3.Len() < last {
			t.Fatalf("keys lost: %d < %d", s3.Len(), last)
		}
		last = s3.Len()
	}
	if last <= 2 {
		t.Fatal("no writer got a key in before it was killed: the test did not test anything")
	}
	t.Logf("%d keys after 8 kills", last)
}

func TestS52_ConcurrentImporters(t *testing.T) {
	s := newTestStore(t)
	const n = 15
	a := helperCmd(t, s.Dir(), "loop", "a", n)
	b := helperCmd(t, s.Dir(), "loop", "b", n)
	var outA, outB bytes.Buffer
	a.Stderr, b.Stderr = &outA, &outB
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Fatalf("importer a: %v %s", err, outA.String())
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("importer b: %v %s", err, outB.String())
	}
	s2 := checkConsistent(t, s.Dir())
	if s2.Len() != 2*n {
		t.Fatalf("%d keys, want %d: an importer's keys were lost", s2.Len(), 2*n)
	}
	for i := 0; i < n; i++ {
		for _, p := range []string{"a", "b"} {
			if len(s2.Lookup(fmt.Sprintf("%s%d@example.org", p, i))) != 1 {
				t.Fatalf("%s%d missing", p, i)
			}
		}
	}
}

// secretMaterial returns the raw secret of each generated key: the EdDSA
// seed of the OpenPGP primary key and the ECDSA scalar of the S/MIME key.
func secretMaterial(t *testing.T, s *Store, pgpFpr, smimeFpr string, pass []byte) [][]byte {
	t.Helper()
	e, err := s.UnlockPGP(pgpFpr, pass)
	if err != nil {
		t.Fatal(err)
	}
	seed := e.PrivateKey.PrivateKey.(*eddsa.PrivateKey).D
	k, _, err := s.UnlockSMIME(smimeFpr, pass)
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := k.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{seed, scalar}
}

func TestS53_NoPlaintextPrivateKeyAtRest(t *testing.T) {
	for _, protect := range []bool{true, false} {
		s := newTestStore(t)
		var pass []byte
		if protect {
			pass = testPass
		}
		res, err := s.Generate(GenerateRequest{Email: "rest@example.org", Algo: "p256", Passphrase: pass, NoPassphrase: !protect})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Kind != PGP {
			t.Fatal("order")
		}
		// The OpenPGP key here is P-256 too; use an Ed25519 one for the seed.
		res2, err := s.Generate(GenerateRequest{Email: "rest2@example.org", PGP: true, Passphrase: pass, NoPassphrase: !protect})
		if err != nil {
			t.Fatal(err)
		}
		secrets := secretMaterial(t, s, res2[0].Fingerprint, res[1].Fingerprint, pass)
		found := 0
		for p, data := range storeFiles(t, s.Dir()) {
			for _, sec := range secrets {
				if bytes.Contains(data, sec) {
					found++
					if protect {
						t.Errorf("plaintext secret key material in %s", p)
					}
				}
			}
		}
		for _, e := range s.Entries() {
			if e.Protected != protect {
				t.Errorf("%s protected=%v", e.Fingerprint, e.Protected)
			}
		}
		// Unprotected keys (asked for explicitly) are found by the same scan:
		// the scan can fail.
		if !protect && found != len(secrets) {
			t.Errorf("scan found %d of %d unprotected secrets", found, len(secrets))
		}
	}
}

// gpgStyleSecret returns e's transferable secret key protected the way
// GnuPG does it (S2K usage 254: the checksum covers only the secret part).
func gpgStyleSecret(t *testing.T, pass []byte) ([]byte, string) {
	e := newEntity(t, "Tam", "tam@example.org", time.Now(), 0)
	cfg := &packet.Config{S2KConfig: &s2k.Config{S2KMode: s2k.IteratedSaltedS2K, Hash: crypto.SHA256, S2KCount: 1024}}
	if err := e.EncryptPrivateKeys(pass, cfg); err != nil {
		t.Fatal(err)
	}
	return secretBytes(t, e), pgpFingerprint(e)
}

func TestS54_TamperedPublicParameters(t *testing.T) {
	// On import: flip a bit of the public point inside the (GnuPG-style
	// encrypted) secret key packets of the primary key and of the
	// encryption subkey. Their S2K checksum does not cover the public part.
	pristine, _ := gpgStyleSecret(t, testPass)
	e, err := readPGP(pristine)
	if err != nil {
		t.Fatal(err)
	}
	var primaryPub, subPub bytes.Buffer
	e[0].PrimaryKey.Serialize(&primaryPub)
	e[0].Subkeys[0].PublicKey.Serialize(&subPub)
	for name, pub := range map[string][]byte{"primary": primaryPub.Bytes(), "subkey": subPub.Bytes()} {
		// The public fields follow the packet header; the point's last byte
		// is the last byte of the public packet body.
		body := pub[2:]
		at := bytes.Index(pristine, body)
		if at < 0 {
			t.Fatalf("%s: public fields not found in the secret key", name)
		}
		last := at + len(body) - 1 // EdDSA: the point ends the body
		if name == "subkey" {
			last -= 4 // ECDH: the KDF parameters (4 octets) follow the point
		}
		tampered := bytes.Clone(pristine)
		tampered[last] ^= 0x01
		s := newTestStore(t)
		before := storeFiles(t, s.Dir())
		_, err := s.Import([]Input{{Name: "tampered.asc", Data: tampered}}, &ImportOptions{Passphrase: passFunc(testPass)})
		// A tampered primary key no longer matches its own self-signatures
		// and is refused as malformed; a tampered subkey decrypts but fails
		// the key consistency check.
		var ie *IntegrityError
		var fe *FormatError
		if err == nil || (name == "subkey" && !errors.As(err, &ie)) || (name == "primary" && !errors.As(err, &ie) && !errors.As(err, &fe)) {
			t.Fatalf("%s: tampered secret key imported: %v", name, err)
		}
		sameFiles(t, before, storeFiles(t, s.Dir()))
	}

	// In the store: someone who can write the store rewrites a sealed key
	// (recomputing its object name), or swaps the sealed keys of two
	// entries, or the public key of an entry.
	s := newTestStore(t)
	a, err := s.Generate(GenerateRequest{Email: "a@example.org", PGP: true, Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Generate(GenerateRequest{Email: "b@example.org", PGP: true, Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := a[0].Fingerprint, b[0].Fingerprint
	editIndex := func(edit func(ra, rb *record)) *Store {
		recs, err := s.readIndex()
		if err != nil {
			t.Fatal(err)
		}
		var ra, rb *record
		for i := range recs {
			switch recs[i].Fingerprint {
			case fa:
				ra = &recs[i]
			case fb:
				rb = &recs[i]
			}
		}
		edit(ra, rb)
		if err := os.WriteFile(s.indexPath(), encodeIndex(recs), 0o600); err != nil {
			t.Fatal(err)
		}
		s2, err := Open(s.Dir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s2
	}
	orig, _ := s.readIndex()
	var origA record
	for _, r := range orig {
		if r.Fingerprint == fa {
			origA = r
		}
	}
	cases := map[string]func(ra, rb *record){
		"sealed key rewritten": func(ra, rb *record) {
			env, _ := os.ReadFile(filepath.Join(s.objectDir(), origA.SecretObject))
			env = bytes.Clone(env)
			env[len(env)-20] ^= 0x80
			sum := sha256.Sum256(env)
			name := hex.EncodeToString(sum[:])
			os.WriteFile(filepath.Join(s.objectDir(), name), env, 0o600)
			ra.SecretObject = name
		},
		"sealed keys swapped": func(ra, rb *record) {
			ra.SecretObject = rb.SecretObject
		},
		"public key swapped": func(ra, rb *record) {
			ra.SecretObject = origA.SecretObject
			ra.PublicObject = rb.PublicObject
		},
	}
	for name, edit := range cases {
		s2 := editIndex(edit)
		_, err := s2.UnlockPGP(fa, testPass)
		var ie *IntegrityError
		if !errors.As(err, &ie) {
			t.Errorf("%s: key used anyway: %v", name, err)
		}
	}
}

func TestS55_BadInputLeavesStoreUnchanged(t *testing.T) {
	s := newTestStore(t)
	if _, err := s.Generate(GenerateRequest{Email: "keep@example.org", PGP: true, Passphrase: testPass}); err != nil {
		t.Fatal(err)
	}
	secret, _ := gpgStyleSecret(t, testPass)
	var armored bytes.Buffer
	armorPGP(&armored, "PGP PRIVATE KEY BLOCK", secret)
	before := storeFiles(t, s.Dir())
	for name, tc := range map[string]struct {
		data []byte
		pass []byte
		want any
	}{
		"wrong passphrase": {armored.Bytes(), []byte("wrong"), &ErrWrongPassphrase},
		"truncated armor":  {armored.Bytes()[:armored.Len()/2], testPass, new(*FormatError)},
		"truncated binary": {secret[:len(secret)-7], testPass, new(*FormatError)},
		"garbage":          {[]byte("hello, world\n"), testPass, new(*FormatError)},
		"empty":            {nil, testPass, new(*FormatError)},
		"truncated PEM":    {[]byte("-----BEGIN CERTIFICATE-----\nMIIB\n"), testPass, new(*FormatError)},
		"bad DER":          {[]byte{0x30, 0x82, 0xff, 0xff, 0x01}, testPass, new(*FormatError)},
	} {
		_, err := s.Import([]Input{{Name: "in", Data: tc.data}}, &ImportOptions{Passphrase: passFunc(tc.pass)})
		switch want := tc.want.(type) {
		case *error:
			if !errors.Is(err, *want) {
				t.Errorf("%s: err = %v", name, err)
			}
		default:
			if !errors.As(err, want) {
				t.Errorf("%s: err = %v", name, err)
			}
		}
		sameFiles(t, before, storeFiles(t, s.Dir()))
	}
	// A corrupt index is a clean error, and it is not overwritten.
	good, _ := os.ReadFile(s.indexPath())
	for name, bad := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"edited":    bytes.Replace(good, []byte("keep@"), []byte("kept@"), 1),
		"empty":     nil,
		"json":      []byte(`{"version":1,"entries":[{"kind":`),
	} {
		os.WriteFile(s.indexPath(), bad, 0o600)
		var ie *IntegrityError
		if _, err := Open(s.Dir(), nil); !errors.As(err, &ie) {
			t.Fatalf("%s index: %v", name, err)
		}
		if _, err := s.Import([]Input{{Name: "k", Data: publicBytes(t, newEntity(t, "K", "k@example.org", time.Now(), 0))}}, nil); !errors.As(err, &ie) {
			t.Fatalf("%s index: a write went ahead: %v", name, err)
		}
		if got, _ := os.ReadFile(s.indexPath()); !bytes.Equal(got, bad) {
			t.Fatalf("%s index was overwritten", name)
		}
	}
	// A home others can read is warned about.
	home := t.TempDir()
	os.Chmod(home, 0o755)
	if HomeWarning(home) == "" {
		t.Fatal("no warning for a world-readable home")
	}
	os.Chmod(home, 0o700)
	if w := HomeWarning(home); w != "" {
		t.Fatalf("warning for a private home: %s", w)
	}
}

func TestS54_SubkeyWithBrokenBindingDropped(t *testing.T) {
	e := newEntity(t, "Ulf", "ulf@example.org", time.Now(), 0)
	data := publicBytes(t, e)
	var sub bytes.Buffer
	e.Subkeys[0].PublicKey.Serialize(&sub)
	body := sub.Bytes()[2:]
	at := bytes.Index(data, body)
	tampered := bytes.Clone(data)
	tampered[at+len(body)-1] ^= 0x01 // the KDF cipher octet, outside any checksum
	s := newTestStore(t)
	res, err := s.Import([]Input{{Name: "ulf", Data: tampered}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.PGPKey(res[0].Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Subkeys) != 0 {
		t.Fatal("a subkey whose binding signature does not verify was kept")
	}
}
