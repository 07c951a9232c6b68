package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingWriter records how many octets reached it.
type countingWriter struct {
	n   int
	buf bytes.Buffer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return c.buf.Write(p)
}

func streamMsg(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func streamEncrypt(t testing.TB, msg []byte, certs []*x509.Certificate, opts *EncryptOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := EncryptTo(&out, bytes.NewReader(msg), certs, opts); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func streamDecrypt(in []byte, cert *x509.Certificate, key crypto.PrivateKey, memSpool int64) ([]byte, *DecryptInfo, int, error) {
	var w countingWriter
	info, err := decryptTo(&w, bytes.NewReader(in), cert, key, nil, memSpool)
	return w.buf.Bytes(), info, w.n, err
}

func TestStreamRoundTrip(t *testing.T) {
	rc, rk := envTestRSA(t)
	ec, ek := envTestEC(t)
	sizes := []int{0, 1, 15, 16, 17, 1000, streamChunk - 1, streamChunk, streamChunk + 1,
		2*streamChunk - 16, 2*streamChunk + 17, 200001}
	algs := []ContentAlgorithm{AES128GCM, AES256GCM, AES128CBC, AES256CBC}
	for _, alg := range algs {
		for _, n := range sizes {
			msg := streamMsg(n)
			opts := &EncryptOptions{Algorithm: alg}
			ber := streamEncrypt(t, msg, []*x509.Certificate{rc, ec}, opts)
			name := fmt.Sprintf("%v/%d", alg, n)
			for _, p := range []struct {
				cert *x509.Certificate
				key  crypto.PrivateKey
			}{{rc, rk}, {ec, ek}} {
				for _, mem := range []int64{streamMemSpool, 1000} {
					got, info, _, err := streamDecrypt(ber, p.cert, p.key, mem)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("%s: DecryptTo(EncryptTo) spool %d: %v", name, mem, err)
					}
					if info.Algorithm != alg || info.Integrity != alg.AEAD() || info.AuthEnveloped != alg.AEAD() {
						t.Fatalf("%s: info %+v", name, info)
					}
				}
			}
			der, err := ToDER(ber, nil)
			if err != nil {
				t.Fatalf("%s: ToDER: %v", name, err)
			}
			got, info, err := Decrypt(der, rc, rk, nil)
			if err != nil || !bytes.Equal(got, msg) || info.Algorithm != alg {
				t.Fatalf("%s: Decrypt(ToDER(EncryptTo)): %v", name, err)
			}
			// And the other way: DER from Encrypt through DecryptTo.
			der, err = Encrypt(msg, []*x509.Certificate{ec, rc}, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, mem := range []int64{streamMemSpool, 100} {
				got, _, _, err = streamDecrypt(der, rc, rk, mem)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("%s: DecryptTo(Encrypt): %v", name, err)
				}
			}
			// The DER form of our BER too.
			if got, _, _, err = streamDecrypt(mustToDER(t, ber), ec, ek, streamMemSpool); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s: DecryptTo(ToDER(EncryptTo)): %v", name, err)
			}
		}
	}
}

func mustToDER(t testing.TB, ber []byte) []byte {
	t.Helper()
	der, err := ToDER(ber, nil)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestStreamEncryptOptions(t *testing.T) {
	rc, rk := envTestRSA(t)
	msg := []byte("options")
	for _, opts := range []*EncryptOptions{
		nil,
		{RSAPadding: RSAPaddingPKCS1v15, UseSubjectKeyID: true},
		{Algorithm: AES256CBC, UseSubjectKeyID: true},
	} {
		ber := streamEncrypt(t, msg, []*x509.Certificate{rc}, opts)
		got, _, _, err := streamDecrypt(ber, rc, rk, streamMemSpool)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%+v: %v", opts, err)
		}
	}
	if err := EncryptTo(io.Discard, bytes.NewReader(msg), nil, nil); err == nil {
		t.Fatal("no recipients accepted")
	}
	if err := EncryptTo(io.Discard, bytes.NewReader(msg), []*x509.Certificate{rc}, &EncryptOptions{Algorithm: 99}); err == nil {
		t.Fatal("unknown algorithm accepted")
	}
}

// S06 on the stream path: a flipped tag or ciphertext octet, a truncated
// stream or trailing data give an error and not a single octet of output.
func TestS06_StreamReleasesNothingUnauthenticated(t *testing.T) {
	rc, rk := envTestRSA(t)
	msg := streamMsg(3*streamChunk + 100)
	ber := streamEncrypt(t, msg, []*x509.Certificate{rc}, nil)
	seg := bytes.Index(ber, []byte{0x04, 0x83, 0x01, 0x00, 0x00}) // first full segment
	if seg < 0 {
		t.Fatal("no 64 KiB segment")
	}
	type tc struct {
		name string
		in   []byte
	}
	var cases []tc
	flip := func(name string, i int) {
		b := bytes.Clone(ber)
		b[i] ^= 0x01
		cases = append(cases, tc{name, b})
	}
	tagAt := len(ber) - 6 - 16
	flip("tag first octet", tagAt)
	flip("tag last octet", tagAt+15)
	flip("first ciphertext octet", seg+5)
	flip("middle ciphertext octet", seg+5+streamChunk/2)
	flip("last ciphertext octet", tagAt-2-4-1)
	for _, n := range []int{0, 1, 2, 50, seg, seg + 5, seg + 5 + streamChunk, len(ber) / 2, tagAt - 1, tagAt + 8, len(ber) - 3, len(ber) - 1} {
		cases = append(cases, tc{fmt.Sprintf("truncated to %d", n), ber[:n]})
	}
	cases = append(cases, tc{"trailing data", append(bytes.Clone(ber), 0x05, 0x00)})
	cases = append(cases, tc{"trailing zeros", append(bytes.Clone(ber), 0, 0)})
	// mac of the wrong length.
	short := bytes.Clone(ber[:tagAt-2])
	short = append(short, 0x04, 15)
	short = append(short, ber[tagAt:tagAt+15]...)
	short = append(short, ber[len(ber)-6:]...)
	cases = append(cases, tc{"short mac", short})
	for _, c := range cases {
		for _, mem := range []int64{streamMemSpool, 4096} {
			out, info, n, err := streamDecrypt(c.in, rc, rk, mem)
			if err == nil || n != 0 || len(out) != 0 || info != nil {
				t.Fatalf("%s (spool %d): err=%v, %d octets written", c.name, mem, err, n)
			}
		}
	}
	// The flips are content-layer failures, reported as such.
	for _, c := range cases[:5] {
		if _, _, _, err := streamDecrypt(c.in, rc, rk, streamMemSpool); !errors.Is(err, ErrContentDecryption) {
			t.Fatalf("%s: %v, want ErrContentDecryption", c.name, err)
		}
	}
	// An intact copy still decrypts (the cases did not alias ber).
	if got, _, _, err := streamDecrypt(ber, rc, rk, 4096); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("intact: %v", err)
	}
}

// EnvelopedData (CBC) has no integrity (S05), but DecryptTo still checks
// the padding and the whole structure before writing anything.
func TestS09_StreamCBCBadPaddingWritesNothing(t *testing.T) {
	rc, rk := envTestRSA(t)
	msg := streamMsg(2*streamChunk + 5)
	ber := streamEncrypt(t, msg, []*x509.Certificate{rc}, &EncryptOptions{Algorithm: AES256CBC})
	end := len(ber) - 10 // after the content: 00 00 x 5
	cases := map[string][]byte{}
	// Flipping the second-to-last block changes the last plaintext
	// block's padding octets; flipping the last block scrambles it.
	for _, off := range []int{1, 17} {
		b := bytes.Clone(ber)
		b[end-2-2-off] ^= 0x40 // before the two end-of-contents octets
		cases[fmt.Sprintf("flip %d from the end", off)] = b
	}
	cases["truncated"] = ber[:len(ber)-3]
	cases["truncated in content"] = ber[:len(ber)/2]
	for name, in := range cases {
		for _, mem := range []int64{streamMemSpool, 4096} {
			_, _, n, err := streamDecrypt(in, rc, rk, mem)
			if err == nil || n != 0 {
				t.Fatalf("%s: err=%v, %d octets written", name, err, n)
			}
		}
	}
	// A ciphertext without a whole block.
	b := envBuildRaw(t, envOIDEnvelopedData, envAlgDER(&envContentParams{alg: AES256CBC, iv: make([]byte, 16)}),
		make([]byte, 20), nil, nil, rc, make([]byte, 32))
	if _, _, n, err := streamDecrypt(b, rc, rk, streamMemSpool); !errors.Is(err, ErrContentDecryption) || n != 0 {
		t.Fatalf("partial block: %v, %d written", err, n)
	}
}

func TestStreamAuthAttrsAreAAD(t *testing.T) {
	rc, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{0x42}, 32)
	p := &envContentParams{alg: AES256GCM, iv: make([]byte, 12), icvLn: 16}
	attrs := envAuthAttrs()
	pt := streamMsg(1000)
	ct, tag, err := envGCMSeal(cek, p.iv, pt, envAuthAttrsAAD(attrs))
	if err != nil {
		t.Fatal(err)
	}
	der := envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, attrs, tag, rc, cek)
	if got, _, _, err := streamDecrypt(der, rc, rk, streamMemSpool); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("with attrs: %v", err)
	}
	der = envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, tag, rc, cek)
	if _, _, n, err := streamDecrypt(der, rc, rk, streamMemSpool); !errors.Is(err, ErrContentDecryption) || n != 0 {
		t.Fatalf("attrs stripped: %v, %d written", err, n)
	}
}

func TestStreamRejectsMalformed(t *testing.T) {
	rc, rk := envTestRSA(t)
	der, err := Encrypt([]byte("x"), []*x509.Certificate{rc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, 100)
	for name, in := range map[string][]byte{
		"empty":               nil,
		"not a sequence":      {0x04, 0x00},
		"signed data":         envContentInfo(envOIDData, []byte{0x30, 0x00}),
		"indefinite prim":     {0x30, 0x80, 0x06, 0x80},
		"long length":         {0x30, 0x85, 1, 0, 0, 0, 0},
		"non-minimal length":  {0x30, 0x81, 0x05},
		"deep":                deep,
		"child beyond parent": append([]byte{0x30, 0x03, 0x06, 0x09}, der[4:]...),
	} {
		if _, _, n, err := streamDecrypt(in, rc, rk, streamMemSpool); err == nil || n != 0 {
			t.Fatalf("%s: accepted", name)
		}
	}
}

func TestStreamOpenSSL(t *testing.T) {
	openssl := needPeer(t, "openssl")
	dir, rsaP, ecP := envOpenSSLPeers(t)
	for _, n := range []int{0, 3000, 3*streamChunk + 7} {
		msg := streamMsg(n)
		in := filepath.Join(dir, "msg")
		if err := os.WriteFile(in, msg, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, alg := range []ContentAlgorithm{AES256GCM, AES128CBC} {
			// Ours to openssl.
			ber := streamEncrypt(t, msg, []*x509.Certificate{rsaP.cert, ecP.cert}, &EncryptOptions{Algorithm: alg})
			f := filepath.Join(dir, "ours.ber")
			if err := os.WriteFile(f, ber, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, p := range []envPeer{rsaP, ecP} {
				got := envRun(t, openssl, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", f,
					"-recip", p.certPath, "-inkey", p.keyPath)
				if !bytes.Equal(got, msg) {
					t.Fatalf("%v %d %s: openssl output differs", alg, n, p.name)
				}
			}
			// openssl's, streamed and not, to ours.
			for _, stream := range []bool{true, false} {
				if stream && n == 0 && alg.AEAD() {
					continue // openssl 3.0 fails to write empty GCM content with -stream
				}
				out := filepath.Join(dir, "theirs")
				args := []string{"cms", "-encrypt", "-binary", "-" + alg.String(), "-in", in, "-outform", "DER", "-out", out,
					"-recip", rsaP.certPath}
				if alg.AEAD() { // -keyopt applies to the -recip before it
					args = append(args, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256")
				}
				args = append(args, "-recip", ecP.certPath)
				if stream {
					args = append(args, "-stream")
				}
				envRun(t, openssl, args...)
				enc, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range []envPeer{rsaP, ecP} {
					got, info, _, err := streamDecrypt(enc, p.cert, p.key, 4096)
					if err != nil || !bytes.Equal(got, msg) || info.Algorithm != alg {
						t.Fatalf("%v %d stream=%v %s: %v", alg, n, stream, p.name, err)
					}
				}
			}
		}
	}
}

// patternReader yields n pseudo-random octets without holding them.
type patternReader struct {
	rng *mrand.ChaCha8
	n   int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n)]
	p.rng.Read(b)
	p.n -= int64(len(b))
	return len(b), nil
}

// A large message goes through EncryptTo and DecryptTo, connected by a
// pipe, with the heap staying far below the message size. 32 MiB here
// (twice the in-memory spool, so the file spool is used); bench/smime.sh
// measures 100 MiB with peak RSS.
func TestStreamLargeBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	const size = 32 << 20
	rc, rk := envTestRSA(t)
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	seed := [32]byte{7}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(EncryptTo(pw, &patternReader{mrand.NewChaCha8(seed), size}, []*x509.Certificate{rc}, nil))
	}()
	h := sha256.New()
	info, err := DecryptTo(h, pr, rc, rk, nil)
	close(stop)
	wg.Wait()
	if err != nil || !info.Integrity {
		t.Fatal(err)
	}
	want := sha256.New()
	io.Copy(want, &patternReader{mrand.NewChaCha8(seed), size})
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Fatal("content differs")
	}
	t.Logf("%d MiB: peak HeapAlloc %.1f MiB", size>>20, float64(peak.Load())/(1<<20))
	if peak.Load() > 3*streamMemSpool {
		t.Fatalf("peak heap %d octets for a %d-octet message", peak.Load(), size)
	}
}

func BenchmarkEncryptTo(b *testing.B) {
	rc, _ := envTestRSA(b)
	msg := streamMsg(10 << 20)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := EncryptTo(io.Discard, bytes.NewReader(msg), []*x509.Certificate{rc}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecryptTo(b *testing.B) {
	rc, rk := envTestRSA(b)
	msg := streamMsg(10 << 20)
	ber := streamEncrypt(b, msg, []*x509.Certificate{rc}, nil)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := DecryptTo(io.Discard, bytes.NewReader(ber), rc, rk, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// Choose picks the identity from the recipients before any content, and
// Sink receives the content (even when empty) instead of w.
func TestStreamChooseAndSink(t *testing.T) {
	rc, rk := envTestRSA(t)
	ec, ek := envTestEC(t)
	for _, n := range []int{0, 5000} {
		msg := streamMsg(n)
		for _, alg := range []ContentAlgorithm{AES256GCM, AES256CBC} {
			ber := streamEncrypt(t, msg, []*x509.Certificate{ec}, &EncryptOptions{Algorithm: alg})
			var asked []bool
			var sunk bytes.Buffer
			var sinkInfo *DecryptInfo
			var w countingWriter
			info, err := DecryptTo(&w, bytes.NewReader(ber), nil, nil, &DecryptOptions{
				Choose: func(names func(*x509.Certificate) bool) (*x509.Certificate, crypto.PrivateKey, error) {
					asked = append(asked, names(rc), names(ec))
					return ec, ek, nil
				},
				Sink: func(i *DecryptInfo) (io.Writer, error) {
					sinkInfo = i
					return &sunk, nil
				},
			})
			if err != nil {
				t.Fatalf("%v/%d: %v", alg, n, err)
			}
			if fmt.Sprint(asked) != "[false true]" {
				t.Fatalf("%v/%d: names said %v, want [false true]", alg, n, asked)
			}
			if w.n != 0 || !bytes.Equal(sunk.Bytes(), msg) || sinkInfo != info {
				t.Fatalf("%v/%d: w got %d octets, sink %d of %d, info %p vs %p", alg, n, w.n, sunk.Len(), len(msg), sinkInfo, info)
			}
			// The wrong identity chosen, or an error from Choose.
			if _, err := DecryptTo(io.Discard, bytes.NewReader(ber), nil, nil, &DecryptOptions{
				Choose: func(func(*x509.Certificate) bool) (*x509.Certificate, crypto.PrivateKey, error) { return rc, rk, nil },
			}); !errors.Is(err, ErrNoRecipient) {
				t.Fatalf("%v/%d: wrong identity: %v", alg, n, err)
			}
			errLocked := errors.New("locked")
			if _, err := DecryptTo(io.Discard, bytes.NewReader(ber), nil, nil, &DecryptOptions{
				Choose: func(func(*x509.Certificate) bool) (*x509.Certificate, crypto.PrivateKey, error) {
					return nil, nil, errLocked
				},
			}); !errors.Is(err, errLocked) {
				t.Fatalf("%v/%d: Choose error: %v", alg, n, err)
			}
			// A tampered message never reaches the sink.
			bad := bytes.Clone(ber)
			bad[len(bad)-40] ^= 1
			called := false
			if _, err := DecryptTo(io.Discard, bytes.NewReader(bad), ec, ek, &DecryptOptions{
				Sink: func(*DecryptInfo) (io.Writer, error) { called = true; return io.Discard, nil },
			}); err == nil && alg.AEAD() || called && alg.AEAD() {
				t.Fatalf("%v/%d: tampered: err %v, sink called %v", alg, n, err, called)
			}
		}
	}
}
