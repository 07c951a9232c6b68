// Package imaptest runs a real IMAP server, Dovecot, for tests: a
// configuration, a test certificate, a passwd-file user and Maildir
// storage in a temporary directory, listening on loopback ports chosen at
// random, started and stopped by the test ([StartDovecot]). It also makes
// test TLS certificates ([NewTLS]).
//
// Dovecot must be installed (apt-get install dovecot-imapd). When it is
// missing the test is skipped, except under CI=true, where it fails: CI
// installs it.
//
// Run as root (a container), Dovecot's master runs as root, its login
// processes as dovenull and dovecot, and the mail processes as nobody,
// who owns the mail directories; run as another user, everything runs as
// that user.
package imaptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TLS is a test certificate for 127.0.0.1, ::1 and localhost, with the
// configurations of a server that presents it and of a client that trusts
// it (and nothing else).
type TLS struct {
	Server  *tls.Config
	Client  *tls.Config
	CertPEM []byte
	KeyPEM  []byte
}

// NewTLS makes a self-signed ECDSA P-256 certificate valid for a day.
func NewTLS(t testing.TB) *TLS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "securemail test server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &TLS{
		Server:  &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}},
		Client:  &tls.Config{RootCAs: pool},
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// Need returns the path of a program the test needs, skipping the test
// when it is missing, except under CI=true, where that is a failure.
// Programs in /usr/sbin and /sbin are found even when those are not on
// PATH.
func Need(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI (apt-get install dovecot-imapd) but is not installed", name)
	}
	t.Skipf("%s is not installed (apt-get install dovecot-imapd; with CI=true this is a failure)", name)
	return ""
}

// Dovecot is a running Dovecot for one test.
type Dovecot struct {
	// Addr is the implicit-TLS IMAP listener (IMAPS), STARTTLSAddr the
	// plaintext one that offers STARTTLS.
	Addr, STARTTLSAddr string
	// User and Password log in; User2 and Password2 are a second
	// account.
	User, Password   string
	User2, Password2 string
	// TLS is the server's certificate; TLS.Client trusts it.
	TLS *TLS
	// Dir holds the configuration, the log and the mail.
	Dir string

	bin  string
	conf string
	cmd  *exec.Cmd
	wait chan error
	t    testing.TB
}

// StartDovecot writes a configuration to a new temporary directory and
// starts Dovecot on it; the test's cleanup stops it and removes the
// directory.
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	bin := Need(t, "dovecot")
	// Not t.TempDir(): the mail processes may run as another user, who
	// must reach the directory.
	dir, err := os.MkdirTemp("", "securemail-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := &Dovecot{
		User: "alice", Password: "alice-secret",
		User2: "bob", Password2: "bob-secret",
		TLS: NewTLS(t), Dir: dir, bin: bin, t: t,
	}
	d.Addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	d.STARTTLSAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	if err := d.writeConfig(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	d.Start()
	return d
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// MailDir returns the Maildir of a user.
func (d *Dovecot) MailDir(user string) string { return filepath.Join(d.Dir, "mail", user) }

func (d *Dovecot) writeConfig() error {
	var mailUID, mailGID, loginUser, internalUser string
	if os.Geteuid() == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			return fmt.Errorf("imaptest: no user nobody to run the mail processes as: %v", err)
		}
		mailUID, mailGID = nobody.Uid, nobody.Gid
		loginUser, internalUser = "dovenull", "dovecot"
		for _, u := range []string{loginUser, internalUser} {
			if _, err := user.Lookup(u); err != nil {
				return fmt.Errorf("imaptest: Dovecot's user %s is missing (is dovecot-core installed?): %v", u, err)
			}
		}
	} else {
		me, err := user.Current()
		if err != nil {
			return err
		}
		mailUID, mailGID = me.Uid, me.Gid
		loginUser, internalUser = me.Username, me.Username
	}
	for _, sub := range []string{"mail", "home"} {
		p := filepath.Join(d.Dir, sub)
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		uid, _ := strconv.Atoi(mailUID)
		gid, _ := strconv.Atoi(mailGID)
		if err := os.Chown(p, uid, gid); err != nil && os.Geteuid() == 0 {
			return err
		}
	}
	files := map[string]string{
		"cert.pem": string(d.TLS.CertPEM),
		"key.pem":  string(d.TLS.KeyPEM),
		"passwd":   fmt.Sprintf("%s:{PLAIN}%s::::::\n%s:{PLAIN}%s::::::\n", d.User, d.Password, d.User2, d.Password2),
	}
	_, port, _ := net.SplitHostPort(d.Addr)
	_, stPort, _ := net.SplitHostPort(d.STARTTLSAddr)
	firstUID := "first_valid_uid = 1"
	if mailUID == "0" {
		firstUID = "first_valid_uid = 0"
	}
	files["dovecot.conf"] = strings.NewReplacer(
		"DIR", d.Dir, "PORT_IMAPS", port, "PORT_IMAP", stPort,
		"MAILUID", mailUID, "MAILGID", mailGID, "LOGINUSER", loginUser, "INTERNALUSER", internalUser,
		"FIRSTUID", firstUID,
	).Replace(configTemplate)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d.Dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	d.conf = filepath.Join(d.Dir, "dovecot.conf")
	return nil
}

// configTemplate is a Dovecot 2.3 configuration: IMAP only, on loopback,
// TLS with the test certificate (implicit on one port, STARTTLS on the
// other), a passwd-file user database, Maildir++ storage, no fsync (tests
// need speed, not durability).
const configTemplate = `# securemail test server
base_dir = DIR/run
state_dir = DIR/state
log_path = DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <DIR/cert.pem
ssl_key = <DIR/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_login_user = LOGINUSER
default_internal_user = INTERNALUSER
FIRSTUID
mail_fsync = never
mail_location = maildir:DIR/mail/%u
shutdown_clients = yes
imap_idle_notify_interval = 1 secs

service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = PORT_IMAP
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = PORT_IMAPS
    ssl = yes
  }
}
service anvil {
  chroot =
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u DIR/passwd
}
userdb {
  driver = static
  args = uid=MAILUID gid=MAILGID home=DIR/home/%u
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = create
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = create
  }
  mailbox Trash {
    special_use = \Trash
    auto = create
  }
}
`

// Start starts Dovecot and waits until it greets on its IMAPS port.
func (d *Dovecot) Start() {
	d.t.Helper()
	if d.cmd != nil {
		d.t.Fatal("imaptest: Dovecot is already running")
	}
	cmd := exec.Command(d.bin, "-F", "-c", d.conf)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("imaptest: starting dovecot: %v", err)
	}
	d.cmd = cmd
	d.wait = make(chan error, 1)
	go func() { d.wait <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := d.ready(); err == nil {
			return
		} else if time.Now().After(deadline) {
			d.Stop()
			d.t.Fatalf("imaptest: dovecot did not become ready: %v\n%s", err, d.Log())
		}
		select {
		case err := <-d.wait:
			d.cmd = nil
			d.t.Fatalf("imaptest: dovecot exited: %v\n%s", err, d.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ready connects to the IMAPS port and reads the real greeting (Dovecot
// says "Waiting for authentication process" first while it starts).
func (d *Dovecot) ready() error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", d.Addr, d.TLS.Client)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for {
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if strings.Contains(string(buf), "CAPABILITY") {
			return nil
		}
		if err != nil {
			return fmt.Errorf("greeting %q: %v", buf, err)
		}
	}
}

// Stop stops Dovecot (its clients are disconnected) and waits for it to
// exit. Stopping a stopped Dovecot does nothing.
func (d *Dovecot) Stop() {
	if d.cmd == nil {
		return
	}
	terminate(d.cmd, false)
	select {
	case <-d.wait:
	case <-time.After(10 * time.Second):
		terminate(d.cmd, true)
		<-d.wait
	}
	d.cmd = nil
	// Its children may linger for a moment: wait until the ports are free.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		l, err := net.Listen("tcp", d.Addr)
		if err == nil {
			l.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart stops and starts Dovecot, as an administrator restarting the
// service would: every connection is cut.
func (d *Dovecot) Restart() {
	d.t.Helper()
	d.Stop()
	d.Start()
}

// Doveadm runs doveadm with the server's configuration and the given
// arguments ("import", "-u", "alice", …), failing the test when it fails.
func (d *Dovecot) Doveadm(args ...string) string {
	d.t.Helper()
	bin := filepath.Join(filepath.Dir(d.bin), "doveadm")
	if _, err := os.Stat(bin); err != nil {
		bin = Need(d.t, "doveadm")
	}
	out, err := exec.Command(bin, append([]string{"-c", d.conf}, args...)...).CombinedOutput()
	if err == nil && strings.Contains(string(out), "Error:") {
		err = errors.New("it reported errors")
	}
	if err != nil {
		d.t.Fatalf("imaptest: doveadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Log returns Dovecot's log.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	return string(b)
}
