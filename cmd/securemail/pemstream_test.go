package main

import (
	"bufio"
	"bytes"
	"encoding/pem"
	"io"
	"strings"
	"testing"
)

// pemWriter's output is what encoding/pem writes, and pemReader reads it
// back, for sizes around the 48-octet line and 3-octet quantum edges.
func TestPEMStreamRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 47, 48, 49, 95, 96, 97, 1000, 70001} {
		data := bytes.Repeat([]byte{0x30, 0x80, 0x06, 0xff, 0x01}, n/5+1)[:n]
		var out bytes.Buffer
		pw, err := newPEMWriter(&out, "CMS")
		if err != nil {
			t.Fatal(err)
		}
		// Odd write sizes, to cross the line breaks at random places.
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 7+len(rest)%13)
			if _, err := pw.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		want := pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: data})
		if !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("%d: pemWriter wrote\n%s\nencoding/pem\n%s", n, out.Bytes(), want)
		}
		crlf := strings.ReplaceAll(out.String(), "\n", "\r\n")
		for _, in := range []string{out.String(), "\n\n" + crlf + "\r\n\n"} {
			pr, err := newPEMReader(bufio.NewReader(strings.NewReader(in)), "PKCS7", "CMS")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(pr)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%d: read back %d octets, %v", n, len(got), err)
			}
		}
	}
}

func TestPEMReaderRejects(t *testing.T) {
	good := string(pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123")}))
	lines := strings.Split(good, "\n")
	for name, in := range map[string]string{
		"wrong label":       strings.ReplaceAll(good, "CMS", "CERTIFICATE"),
		"no END line":       strings.Join(lines[:len(lines)-2], "\n") + "\n",
		"truncated":         good[:40],
		"END label differs": strings.Replace(good, "END CMS", "END PKCS7", 1),
		"header":            strings.Replace(good, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1),
		"data after END":    good + "more\n",
		"bad base64":        strings.Replace(good, lines[1][:4], "!!!!", 1),
		"not PEM":           "0\x80\x06\x09*\x86H\x86\xf7\r\x01\x07\x03",
		"empty":             "",
	} {
		pr, err := newPEMReader(bufio.NewReader(strings.NewReader(in)), "CMS")
		if err == nil {
			_, err = io.ReadAll(pr)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
