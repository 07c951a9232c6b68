package transport

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSendmail writes a shell script that records its arguments and
// standard input in dir, prints stderr to its error output and exits with
// code.
func fakeSendmail(t *testing.T, stderr string, code int) (string, string) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "sendmail")
	body := "#!" + sh + "\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + dir + "/args\ncat > " + dir + "/stdin\n"
	if stderr != "" {
		body += "printf '%s' '" + stderr + "' >&2\n"
	}
	body += "exit " + string(rune('0'+code/10)) + string(rune('0'+code%10)) + "\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script, dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSendmail(t *testing.T) {
	script, dir := fakeSendmail(t, "", 0)
	s, err := NewSendmail([]string{script, "-i"})
	if err != nil {
		t.Fatal(err)
	}
	env := &Envelope{From: "alice@example.org", To: []string{"bob@example.org", "-oQ/tmp/evil@example.org"}}
	if err := s.Send(context.Background(), env, strings.NewReader(testMessage)); err != nil {
		t.Fatal(err)
	}
	// The recipients come after "--": one that looks like a flag stays an
	// address.
	if got := readFile(t, dir+"/args"); got != "-i\n--\nbob@example.org\n-oQ/tmp/evil@example.org\n" {
		t.Fatalf("arguments %q", got)
	}
	if got := readFile(t, dir+"/stdin"); got != testMessage {
		t.Fatalf("input %q", got)
	}

	// With -t the command reads the recipients from the header.
	for _, flags := range [][]string{{"-t"}, {"-ti"}, {"-i", "-t"}, {"--read-recipients"}} {
		s, _ := NewSendmail(append([]string{script}, flags...))
		if err := s.Send(context.Background(), env, strings.NewReader(testMessage)); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, dir+"/args"); got != strings.Join(flags, "\n")+"\n" {
			t.Fatalf("%q: arguments %q", flags, got)
		}
	}
}

func TestSendmailFailure(t *testing.T) {
	script, _ := fakeSendmail(t, "msmtp: account default not found: no configuration file available\n\x1b[31mred\x1b[0m", 78)
	s, _ := NewSendmail([]string{script, "-t"})
	err := s.Send(context.Background(), &Envelope{From: "a@example.org", To: []string{"b@example.org"}}, strings.NewReader(testMessage))
	var se *SendmailError
	if !errors.As(err, &se) || se.ExitCode != 78 || Temporary(err) {
		t.Fatalf("Send: %v", err)
	}
	if !strings.Contains(err.Error(), "exited with status 78: msmtp: account default not found") || strings.Contains(err.Error(), "\x1b") {
		t.Fatalf("error %q", err)
	}

	script, _ = fakeSendmail(t, "temporary failure", 75)
	s, _ = NewSendmail([]string{script, "-t"})
	if err := s.Send(context.Background(), nil, strings.NewReader(testMessage)); !Temporary(err) {
		t.Fatalf("EX_TEMPFAIL: %v", err)
	}

	s, _ = NewSendmail([]string{filepath.Join(t.TempDir(), "no-such-sendmail"), "-t"})
	err = s.Send(context.Background(), nil, strings.NewReader(testMessage))
	if !errors.As(err, &se) || se.ExitCode != -1 || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing command: %v", err)
	}

	// A command that hangs is stopped.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	s = &Sendmail{Command: []string{sh, "-c", "sleep 10", "-t"}, Timeout: 200 * time.Millisecond}
	start := time.Now()
	err = s.Send(context.Background(), &Envelope{From: "a@example.org", To: []string{"b@example.org"}}, strings.NewReader(""))
	if err == nil || !strings.Contains(err.Error(), "timed out") || time.Since(start) > 8*time.Second {
		t.Fatalf("hanging command: %v after %v", err, time.Since(start))
	}

	if _, err := NewSendmail(nil); err == nil {
		t.Error("NewSendmail(nil) accepted")
	}
	s, _ = NewSendmail([]string{script})
	if err := s.Send(context.Background(), &Envelope{From: "a@example.org"}, strings.NewReader("")); err == nil {
		t.Error("no recipients and no -t accepted")
	}
	if err := s.Send(context.Background(), &Envelope{From: "a@example.org", To: []string{"b@example.org"}, RequireTLS: true}, strings.NewReader("")); err == nil {
		t.Error("REQUIRETLS through sendmail accepted")
	}
}
