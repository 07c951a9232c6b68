package cms

import (
	"os"
	"os/exec"
	"testing"
)

// needPeer returns the path of a real peer program (openssl, gpgsm),
// skipping the test when it is missing, except under CI=true, where a
// missing peer is a failure (CI installs them).
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
