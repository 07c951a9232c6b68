package mailauth

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The interoperability tests run Debian's python3-dkim (dkimpy), an
// independent implementation of DKIM and ARC, in both directions. They
// skip when it is missing, except under CI=true, where .ci/run installs
// it (apt-get install python3-dkim) and a missing peer is a failure.

// needPythonDKIM returns a Python that can import dkim, nacl (for
// Ed25519) and the other modules named (authres, for ARC signing):
// python3 on PATH, else the system's /usr/bin/python3 (where Debian
// installs them when PATH leads to another Python). Debian packages:
// python3-dkim (which brings python3-nacl) and python3-authres.
func needPythonDKIM(t *testing.T, modules ...string) string {
	t.Helper()
	var tried []string
	imports := "import " + strings.Join(append([]string{"dkim", "nacl"}, modules...), ", ")
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			tried = append(tried, p+": "+err.Error())
			continue
		}
		out, err := exec.Command(path, "-c", imports).CombinedOutput()
		if err == nil {
			return path
		}
		tried = append(tried, fmt.Sprintf("%s: %v %s", path, err, bytes.TrimSpace(out)))
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("python3-dkim and python3-authres are required in CI: %s", strings.Join(tried, "; "))
	}
	t.Skipf("python3-dkim or python3-authres not installed (%s)", strings.Join(tried, "; "))
	return ""
}

// pyScript drives dkimpy: it reads a JSON list of jobs (sign, verify,
// arcsign, arcverify; messages in base64) and writes a JSON list of
// results, so that one Python process does a whole test's work.
const pyScript = `
import base64, json, sys
import dkim

def run(job):
    msg = base64.b64decode(job['msg'])
    records = {k.lower(): v for k, v in job.get('records', {}).items()}
    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip('.').lower())
    cmd = job['cmd']
    if cmd == 'sign':
        sig = dkim.sign(msg, job['selector'].encode(), job['domain'].encode(), job['key'].encode(),
                        canonicalize=tuple(c.encode() for c in job['canon']),
                        signature_algorithm=job['alg'].encode(),
                        include_headers=[h.encode() for h in job['headers']])
        return True, sig + msg, ''
    if cmd == 'verify':
        return dkim.DKIM(msg).verify(dnsfunc=dnsfunc), b'', ''
    if cmd == 'arcsign':
        hdrs = dkim.arc_sign(msg, job['selector'].encode(), job['domain'].encode(), job['key'].encode(),
                             job['srv_id'].encode(), include_headers=[h.encode() for h in job['headers']])
        return True, b''.join(hdrs) + msg, ''
    if cmd == 'arcverify':
        cv, results, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
        return cv == dkim.CV_Pass, b'', '%s %s' % (cv, reason)
    raise ValueError(cmd)

out = []
for job in json.load(open(sys.argv[1])):
    try:
        ok, data, note = run(job)
    except Exception as e:
        ok, data, note = False, b'', '%s: %s' % (type(e).__name__, e)
    out.append({'ok': bool(ok), 'out': base64.b64encode(data).decode(), 'note': note})
json.dump(out, sys.stdout)
`

type pyDKIM struct {
	t      *testing.T
	python string
	dir    string
}

func newPyDKIM(t *testing.T, modules ...string) *pyDKIM {
	py := needPythonDKIM(t, modules...)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dkimpeer.py"), []byte(pyScript), 0o600); err != nil {
		t.Fatal(err)
	}
	return &pyDKIM{t: t, python: py, dir: dir}
}

// pyJob is one thing for dkimpy to do; pyResult its outcome.
type pyJob map[string]any

type pyResult struct {
	OK   bool   `json:"ok"`
	Out  []byte `json:"out"`
	Note string `json:"note"`
}

// run runs the jobs in one Python process.
func (p *pyDKIM) run(jobs []pyJob) []pyResult {
	p.t.Helper()
	for _, j := range jobs {
		j["msg"] = base64.StdEncoding.EncodeToString(j["msg"].([]byte))
	}
	jf := filepath.Join(p.dir, "jobs.json")
	a, _ := json.Marshal(jobs)
	if err := os.WriteFile(jf, a, 0o600); err != nil {
		p.t.Fatal(err)
	}
	var stderr bytes.Buffer
	c := exec.Command(p.python, filepath.Join(p.dir, "dkimpeer.py"), jf)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		p.t.Fatalf("dkimpy: %v: %s", err, stderr.Bytes())
	}
	var res []pyResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(jobs) {
		p.t.Fatalf("dkimpy output: %v (%d results for %d jobs)", err, len(res), len(jobs))
	}
	return res
}

// pyKey is a private key as dkimpy takes it: PKCS #1 PEM for RSA, the
// base64 seed for Ed25519.
func pyKey(t *testing.T, k crypto.Signer) string {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	case ed25519.PrivateKey:
		return base64.StdEncoding.EncodeToString(k.Seed())
	}
	t.Fatalf("key type %T", k)
	return ""
}

// interopMessages are messages with what canonicalization must get
// right: trailing whitespace, tabs, runs of spaces, folded fields, empty
// lines at the end, a body without a final line break, LF line ends.
func interopMessages() map[string][]byte {
	tricky := crlf("From: \"Alice  Example\" <alice@example.org>\nTo: bob@example.net,\n\tcarol@example.net\nSubject:   Spaces\t and  tabs   \nDate: Mon, 3 Jun 2024 10:00:00 +0000\nMessage-ID: <t-1@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\nline with trailing spaces   \n\ttabbed\tline\t\nmany    spaces\n\n--b1\nContent-Type: text/html\n\n<p>hi</p>\n--b1--\n\n\n\n")
	return map[string][]byte{
		"plain":            plainMessage("alice@example.org"),
		"tricky":           tricky,
		"no final newline": bytes.TrimRight(plainMessage("alice@example.org"), "\r\n"),
		"LF line ends":     bytes.ReplaceAll(tricky, []byte("\r\n"), []byte("\n")),
		"empty body":       crlf("From: alice@example.org\nTo: bob@example.net\nSubject: empty\n\n"),
	}
}

func TestInteropPythonSignsWeVerify(t *testing.T) {
	py := newPyDKIM(t)
	keys(t)
	type variant struct{ key, msg, canon string }
	var jobs []pyJob
	var vs []variant
	z := newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	for _, k := range []struct {
		name string
		key  crypto.Signer
		alg  string
	}{{"rsa", rsaKey, "rsa-sha256"}, {"ed25519", edKey, "ed25519-sha256"}} {
		z.AddTXT(k.name+"._domainkey.example.org", keyRecord(t, k.key))
		for name, msg := range interopMessages() {
			for _, c := range [][2]string{{"relaxed", "relaxed"}, {"simple", "simple"}, {"relaxed", "simple"}, {"simple", "relaxed"}} {
				jobs = append(jobs, pyJob{"cmd": "sign", "msg": msg,
					"selector": k.name, "domain": "example.org", "key": pyKey(t, k.key), "alg": k.alg,
					"canon": c, "headers": []string{"from", "to", "subject", "date", "message-id", "content-type"}})
				vs = append(vs, variant{k.name, name, c[0] + "/" + c[1]})
			}
		}
	}
	for i, r := range py.run(jobs) {
		if !r.OK {
			t.Fatalf("%+v: dkimpy sign: %s", vs[i], r.Note)
		}
		v := eval(t, r.Out, &Options{DNS: z})
		if len(v.DKIM) != 1 || v.DKIM[0].Result != Pass || !v.Pass() {
			t.Errorf("%+v: dkimpy's signature: %+v (%s)", vs[i], v.DKIM, errText(v.DKIM[0].Error))
		}
		// And a change to the body is noticed.
		changed := append(bytes.Clone(r.Out), "PS\r\n"...)
		if v := eval(t, changed, &Options{DNS: z}); v.DKIM[0].Result != Fail {
			t.Errorf("%+v: changed body: %+v", vs[i], v.DKIM[0])
		}
	}
}

func TestInteropWeSignPythonVerifies(t *testing.T) {
	py := newPyDKIM(t)
	keys(t)
	var jobs []pyJob
	var what []string
	var wantOK []bool
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"rsa", rsaKey}, {"ed25519", edKey}} {
		records := map[string]string{"we._domainkey.example.org": keyRecord(t, k.key)}
		for name, msg := range interopMessages() {
			if name == "empty body" {
				continue // dkimpy refuses to verify an empty body signed relaxed
			}
			signed := sign(t, msg, "example.org", "we", k.key)
			jobs = append(jobs, pyJob{"cmd": "verify", "msg": signed, "records": records})
			what, wantOK = append(what, k.name+", "+name+": SignDKIM"), append(wantOK, true)
			// The engine that verifies (and seals ARC) signs alike, in
			// every canonicalization.
			for _, c := range []string{"simple/simple", "relaxed/simple", "simple/relaxed"} {
				a, _ := algorithmFor(k.key)
				crafted := craft(t, msg, "v=1; a="+a+"; c="+c+"; d=example.org; s=we; h=from:to:subject:date", k.key)
				jobs = append(jobs, pyJob{"cmd": "verify", "msg": crafted, "records": records})
				what, wantOK = append(what, k.name+", "+name+": engine "+c), append(wantOK, true)
			}
			// dkimpy sees a tampered message as we do.
			tampered := bytes.Replace(signed, []byte("Subject:"), []byte("Subject: [fwd]"), 1)
			jobs = append(jobs, pyJob{"cmd": "verify", "msg": tampered, "records": records})
			what, wantOK = append(what, k.name+", "+name+": tampered"), append(wantOK, false)
		}
	}
	for i, r := range py.run(jobs) {
		if r.OK != wantOK[i] {
			t.Errorf("%s: dkimpy says %v, want %v (%s)", what[i], r.OK, wantOK[i], r.Note)
		}
	}
}

func TestInteropARC(t *testing.T) {
	py := newPyDKIM(t, "authres")
	raw, z := threeHops(t)
	records := map[string]string{}
	for _, n := range []string{"sel._domainkey.example.org", "arc._domainkey.list1.example", "arc._domainkey.list2.example", "arc._domainkey.list3.example"} {
		txt, err := z.LookupTXT(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		records[n] = txt[0]
	}
	// Our three-hop chain validates with dkimpy; dkimpy seals a fourth
	// hop, and a first hop of a fresh message.
	hop4 := append(crlf("Authentication-Results: mx.list4.example; arc=pass; dkim=fail header.d=example.org\n"), raw...)
	z.AddTXT("py._domainkey.list4.example", keyRecord(t, rsaKey))
	first := append(crlf("Authentication-Results: mx.list4.example; dkim=pass header.d=example.org\n"), sign(t, plainMessage("alice@example.org"), "example.org", "sel", rsaKey)...)
	res := py.run([]pyJob{
		{"cmd": "arcverify", "msg": raw, "records": records},
		{"cmd": "arcsign", "msg": hop4, "selector": "py", "domain": "list4.example", "key": pyKey(t, rsaKey), "srv_id": "mx.list4.example",
			"headers": []string{"from", "to", "subject", "date", "message-id"}},
		{"cmd": "arcsign", "msg": first, "selector": "py", "domain": "list4.example", "key": pyKey(t, rsaKey), "srv_id": "mx.list4.example",
			"headers": []string{"from", "to", "subject"}},
	})
	if !res[0].OK {
		t.Errorf("dkimpy rejects our ARC chain: %s", res[0].Note)
	}
	if !res[1].OK || !res[2].OK {
		t.Fatalf("dkimpy arcsign: %s / %s", res[1].Note, res[2].Note)
	}
	v := eval(t, res[1].Out, &Options{DNS: z})
	if v.ARC.Result != Pass || v.ARC.Instances != 4 || v.ARC.Sealers[3] != "list4.example" {
		t.Errorf("dkimpy's fourth seal: %+v (%s)", v.ARC, errText(v.ARC.Error))
	}
	// dkimpy's first seal, then ours.
	sealed := arcHop(t, res[2].Out, z, "list1.example", rsaKey2, nil)
	if v := eval(t, sealed, &Options{DNS: z}); v.ARC.Result != Pass || v.ARC.Instances != 2 {
		t.Errorf("dkimpy then us: %+v (%s)", v.ARC, errText(v.ARC.Error))
	}
}
