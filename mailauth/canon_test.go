package mailauth

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// refBody is RFC 6376 §3.4.3 and §3.4.4 written the plain way, to check
// the fast canonicalizer against.
func refBody(body []byte, c canon) []byte {
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	lines := bytes.Split(body, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // the final line break
	}
	var out [][]byte
	for _, l := range lines {
		if c == canonRelaxed {
			var b []byte
			space := false
			for _, x := range l {
				if x == ' ' || x == '\t' {
					space = true
					continue
				}
				if space {
					b = append(b, ' ')
				}
				space = false
				b = append(b, x)
			}
			l = b
		}
		out = append(out, l)
	}
	for len(out) > 0 && len(out[len(out)-1]) == 0 {
		out = out[:len(out)-1]
	}
	var res []byte
	for _, l := range out {
		res = append(append(res, l...), '\r', '\n')
	}
	if len(res) == 0 && c == canonSimple {
		res = []byte("\r\n")
	}
	return res
}

func TestCanonicalizeBody(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab  \t\t\r\n\n.x ")
	cases := [][]byte{nil, []byte("\r\n"), []byte("\r\n\r\n"), []byte("a"), []byte(" \t \r\n"), []byte("a \r\n\r\n \r\nb\t\r\n\r\n")}
	for range 3000 {
		n := r.IntN(120)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, b)
	}
	for _, body := range cases {
		for _, c := range []canon{canonSimple, canonRelaxed} {
			h := sha256.New()
			w := bodyWriter{h: h, limit: -1}
			canonicalizeBody(&w, body, c, nil)
			want := refBody(body, c)
			if got := h.Sum(nil); !bytes.Equal(got, sha256New(want)) || w.n != int64(len(want)) {
				t.Fatalf("%s %q: canonical length %d, want %q (%d)", c, body, w.n, want, len(want))
			}
		}
	}
}

func sha256New(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

func TestRelaxLineSWAR(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		n := r.IntN(40)
		b := make([]byte, n)
		for i := range b {
			b[i] = " \tab"[r.IntN(4)]
		}
		got := relaxInto(make([]byte, 0, len(b)+10), bytes.TrimRight(b, " \t"))
		want := refBody(b, canonRelaxed)
		want = bytes.TrimSuffix(want, []byte("\r\n"))
		if !bytes.Equal(got, want) {
			t.Fatalf("relaxLine(%q) = %q, want %q", b, got, want)
		}
	}
}

func BenchmarkCanonicalizeBody(b *testing.B) {
	msgs, _ := benchCorpus(b, 16)
	var buf []byte
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, m := range msgs {
			pm, _ := parseMessage(m)
			h := sha256.New()
			w := bodyWriter{h: h, limit: -1}
			buf = canonicalizeBody(&w, pm.body, canonRelaxed, buf)
		}
	}
}

func BenchmarkCanonOnly(b *testing.B) {
	msgs, _ := benchCorpus(b, 16)
	var buf []byte
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	b.SetBytes(int64(total))
	var bodies [][]byte
	for _, m := range msgs {
		pm, _ := parseMessage(m)
		bodies = append(bodies, pm.body)
	}
	for b.Loop() {
		for _, body := range bodies {
			w := bodyWriter{h: discardHash{}, limit: -1}
			buf = canonicalizeBody(&w, body, canonRelaxed, buf)
		}
	}
}

func BenchmarkSHAOnly(b *testing.B) {
	msgs, _ := benchCorpus(b, 16)
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	b.SetBytes(int64(total))
	for b.Loop() {
		for _, m := range msgs {
			sha256.Sum256(m)
		}
	}
}

type discardHash struct{}

func (discardHash) Write(p []byte) (int, error) { return len(p), nil }
func (discardHash) Sum(b []byte) []byte         { return b }
func (discardHash) Reset()                      {}
func (discardHash) Size() int                   { return 32 }
func (discardHash) BlockSize() int              { return 64 }
