package mailbox

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the helper process.
const (
	envHelper = "MAILBOX_TEST_HELPER" // "deliver" or "crash"
	envRoot   = "MAILBOX_TEST_ROOT"
	envCount  = "MAILBOX_TEST_COUNT"
	envTag    = "MAILBOX_TEST_TAG"
)

// TestHelperProcess is not a test: other tests run the test binary again
// with this test selected and envHelper set, to act as a second process (as
// the os/exec tests of the standard library do).
//
//   - deliver: wait for a line on stdin, deliver envCount messages tagged
//     envTag to the INBOX at envRoot, print "id ID" for each.
//   - crash: deliver one message and, once it is written and synced to
//     tmp/, print "tmp PATH" and wait to be killed.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(envHelper)
	if mode == "" {
		t.Skip("only run as a helper process")
	}
	defer os.Exit(0)
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	opts := &Options{}
	if mode == "crash" {
		opts.afterTmp = func(tmp string) {
			fmt.Printf("tmp %s\n", tmp)
			time.Sleep(time.Minute) // killed long before
			fail(fmt.Errorf("not killed"))
		}
	}
	m, err := OpenMaildir(os.Getenv(envRoot), opts)
	if err != nil {
		fail(err)
	}
	switch mode {
	case "deliver":
		count, _ := strconv.Atoi(os.Getenv(envCount))
		bufio.NewReader(os.Stdin).ReadString('\n') // start together
		for i := range count {
			msg := helperMessage(os.Getenv(envTag), i)
			id, err := m.Deliver("INBOX", bytes.NewReader(msg), 0)
			if err != nil {
				fail(err)
			}
			fmt.Printf("id %s\n", id)
		}
	case "crash":
		if _, err := m.Deliver("INBOX", bytes.NewReader(helperMessage("crash", 0)), Seen); err != nil {
			fail(err)
		}
		fail(fmt.Errorf("delivered"))
	}
}

func helperMessage(tag string, i int) []byte {
	return testMessage(fmt.Sprintf("%s-%d", tag, i), strings.Repeat(fmt.Sprintf("line %d of %s\n", i, tag), 50))
}

func helperCommand(t *testing.T, mode, root string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), append([]string{envHelper + "=" + mode, envRoot + "=" + root}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestConcurrentDelivery: two processes deliver to one folder at once; every
// message arrives, under a name of its own.
func TestConcurrentDelivery(t *testing.T) {
	_, root := newTestMaildir(t, nil)
	const perProcess = 100
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   bytes.Buffer
	}
	var children []*child
	for _, tag := range []string{"a", "b"} {
		c := &child{cmd: helperCommand(t, "deliver", root, envCount+"="+strconv.Itoa(perProcess), envTag+"="+tag)}
		c.cmd.Stdout = &c.out
		var err error
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, c)
	}
	for _, c := range children {
		io.WriteString(c.stdin, "go\n")
		c.stdin.Close()
	}
	delivered := map[string]bool{}
	for _, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
		for line := range strings.Lines(c.out.String()) {
			if id, ok := strings.CutPrefix(strings.TrimSpace(line), "id "); ok {
				if delivered[id] {
					t.Fatalf("ID %s delivered twice", id)
				}
				delivered[id] = true
			}
		}
	}
	if len(delivered) != 2*perProcess {
		t.Fatalf("helpers reported %d deliveries", len(delivered))
	}

	m, err := OpenMaildir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := map[string]bool{}
	for _, tag := range []string{"a", "b"} {
		for i := range perProcess {
			want[fmt.Sprintf("%s-%d", tag, i)] = true
		}
	}
	for _, msg := range list(t, m, "INBOX", nil) {
		if !delivered[msg.ID] {
			t.Fatalf("listed %s, which no helper reported", msg.ID)
		}
		subject := msg.Header.Get("Subject")
		if !want[subject] {
			t.Fatalf("unexpected or repeated message %q", subject)
		}
		delete(want, subject)
		var tag string
		var i int
		fmt.Sscanf(strings.Replace(subject, "-", " ", 1), "%s %d", &tag, &i)
		mustEqual(t, subject, readAll(t, m, "INBOX", msg.ID), helperMessage(tag, i))
	}
	if len(want) != 0 {
		t.Fatalf("%d messages missing", len(want))
	}
	if got := dirNames(t, filepath.Join(root, "tmp")); len(got) != 0 {
		t.Fatalf("tmp/ = %q", got)
	}
}

// TestCrashBeforeRename: a delivery killed with SIGKILL after writing tmp/
// and before the rename leaves no file in new/ or cur/; its tmp/ file is
// removed once it is stale by the Options clock, and not before.
func TestCrashBeforeRename(t *testing.T) {
	_, root := newTestMaildir(t, nil)
	cmd := helperCommand(t, "crash", root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper said %q: %v", line, err)
	}
	tmpRel, ok := strings.CutPrefix(strings.TrimSpace(line), "tmp ")
	if !ok {
		cmd.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, not SIGKILL", err)
	}

	for _, sub := range []string{"new", "cur"} {
		if got := dirNames(t, filepath.Join(root, sub)); len(got) != 0 {
			t.Fatalf("%s/ = %q after the crash", sub, got)
		}
	}
	tmpFiles := dirNames(t, filepath.Join(root, "tmp"))
	if len(tmpFiles) != 1 || "tmp/"+tmpFiles[0] != tmpRel {
		t.Fatalf("tmp/ = %q, helper wrote %q", tmpFiles, tmpRel)
	}
	// The tmp file is whole (it was synced), but nobody sees it.
	got, err := os.ReadFile(filepath.Join(root, tmpRel))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "tmp file", got, helperMessage("crash", 0))

	later := func(d time.Duration) *Options {
		now := time.Now().Add(d)
		return &Options{Now: func() time.Time { return now }}
	}
	m, err := OpenMaildir(root, later(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if msgs := list(t, m, "INBOX", nil); len(msgs) != 0 {
		t.Fatalf("listed %+v", msgs)
	}
	if n, err := m.CleanTmp("INBOX"); err != nil || n != 0 {
		t.Fatalf("CleanTmp an hour later = %d, %v", n, err)
	}
	m.Close()

	// 37 hours later the first listing sweeps tmp/.
	m, err = OpenMaildir(root, later(37*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if msgs := list(t, m, "INBOX", nil); len(msgs) != 0 {
		t.Fatalf("listed %+v", msgs)
	}
	if got := dirNames(t, filepath.Join(root, "tmp")); len(got) != 0 {
		t.Fatalf("tmp/ = %q after 37 hours", got)
	}
}
