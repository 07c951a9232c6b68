package cms

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func envHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 3394 §4 test vectors.
func TestAESKeyWrapRFC3394(t *testing.T) {
	kek128 := "000102030405060708090A0B0C0D0E0F"
	kek192 := "000102030405060708090A0B0C0D0E0F1011121314151617"
	kek256 := "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	d128 := "00112233445566778899AABBCCDDEEFF"
	d192 := "00112233445566778899AABBCCDDEEFF0001020304050607"
	d256 := "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F"
	for _, tc := range []struct{ name, kek, data, want string }{
		{"4.1", kek128, d128, "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5"},
		{"4.2", kek192, d128, "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D"},
		{"4.3", kek256, d128, "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7"},
		{"4.4", kek192, d192, "031D33264E15D332 68F24EC260743EDC E1C6C7DDEE725A93 6BA814915C6762D2"},
		{"4.5", kek256, d192, "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1"},
		{"4.6", kek256, d256, "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kek, data, want := envHex(t, tc.kek), envHex(t, tc.data), envHex(t, tc.want)
			got, err := envAESKeyWrap(kek, data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("wrap = %X, want %X", got, want)
			}
			back, err := envAESKeyUnwrap(kek, want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, data) {
				t.Fatalf("unwrap = %X, want %X", back, data)
			}
		})
	}
}

func TestAESKeyUnwrapRejects(t *testing.T) {
	kek := envHex(t, "000102030405060708090A0B0C0D0E0F")
	good := envHex(t, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		if out, err := envAESKeyUnwrap(kek, bad); !errors.Is(err, ErrKeyUnwrap) || out != nil {
			t.Fatalf("flip at %d: out=%x err=%v", i, out, err)
		}
	}
	for _, n := range []int{0, 8, 16, 23, 25, 31} {
		if _, err := envAESKeyUnwrap(kek, make([]byte, n)); !errors.Is(err, ErrKeyUnwrap) {
			t.Fatalf("length %d: err=%v", n, err)
		}
	}
	wrongKEK := envHex(t, "000102030405060708090A0B0C0D0E0E")
	if _, err := envAESKeyUnwrap(wrongKEK, good); !errors.Is(err, ErrKeyUnwrap) {
		t.Fatalf("wrong KEK: %v", err)
	}
	if _, err := envAESKeyUnwrap(kek[:15], good); err == nil {
		t.Fatal("bad KEK length accepted")
	}
	for _, n := range []int{0, 8, 15, 17} {
		if _, err := envAESKeyWrap(kek, make([]byte, n)); err == nil {
			t.Fatalf("wrap of %d octets accepted", n)
		}
	}
}
