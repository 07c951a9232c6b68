package dnssec

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/securemail/securemail/internal/testkit"
)

// needPeer returns the path of a real peer program, skipping the test
// when it is missing, except under CI=true, where a missing peer is a
// failure (.ci/run installs them). Daemons such as unbound live in
// /usr/sbin, which is not always on a user's PATH.
func needPeer(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if q := filepath.Join("/usr/sbin", name); isExecutable(q) {
			return q
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skip(name + " not installed")
	}
	return p
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// unboundVerdict classifies Unbound's answers to one question, asked with
// DO and without CD, then with CD: secure is AD with NOERROR or NXDOMAIN;
// insecure the same without AD; bogus is SERVFAIL that CD turns into data
// (Unbound found the data and rejected it); error is SERVFAIL either way.
func unboundVerdict(plain, cd *dns.Msg) string {
	switch plain.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		if plain.AuthenticatedData {
			return "secure"
		}
		return "insecure"
	case dns.RcodeServerFailure:
		if cd != nil && (cd.Rcode == dns.RcodeSuccess || cd.Rcode == dns.RcodeNameError) {
			return "bogus"
		}
		return "error"
	}
	return "rcode " + dns.RcodeToString[plain.Rcode]
}

// startUnbound runs unbound as a validating resolver whose only upstream
// is the test hierarchy (a stub zone for the root) and whose trust anchor
// is the hierarchy's, and returns its address.
func startUnbound(t *testing.T, unbound string) string {
	h, s := kit(t)
	dir := t.TempDir()
	anchor, err := h.Anchor()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "anchor"), []byte(anchor), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	module-config: "validator iterator"
	qname-minimisation: no
	aggressive-nsec: no
	trust-anchor-file: %q
	# RFC 4509 §3: a SHA-1 DS is ignored when a SHA-256 DS is offered
	# (S44). Unbound applies it only with this option.
	harden-algo-downgrade: yes
	val-log-level: 2
	ede: yes
	# "test." is a special-use name Unbound answers itself by default.
	local-zone: "test." nodefault
	val-bogus-ttl: 1
remote-control:
	control-enable: no
`, port, dir, filepath.Join(dir, "unbound.pid"), filepath.Join(dir, "anchor"))
	// One stub zone per zone of the hierarchy, all at the kit's address.
	// A stub for the root alone is not enough: when the answer to a DS
	// query comes from a zone below the delegation point Unbound knows,
	// it looks up that zone's name servers (iter_ds_toolow,
	// processDSNSFind) and asks them on port 53, where nothing listens.
	for _, z := range h.Zones() {
		conf += fmt.Sprintf("stub-zone:\n\tname: %q\n\tstub-addr: 127.0.0.1@%d\n", z.Name(), s.Port())
	}
	confPath := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(unbound, "-d", "-c", confPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("unbound log:\n%s", logs.String())
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := &dns.Client{Timeout: 500 * time.Millisecond}
		q := new(dns.Msg)
		// Unbound answers for localhost. itself: the probe leaves its
		// cache of the hierarchy empty.
		q.SetQuestion("localhost.", dns.TypeA)
		if _, _, err := c.Exchange(q, addr); err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("unbound did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a port free for UDP and TCP on 127.0.0.1 (a race with
// other processes is possible, and unlikely).
func freePort(t *testing.T) int {
	for i := 0; i < 20; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

func askUnbound(t *testing.T, addr, name string, qtype uint16, cd bool) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.CheckingDisabled = cd
	q.SetEdns0(udpSize, true)
	c := &dns.Client{Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(q, addr)
	if err == nil && resp.Truncated {
		resp, _, err = (&dns.Client{Net: "tcp", Timeout: 5 * time.Second}).Exchange(q, addr)
	}
	if err != nil {
		t.Fatalf("asking unbound %s %s: %v", name, typeName(qtype), err)
	}
	return resp
}

func ourVerdict(res *Result, err error) string {
	if err != nil {
		return "error"
	}
	return res.Status.String()
}

// TestUnboundAgrees runs Unbound as a validating resolver over the test
// hierarchy with the same trust anchor and checks that, for every
// variant, our verdict is Unbound's (and the one the variant expects). The
// table it logs is the one in the release note.
func TestUnboundAgrees(t *testing.T) {
	unbound := needPeer(t, "unbound")
	h, _ := kit(t)
	addr := startUnbound(t, unbound)
	r := kitResolver(t, func(o *Options) { o.Now = time.Now })

	var table strings.Builder
	fmt.Fprintf(&table, "\n| variant | item | query | want | ours | Unbound | Unbound EDE |\n|---|---|---|---|---|---|---|\n")
	for _, v := range h.Variants() {
		res, err := r.Lookup(context.Background(), v.QName, v.QType)
		ours := ourVerdict(res, err)
		plain := askUnbound(t, addr, v.QName, v.QType, false)
		var cd *dns.Msg
		if plain.Rcode == dns.RcodeServerFailure {
			cd = askUnbound(t, addr, v.QName, v.QType, true)
		}
		theirs := unboundVerdict(plain, cd)
		ede := ""
		if code, text, ok := upstreamEDE(plain); ok {
			ede = fmt.Sprintf("%d %s", code, dns.ExtendedErrorCodeToString[code])
			if text != "" {
				ede += ": " + sanitize(text)
			}
		}
		mark := ""
		if ours != theirs || ours != v.Want {
			mark = " **differs**"
			t.Errorf("%s (%s %s): want %s, ours %s, Unbound %s (EDE %s)", v.Name, v.QName, typeName(v.QType), v.Want, ours, theirs, ede)
			if res != nil {
				t.Logf("  ours: %v", res)
			} else {
				t.Logf("  ours: %v", err)
			}
		}
		fmt.Fprintf(&table, "| %s | %s | %s %s | %s | %s | %s%s | %s |\n", v.Name, v.Item, v.QName, typeName(v.QType), v.Want, ours, theirs, mark, ede)
	}
	t.Log(table.String())
}

// TestUnboundQueryCount compares the queries a cold lookup of the SMIMEA
// record three zones below the anchor costs us and Unbound (counted by
// the test hierarchy's server): the goal is no more than Unbound.
func TestUnboundQueryCount(t *testing.T) {
	unbound := needPeer(t, "unbound")
	_, s := kit(t)
	addr := startUnbound(t, unbound) // a fresh Unbound: empty cache
	before := s.Queries()
	resp := askUnbound(t, addr, testkit.SampleSMIMEA, dns.TypeSMIMEA, false)
	theirs := s.Queries() - before
	if !resp.AuthenticatedData {
		t.Fatalf("Unbound: %v", resp)
	}
	before = s.Queries()
	res, err := kitResolver(t, func(o *Options) { o.Now = time.Now }).Lookup(context.Background(), testkit.SampleSMIMEA, dns.TypeSMIMEA)
	mustStatus(t, res, err, Secure, -1)
	ours := s.Queries() - before
	t.Logf("cold SMIMEA lookup three zones below the anchor: we send %d queries (%d received by the server), Unbound %d", res.Queries, ours, theirs)
	if ours > theirs {
		t.Errorf("we send %d queries, Unbound %d", ours, theirs)
	}
}
