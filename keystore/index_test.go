package keystore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func indexSeed() []record {
	exp := time.Unix(1900000000, 0).UTC()
	return []record{
		{Entry: Entry{Kind: PGP, Fingerprint: "401E4CDDECA6FA8E101651C63EDB1C82698124D1", Emails: []string{"a@example.org", "b\t\x1f\\@example.org"},
			UserIDs: []string{"Alice <a@example.org>", "Evil\n[GNUPG:] \x1b[31m"}, Algorithm: "ed25519", Created: time.Unix(1700000000, 0).UTC(),
			Expires: &exp, Secret: true, Protected: true, Source: Generated, Obtained: time.Unix(1700000001, 0).UTC(), Origin: "keys generate",
			Pinned: []string{"a@example.org"}}, PublicObject: "aa", SecretObject: "bb"},
		{Entry: Entry{Kind: SMIME, Fingerprint: "5E7B", Emails: []string{}, Pinned: []string{}, Subject: "CN=CA", Issuer: "CN=CA", CA: true,
			TrustAnchor: true, Revoked: true, Source: SMIMEA, DNSSEC: "secure", TTL: 3600, Created: time.Unix(0, 0).UTC(), Obtained: time.Unix(5, 0).UTC()},
			PublicObject: "cc"},
	}
}

func TestIndexRoundTrip(t *testing.T) {
	recs := indexSeed()
	got, err := decodeIndex(encodeIndex(recs))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, recs)
	}
	if got, err := decodeIndex(encodeIndex(nil)); err != nil || len(got) != 0 {
		t.Fatalf("empty index: %v %v", got, err)
	}
}

// FuzzIndex: decoding never panics, and whatever decodes re-encodes to a
// form that decodes to the same records.
func FuzzIndex(f *testing.F) {
	f.Add(encodeIndex(indexSeed()))
	f.Add(encodeIndex(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := decodeIndex(data)
		if err != nil {
			return
		}
		again, err := decodeIndex(encodeIndex(recs))
		if err != nil || !reflect.DeepEqual(again, recs) {
			t.Fatalf("re-encoding changed the records: %v", err)
		}
	})
}

// sealIndex wraps arbitrary record lines in a valid header and closing
// line, so that fuzzing reaches the record parser behind the checksum.
func sealIndex(body []byte, count int) []byte {
	data := append([]byte(indexHeader), body...)
	sum := sha256.Sum256(data)
	return append(data, fmt.Sprintf("end %d %s\n", count, hex.EncodeToString(sum[:]))...)
}

func FuzzIndexRecords(f *testing.F) {
	enc := encodeIndex(indexSeed())
	body := enc[len(indexHeader) : bytes.LastIndex(enc[:len(enc)-1], []byte("\n"))+1]
	f.Add(body, 2)
	f.Add([]byte("pgp\tF\n"), -1)
	f.Add([]byte{}, 1<<40)
	f.Fuzz(func(t *testing.T, body []byte, count int) {
		recs, err := decodeIndex(sealIndex(body, count))
		if err != nil {
			return
		}
		again, err := decodeIndex(encodeIndex(recs))
		if err != nil || !reflect.DeepEqual(again, recs) {
			t.Fatalf("re-encoding changed the records: %v", err)
		}
	})
}
