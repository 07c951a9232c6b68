package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securemail/securemail/keystore"
)

// runCLI runs the command line in-process with captured streams.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	code = c.run(args)
	return code, out.String(), errb.String()
}

// TestS55_PassphraseNeverShown checks that the passphrase, right or wrong,
// never appears in anything the tool writes, and that secret keys at rest
// do not contain it either.
func TestS55_PassphraseNeverShown(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	const secret = "Pa55phrase-that-must-not-leak"
	good := filepath.Join(dir, "pw")
	bad := filepath.Join(dir, "bad")
	os.WriteFile(good, []byte(secret+"\n"), 0o600)
	os.WriteFile(bad, []byte(secret+"-wrong\n"), 0o600)
	var all strings.Builder
	step := func(wantCode int, args ...string) string {
		code, out, errs := runCLI(t, "", append([]string{"--home", home}, args...)...)
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, wantCode, errs)
		}
		all.WriteString(out + errs)
		return out
	}
	step(0, "--passphrase-file", good, "keys", "generate", "--email", "s55@example.org", "--pgp")
	step(2, "--passphrase-file", bad, "keys", "export", "--secret", "s55@example.org")
	step(0, "--passphrase-file", good, "keys", "export", "--secret", "s55@example.org")
	step(0, "--json", "keys", "list")
	if strings.Contains(all.String(), secret) {
		t.Fatal("the passphrase appeared in the output")
	}
	err := filepath.Walk(home, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			data, _ := os.ReadFile(p)
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("the passphrase is stored in %s", p)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{&keystore.NotFoundError{Query: "x"}, exitNotFound},
		{fmt.Errorf("wrapped: %w", &keystore.NotFoundError{Query: "x"}), exitNotFound},
		{&keystore.IntegrityError{Reason: "tampered"}, exitVerdict},
		{&keystore.RejectedError{Fingerprint: "F", Reason: "revoked"}, exitVerdict},
		{keystore.ErrWrongPassphrase, exitUsage},
		{&keystore.FormatError{Reason: "garbage"}, exitUsage},
		{&keystore.ShortKeyIDError{ID: "ABCD1234"}, exitUsage},
		{usageError("bad flag"), exitUsage},
		{&exitError{code: exitTemporary, err: errors.New("timeout")}, exitTemporary},
	} {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}

func TestS25_SafeNeutralisesControls(t *testing.T) {
	in := "evil\x1b]8;;http://x\x07\u202eexe.txt\r\nline2\u009b"
	got := safe(in)
	if strings.ContainsAny(got, "\x1b\x07\r\n\u202e\u009b") {
		t.Fatalf("control characters left: %q", got)
	}
	if safe("plain ünïcode <a@b.example>") != "plain ünïcode <a@b.example>" {
		t.Fatal("harmless text changed")
	}
}

// S16: JSON reports carry attacker strings (user IDs, file names); C1
// controls and bidi overrides, which encoding/json leaves raw, are
// escaped, and the JSON still decodes to the same string.
func TestS16_JSONEscapesTerminalRunes(t *testing.T) {
	in := map[string]string{"signer": "alice\u202e\u009b31m@evil\u2066.example\x1b[2J"}
	var b bytes.Buffer
	if err := writeJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"\u202e", "\u009b", "\u2066", "\x1b"} {
		if strings.Contains(b.String(), r) {
			t.Fatalf("raw %q in %q", r, b.String())
		}
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["signer"] != in["signer"] {
		t.Fatalf("round trip: %v %q", err, back)
	}
}
