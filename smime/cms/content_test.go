package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func TestCBCRoundTrip(t *testing.T) {
	for _, klen := range []int{16, 32} {
		key := bytes.Repeat([]byte{7}, klen)
		iv := bytes.Repeat([]byte{9}, 16)
		for n := 0; n <= 48; n++ {
			pt := bytes.Repeat([]byte{'a'}, n)
			ct, err := envCBCEncrypt(key, iv, pt)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct)%16 != 0 || len(ct) <= n {
				t.Fatalf("n=%d: ciphertext length %d", n, len(ct))
			}
			back, err := envCBCDecrypt(key, iv, ct)
			if err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("n=%d: %v %q", n, err, back)
			}
		}
	}
}

// envRawCBC encrypts pt (a multiple of the block size) without padding.
func envRawCBC(key, iv, pt []byte) []byte {
	b, _ := aes.NewCipher(key)
	out := make([]byte, len(pt))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, pt)
	return out
}

func TestS09_CBCBadPadding(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	iv := bytes.Repeat([]byte{2}, 16)
	block := func(last ...byte) []byte {
		b := bytes.Repeat([]byte{'x'}, 16)
		copy(b[16-len(last):], last)
		return b
	}
	cases := map[string][]byte{
		"empty":              {},
		"one byte":           {1},
		"15 bytes":           bytes.Repeat([]byte{1}, 15),
		"17 bytes":           bytes.Repeat([]byte{1}, 17),
		"pad 0x00":           envRawCBC(key, iv, block(0)),
		"pad 0x11":           envRawCBC(key, iv, block(0x11)),
		"pad 0xff":           envRawCBC(key, iv, block(0xff)),
		"pad 0x20 two block": envRawCBC(key, iv, append(bytes.Repeat([]byte{0x20}, 16), bytes.Repeat([]byte{0x20}, 16)...)),
		"inconsistent 2":     envRawCBC(key, iv, block(3, 2)),
		"inconsistent 16":    envRawCBC(key, iv, append([]byte{15}, bytes.Repeat([]byte{16}, 15)...)),
		"inconsistent mid":   envRawCBC(key, iv, block(5, 5, 4, 5, 5)),
	}
	for name, ct := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := envCBCDecrypt(key, iv, ct)
			if !errors.Is(err, ErrContentDecryption) || out != nil {
				t.Fatalf("out=%x err=%v", out, err)
			}
		})
	}
	// Bad IV and key lengths are clean errors too.
	good := envRawCBC(key, iv, block(1))
	if _, err := envCBCDecrypt(key, iv[:8], good); !errors.Is(err, ErrContentDecryption) {
		t.Fatal(err)
	}
	if _, err := envCBCDecrypt(key[:5], iv, good); !errors.Is(err, ErrContentDecryption) {
		t.Fatal(err)
	}
	if out, err := envCBCDecrypt(key, iv, good); err != nil || len(out) != 15 {
		t.Fatal(out, err)
	}
}

// Every final-byte value with a consistent fill: accepted exactly for 1..16.
func TestPKCS7UnpadExhaustive(t *testing.T) {
	for v := 0; v < 256; v++ {
		last := bytes.Repeat([]byte{byte(v)}, 16)
		keep, ok := envPKCS7UnpadLen(last)
		wantOK := v >= 1 && v <= 16
		if (ok == 1) != wantOK {
			t.Fatalf("pad %d: ok=%d", v, ok)
		}
		if wantOK && keep != 16-v {
			t.Fatalf("pad %d: keep=%d", v, keep)
		}
	}
}

func envGCMParamsDER(nonce []byte, icv int64) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(envOIDAES256GCM)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(nonce)
			if icv >= 0 {
				b.AddASN1Int64(icv)
			}
		})
	})
	return b.BytesOrPanic()
}

func TestS06_GCMParameters(t *testing.T) {
	n12 := make([]byte, 12)
	p, err := envParseContentAlgorithm(envGCMParamsDER(n12, 16))
	if err != nil || p.alg != AES256GCM || p.icvLn != 16 || len(p.iv) != 12 {
		t.Fatalf("good params: %+v %v", p, err)
	}
	for name, der := range map[string][]byte{
		"ICVlen absent (DEFAULT 12)": envGCMParamsDER(n12, -1),
		"ICVlen 12":                  envGCMParamsDER(n12, 12),
		"ICVlen 4":                   envGCMParamsDER(n12, 4),
		"ICVlen 17":                  envGCMParamsDER(n12, 17),
		"nonce 8":                    envGCMParamsDER(make([]byte, 8), 16),
		"nonce 16":                   envGCMParamsDER(make([]byte, 16), 16),
		"nonce 0":                    envGCMParamsDER(nil, 16),
	} {
		if _, err := envParseContentAlgorithm(der); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestS15_ContentAlgorithmMalformed(t *testing.T) {
	good := envGCMParamsDER(make([]byte, 12), 16)
	for i := 0; i < len(good); i++ {
		if _, err := envParseContentAlgorithm(good[:i]); err == nil {
			t.Fatalf("prefix %d accepted", i)
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(envOIDAES256CBC)
		b.AddASN1OctetString(make([]byte, 15))
	})
	if _, err := envParseContentAlgorithm(b.BytesOrPanic()); err == nil || !strings.Contains(err.Error(), "IV") {
		t.Fatalf("short IV: %v", err)
	}
	b = cryptobyte.Builder{}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(envOIDAES256CBC)
	})
	if _, err := envParseContentAlgorithm(b.BytesOrPanic()); err == nil {
		t.Fatal("missing IV accepted")
	}
}

func TestGCMSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 16)
	nonce := make([]byte, 12)
	ct, tag, err := envGCMSeal(key, nonce, []byte("hello"), []byte("aad"))
	if err != nil || len(tag) != 16 || len(ct) != 5 {
		t.Fatal(err)
	}
	if pt, err := envGCMOpen(key, nonce, ct, tag, []byte("aad")); err != nil || string(pt) != "hello" {
		t.Fatal(pt, err)
	}
	for name, f := range map[string]func() ([]byte, error){
		"bad aad":   func() ([]byte, error) { return envGCMOpen(key, nonce, ct, tag, nil) },
		"short tag": func() ([]byte, error) { return envGCMOpen(key, nonce, ct, tag[:12], []byte("aad")) },
		"flip ct": func() ([]byte, error) {
			c := bytes.Clone(ct)
			c[0] ^= 1
			return envGCMOpen(key, nonce, c, tag, []byte("aad"))
		},
	} {
		if out, err := f(); out != nil || !errors.Is(err, ErrContentDecryption) {
			t.Errorf("%s: out=%x err=%v", name, out, err)
		}
	}
}
