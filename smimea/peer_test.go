package smimea

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"testing"
)

// needPeer returns the path of a real peer program (openssl), skipping
// the test when it is missing, except under CI=true, where a missing peer
// is a failure (CI installs them).
func needPeer(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skip(name + " not installed")
	}
	return p
}

// runPeer runs a peer program in dir with stdin and returns its stdout,
// failing the test (with stderr) when it fails.
func runPeer(t testing.TB, dir string, stdin io.Reader, prog string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\n%s", prog, args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}
