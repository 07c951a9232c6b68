package pgp

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func TestArmorWriterSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 2, 3, 47, 48, 49, 95, 96, 97, 1000, 65536, 200003} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		var want, got bytes.Buffer
		aw, _ := armor.Encode(&want, "PGP MESSAGE", nil)
		fw, _ := newArmorWriter(&got, "PGP MESSAGE")
		for p := data; len(p) > 0; {
			n := min(len(p), 1+r.IntN(5000))
			aw.Write(p[:n])
			fw.Write(p[:n])
			p = p[n:]
		}
		aw.Close()
		fw.Close()
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Fatalf("size %d: differ\nwant %q\ngot  %q", size, want.String()[max(0, want.Len()-120):], got.String()[max(0, got.Len()-120):])
		}
	}
}

func BenchmarkArmorGo(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var out bytes.Buffer
		aw, _ := armor.Encode(&out, "PGP MESSAGE", nil)
		for p := data; len(p) > 0; p = p[32<<10:] {
			aw.Write(p[:32<<10])
		}
		aw.Close()
	}
}

func BenchmarkArmorFast(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var out bytes.Buffer
		aw, _ := newArmorWriter(&out, "PGP MESSAGE")
		for p := data; len(p) > 0; p = p[32<<10:] {
			aw.Write(p[:32<<10])
		}
		aw.Close()
	}
}

func BenchmarkCRC24Slicing8(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	var c uint32
	for b.Loop() {
		c = crc24Update(c, data)
	}
	_ = c
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkArmorFastDiscard(b *testing.B) {
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		aw, _ := newArmorWriter(discard{}, "PGP MESSAGE")
		for p := data; len(p) > 0; p = p[32<<10:] {
			aw.Write(p[:32<<10])
		}
		aw.Close()
	}
}

// The decoder reads what go-crypto's encoder writes, in any size, and a
// block cut before its end is an error, not a short message.
func TestArmorDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{0, 1, 47, 48, 49, 12 << 10, 100003} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		var enc bytes.Buffer
		aw, _ := armor.Encode(&enc, "PGP MESSAGE", map[string]string{"Comment": "x"})
		aw.Write(data)
		aw.Close()
		typ, body, err := decodeArmor(bufio.NewReader(bytes.NewReader(append([]byte("garbage\n"), enc.Bytes()...))))
		if err != nil || typ != "PGP MESSAGE" {
			t.Fatalf("size %d: %q %v", size, typ, err)
		}
		got, err := io.ReadAll(body)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: %v, %d bytes back", size, err, len(got))
		}
		if size > 1000 {
			cut := enc.Bytes()[:enc.Len()/2]
			_, body, err := decodeArmor(bufio.NewReader(bytes.NewReader(cut)))
			if err == nil {
				_, err = io.ReadAll(body)
			}
			if err == nil {
				t.Fatalf("size %d: a cut block read without error", size)
			}
		}
	}
}
