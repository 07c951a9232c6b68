package cms

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func sdtHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestToDERConversions(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"der passes through", "30 06 02 01 05 04 01 aa", "30 06 02 01 05 04 01 aa"},
		{"indefinite sequence", "30 80 02 01 05 00 00", "30 03 02 01 05"},
		{"nested indefinite", "30 80 31 80 02 01 01 00 00 a0 80 05 00 00 00 00 00", "30 09 31 03 02 01 01 a0 02 05 00"},
		{"constructed octet string", "24 80 04 02 61 62 04 01 63 00 00", "04 03 61 62 63"},
		{"definite constructed octet string", "24 07 04 02 61 62 04 01 63", "04 03 61 62 63"},
		{"nested segments", "24 80 24 80 04 01 61 00 00 04 00 24 03 04 01 62 00 00", "04 02 61 62"},
		{"eContent as openssl -stream", "30 80 06 01 2a a0 80 24 80 04 01 68 04 01 69 00 00 00 00 00 00", "30 09 06 01 2a a0 04 04 02 68 69"},
		{"implicit tag keeps segments", "a0 80 04 01 61 04 01 62 00 00", "a0 06 04 01 61 04 01 62"},
		{"high tag number", "bf 81 00 80 05 00 00 00", "bf 81 00 02 05 00"},
		{"empty indefinite", "30 80 00 00", "30 00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ToDER(sdtHex(t, c.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := sdtHex(t, c.want); !bytes.Equal(got, want) {
				t.Fatalf("got % x\nwant % x", got, want)
			}
			again, err := ToDER(got, nil)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("not idempotent: % x, %v", again, err)
			}
		})
	}
}

func TestToDERLongLengths(t *testing.T) {
	payload := bytes.Repeat([]byte{'x'}, 70000)
	var in []byte
	in = append(in, 0x24, 0x80)
	for i := 0; i < len(payload); i += 1000 {
		in = append(in, 0x04, 0x82, 0x03, 0xe8)
		in = append(in, payload[i:i+1000]...)
	}
	in = append(in, 0, 0)
	in = append([]byte{0x30, 0x80}, append(in, 0, 0)...)
	got, err := ToDER(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0x30, 0x83, 0x01, 0x11, 0x75, 0x04, 0x83, 0x01, 0x11, 0x70}, payload...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got prefix % x", got[:12])
	}
}

func TestS15_MalformedBER(t *testing.T) {
	cases := []struct {
		name string
		in   string
		kind Kind
	}{
		{"empty", "", ErrTruncated},
		{"tag only", "30", ErrTruncated},
		{"truncated content", "30 05 02 01", ErrTruncated},
		{"child beyond parent", "30 03 02 05 00 00 00 00 00", ErrTruncated},
		{"indefinite without end", "30 80 02 01 05", ErrTruncated},
		{"nested indefinite without end", "30 80 30 80 30 80 00 00", ErrTruncated},
		{"indefinite primitive", "04 80 61 00 00", ErrMalformed},
		{"non-minimal long form", "04 81 05 61 62 63 64 65", ErrMalformed},
		{"leading zero length", "04 82 00 05 61 62 63 64 65", ErrMalformed},
		{"five length octets", "04 85 01 00 00 00 00", ErrMalformed},
		{"reserved length", "04 ff", ErrMalformed},
		{"huge length", "30 84 ff ff ff ff 00", ErrTruncated},
		{"huge length inside indefinite", "30 80 04 84 7f ff ff ff 00 00", ErrTruncated},
		{"trailing garbage", "30 00 00", ErrTrailingData},
		{"end-of-contents in definite", "30 02 00 00", ErrMalformed},
		{"end-of-contents at top", "00 00", ErrMalformed},
		{"segment not an octet string", "24 80 02 01 05 00 00", ErrMalformed},
		{"non-minimal high tag", "9f 80 01 00", ErrMalformed},
		{"high form for low tag", "9f 05 00", ErrMalformed},
		{"too long tag", "9f 81 81 81 81 01 00", ErrMalformed},
		{"truncated tag", "9f 81", ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := ToDER(sdtHex(t, c.in), nil)
			if err == nil {
				t.Fatalf("accepted, out % x", out)
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("err %v, want %v", err, c.kind)
			}
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Error(), "cms: ") {
				t.Fatalf("err %T %v", err, err)
			}
		})
	}
}

func TestS15_DeepNesting(t *testing.T) {
	deep := func(n int, indefinite bool) []byte {
		var b []byte
		if indefinite {
			for i := 0; i < n; i++ {
				b = append(b, 0x30, 0x80)
			}
			for i := 0; i < n; i++ {
				b = append(b, 0, 0)
			}
			return b
		}
		b = []byte{0x05, 0x00}
		for i := 0; i < n; i++ {
			b = append(append([]byte{0x30}, appendLength(nil, len(b))...), b...)
		}
		return b
	}
	for _, indefinite := range []bool{true, false} {
		if _, err := ToDER(deep(DefaultMaxDepth, indefinite), nil); err != nil {
			t.Errorf("depth %d (indefinite=%v): %v", DefaultMaxDepth, indefinite, err)
		}
		if _, err := ToDER(deep(DefaultMaxDepth+1, indefinite), nil); !errors.Is(err, ErrTooDeep) {
			t.Errorf("depth %d (indefinite=%v): %v", DefaultMaxDepth+1, indefinite, err)
		}
	}
	// A million levels: a clean error, no stack exhaustion.
	if _, err := ToDER(deep(1_000_000, true), nil); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep: %v", err)
	}
	if _, err := ToDER(deep(5, true), &Limits{MaxDepth: 4}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("custom depth: %v", err)
	}
}

func TestS15_SizeLimit(t *testing.T) {
	in := append([]byte{0x04, 0x82, 0x04, 0x00}, make([]byte, 1024)...)
	if _, err := ToDER(in, &Limits{MaxSize: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
	if _, err := ToDER(in, &Limits{MaxSize: len(in)}); err != nil {
		t.Fatalf("err %v", err)
	}
	if _, err := ParseSignedData(in, &Limits{MaxSize: 1000}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ParseSignedData: %v", err)
	}
}

// TestS15_BoundedMemory checks that the output of many tiny segments and
// indefinite lengths stays within a constant factor of the input.
func TestS15_BoundedMemory(t *testing.T) {
	var in []byte
	in = append(in, 0x30, 0x80)
	for i := 0; i < 100000; i++ {
		in = append(in, 0x30, 0x80, 0x24, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00)
	}
	in = append(in, 0, 0)
	out, err := ToDER(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 2*len(in) {
		t.Fatalf("output %d for input %d", len(out), len(in))
	}
	allocs := testing.AllocsPerRun(3, func() { ToDER(in, nil) })
	if allocs > 64 {
		t.Fatalf("%v allocations", allocs)
	}
}

func TestS15_MalformedSignedData(t *testing.T) {
	f := sdtPKI()
	msg, err := Sign([]byte("hello"), []Signer{{Certificate: f.p256.cert, Key: f.p256.key}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation is a clean error.
	for i := 0; i < len(msg); i++ {
		if _, err := ParseSignedData(msg[:i], nil); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
	// Every single-byte corruption parses or fails, never panics; a
	// message that still parses never verifies with different bytes.
	for i := 0; i < len(msg); i++ {
		m := bytes.Clone(msg)
		m[i] ^= 0x80
		sd, err := ParseSignedData(m, nil)
		if err != nil {
			continue
		}
		res, err := sd.Verify(nil)
		if err != nil {
			continue
		}
		for _, r := range res.Signers {
			if r.Valid && !bytes.Equal(sd.Content, []byte("hello")) {
				t.Fatalf("corruption at %d verified with content %q", i, sd.Content)
			}
		}
	}
	if _, err := ParseSignedData(sdtHex(t, "30 03 06 01 2a"), nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("other content type: %v", err)
	}
}
