package cms

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// NIST CAVS ANSI X9.63-2001 KDF vectors for SHA-256 (also checked against
// `openssl kdf X963KDF`).
var envX963Vectors = []struct{ z, info, out string }{
	{"96c05619d56c328ab95fe84b18264b08725b85e33fd34f08", "", "443024c3dae66b95e6f5670601558f71"},
	{"22518b10e70f2a3f243810ae3254139efbee04aa57c7af7d", "75eef81aa3041e33b80971203d2c0c52",
		"c498af77161cc59f2962b9a713e2b215152d139766ce34a776df11866a69bf2e" +
			"52a13d9c7c6fc878c50c5ea0bc7b00e0da2447cfd874f6cf92f30d0097111485" +
			"500c90c3af8b487872d04685d14c8d1dc8d7fa08beb0ce0ababc11f0bd496269" +
			"142d43525a78e5bc79a17f59676a5706dc54d54d4d1f0bd7e386128ec26afc21"},
}

func TestX963KDFVectors(t *testing.T) {
	for i, v := range envX963Vectors {
		want := envHex(t, v.out)
		got, err := envX963KDF(crypto.SHA256, envHex(t, v.z), envHex(t, v.info), len(want))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("vector %d: got %x want %x", i, got, want)
		}
	}
	if _, err := envX963KDF(crypto.SHA256, nil, nil, 0); err == nil {
		t.Error("zero length accepted")
	}
}

func TestECCCMSSharedInfo(t *testing.T) {
	got, err := envECCCMSSharedInfo(envAlgIDNoParams(envOIDAES256Wrap), nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	// SEQUENCE { SEQUENCE { aes256-wrap }, [2] { OCTET STRING 00000100 } }
	want := envHex(t, "3015 300b 060960864801650304012d a206 0404 00000100")
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	got, err = envECCCMSSharedInfo(envAlgIDNoParams(envOIDAES128Wrap), []byte{1, 2, 3}, 16)
	if err != nil {
		t.Fatal(err)
	}
	want = envHex(t, "301c 300b 06096086480165030401 05 a005 0403 010203 a206 0404 00000080")
	if !bytes.Equal(got, want) {
		t.Fatalf("with ukm: got %x want %x", got, want)
	}
}

// Cross-check the KDF against OpenSSL for SHA-256 with a SharedInfo of the
// shape CMS uses.
func TestX963KDFOpenSSL(t *testing.T) {
	openssl := needPeer(t, "openssl")
	z := bytes.Repeat([]byte{0x5a}, 32)
	si, _ := envECCCMSSharedInfo(envAlgIDNoParams(envOIDAES256Wrap), []byte("ukm"), 32)
	out, err := exec.Command(openssl, "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256",
		"-kdfopt", "hexsecret:"+hex.EncodeToString(z), "-kdfopt", "hexinfo:"+hex.EncodeToString(si), "X963KDF").Output()
	if err != nil {
		t.Skipf("openssl kdf X963KDF unavailable: %v", err)
	}
	want := envHex(t, strings.ReplaceAll(strings.TrimSpace(string(out)), ":", ""))
	got, _ := envX963KDF(crypto.SHA256, z, si, 32)
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, openssl %x", got, want)
	}
}
