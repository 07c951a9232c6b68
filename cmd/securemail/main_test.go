package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/securemail/securemail/internal/testkit"
)

// TestMain lets the test binary act as the securemail command inside the
// scripts of testdata/ (testscript installs it on their PATH).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"securemail": func() {
			detachTerminal()
			os.Exit(securemailMain())
		},
	})
}

// detachTerminal starts a new session so that the command has no
// controlling terminal even when "go test" runs in one: without it, a
// command that asks on /dev/tty (passphrase, "delete?") would wait for the
// developer at the keyboard instead of failing as it does in CI. A command
// that testscript's ttyin gave a pseudo-terminal is already a session
// leader; Setsid then fails and the pseudo-terminal stays.
func detachTerminal() {
	_, _ = syscall.Setsid()
}

// TestScripts runs the command-line scripts in testdata/*.txt: every
// `securemail keys` command as a user would type it, with its error paths
// and interoperability with GnuPG 2.2 (gpg) and OpenSSL 3 (openssl).
//
// SECURITY.md items the scripts cover, as a user meets them (so that
// grep -rn S28 --include=*_test.go finds them): S16, S25 in
// keys_display.txt; S28 in keys_conflict.txt; S51, S53 in keys_files.txt;
// S55 in keys_errors.txt, keys_files.txt and keys_generate.txt.
//
// Each script gets its own home: SECUREMAIL_HOME=$WORK/home, HOME=$WORK and
// GNUPGHOME=$WORK/gnupg (mode 0700). Scripts that need a second GnuPG home
// name it $WORK/gnupg-something, so that its agent is stopped at the end.
//
// Commands added to the standard ones:
//
//	need NAME...                 skip the script unless every NAME is on PATH
//	                             (with CI=true: fail instead of skipping)
//	exitcode N PROG [ARGS...]    run PROG and require exit status N; stdout
//	                             and stderr can be checked afterwards
//	setmatch VAR REGEXP FILE     set VAR to the first submatch of REGEXP in
//	                             FILE (stdout and stderr name the last output)
//	json FILE [-count=N] COND... FILE holds JSON: an object, or an array of
//	                             objects; some object (exactly N with
//	                             -count, none with !) meets every COND:
//	                             FIELD=JSON (equal, e.g. secret=true,
//	                             kind="pgp", emails=["a@b.example"],
//	                             expires=null) or FIELD~REGEXP (matches the
//	                             field's compact JSON, e.g. expires~^"2020-);
//	                             FIELD may be a dotted path: encryption.ok,
//	                             signatures.0.valid
//	dns serve [FILE]             serve a new signed test hierarchy (with the
//	                             records of FILE, zone-file syntax, relative
//	                             names relative to the root, and the
//	                             variant zones of internal/testkit) for the
//	                             rest of the script: SECUREMAIL_RESOLVER and
//	                             SECUREMAIL_TRUST_ANCHOR point at it
//
// Every script starts with SECUREMAIL_RESOLVER and SECUREMAIL_TRUST_ANCHOR
// naming a shared signed hierarchy on loopback, so no DNS leaves the test.
//
// Variables added, for building hostile user IDs and names (S16, S25): ESC
// (the escape character), RLO (U+202E RIGHT-TO-LEFT OVERRIDE) and NL (a
// newline).
func TestScripts(t *testing.T) {
	// Every script resolves through a signed test hierarchy on loopback
	// (the root, test., example.test., sub.example.test.), so that no
	// lookup leaves the machine; "dns serve" gives a script its own.
	_, base := testkit.MustStart(t, &testkit.Options{NoVariants: true})
	baseAnchor, err := base.Hierarchy().Anchor()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                "testdata",
		RequireUniqueNames: true,
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			env.Setenv("SECUREMAIL_HOME", filepath.Join(work, "home"))
			env.Setenv("HOME", work)
			gnupg := filepath.Join(work, "gnupg")
			if err := os.Mkdir(gnupg, 0o700); err != nil {
				return err
			}
			env.Setenv("GNUPGHOME", gnupg)
			if ci := os.Getenv("CI"); ci != "" {
				env.Setenv("CI", ci)
			}
			env.Values[testingTKey{}] = env.T()
			env.Setenv("ESC", "\x1b")
			env.Setenv("RLO", "\u202e")
			env.Setenv("NL", "\n")
			anchor := filepath.Join(work, "dns-anchor")
			if err := os.WriteFile(anchor, []byte(baseAnchor), 0o644); err != nil {
				return err
			}
			env.Setenv("SECUREMAIL_RESOLVER", base.Addr())
			env.Setenv("SECUREMAIL_TRUST_ANCHOR", anchor)
			// A gpg-agent started for a script's GnuPG home outlives gpg:
			// stop the agents of this script's homes (and only those).
			env.Defer(func() { stopGPGAgents(work) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"need":     cmdNeed,
			"exitcode": cmdExitCode,
			"setmatch": cmdSetMatch,
			"json":     cmdJSON,
			"dns":      cmdDNS,
		},
	})
}

// cmdDNS serves a script its own signed DNS hierarchy.
func cmdDNS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || args[0] != "serve" || len(args) > 2 {
		ts.Fatalf("usage: dns serve [FILE]")
	}
	h, err := testkit.New(nil)
	ts.Check(err)
	if len(args) == 2 {
		ts.Check(h.AddText(ts.ReadFile(args[1])))
	}
	srv, err := h.Serve("127.0.0.1:0")
	ts.Check(err)
	ts.Defer(func() { srv.Close() })
	anchor, err := h.Anchor()
	ts.Check(err)
	file := ts.MkAbs("dns-anchor-" + strconv.Itoa(srv.Port()))
	ts.Check(os.WriteFile(file, []byte(anchor), 0o644))
	ts.Setenv("SECUREMAIL_RESOLVER", srv.Addr())
	ts.Setenv("SECUREMAIL_TRUST_ANCHOR", file)
}

// testingTKey is the Env.Values key of the script's testscript.T, which
// the need command uses to skip a script.
type testingTKey struct{}

// stopGPGAgents asks gpgconf to stop the daemons of every GnuPG home in
// work ($WORK/gnupg*).
func stopGPGAgents(work string) {
	gpgconf, err := exec.LookPath("gpgconf")
	if err != nil {
		return
	}
	homes, _ := filepath.Glob(filepath.Join(work, "gnupg*"))
	for _, h := range homes {
		if st, err := os.Stat(h); err != nil || !st.IsDir() {
			continue
		}
		cmd := exec.Command(gpgconf, "--homedir", h, "--kill", "all")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+h)
		_ = cmd.Run()
	}
}

// cmdNeed skips the script unless every named program is on PATH. In CI
// (CI=true) a missing program is a failure: the interop tests must run there.
func cmdNeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! need")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: need NAME...")
	}
	for _, name := range args {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				ts.Fatalf("%s is required in CI but is not on PATH: %v", name, err)
			}
			ts.Logf("skip: %s is not on PATH (set CI=true to make this a failure)", name)
			ts.Value(testingTKey{}).(testscript.T).Skip(name + " is not on PATH")
		}
	}
}

// cmdExitCode runs a program and checks its exact exit status, which the
// standard "! exec" cannot (it accepts any failure).
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode (give the expected status instead)")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want < 0 {
		ts.Fatalf("exitcode: %q is not an exit status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdSetMatch sets an environment variable from a file or the last output,
// e.g. the fingerprint gpg prints, so that later commands can use it.
func cmdSetMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! setmatch")
	}
	if len(args) != 3 {
		ts.Fatalf("usage: setmatch VAR REGEXP FILE")
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("setmatch: %v", err)
	}
	if re.NumSubexp() < 1 {
		ts.Fatalf("setmatch: %q has no (group)", args[1])
	}
	m := re.FindStringSubmatch(ts.ReadFile(args[2]))
	if m == nil {
		ts.Fatalf("setmatch: no match for %q in %s", args[1], args[2])
	}
	ts.Setenv(args[0], m[1])
}

// cmdJSON checks JSON output by its meaning, not its layout: see
// TestScripts for the syntax.
// jsonPath finds a field by a dotted path: "encryption.kind",
// "signatures.0.valid" (a number indexes an array).
func jsonPath(o map[string]any, path string) (any, bool) {
	var v any = o
	for _, key := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: json FILE [-count=N] FIELD=JSON|FIELD~REGEXP...")
	}
	file, args := args[0], args[1:]
	count := -1
	if len(args) > 0 && strings.HasPrefix(args[0], "-count=") {
		n, err := strconv.Atoi(strings.TrimPrefix(args[0], "-count="))
		if err != nil || n < 0 {
			ts.Fatalf("json: bad %s", args[0])
		}
		if neg {
			ts.Fatalf("json: -count with ! makes no sense")
		}
		count, args = n, args[1:]
	}
	objs := decodeJSONObjects(ts, file)
	type cond struct {
		field string
		want  any            // for FIELD=JSON
		re    *regexp.Regexp // for FIELD~REGEXP
	}
	var conds []cond
	for _, a := range args {
		i := strings.IndexAny(a, "=~")
		if i <= 0 {
			ts.Fatalf("json: %q is neither FIELD=JSON nor FIELD~REGEXP", a)
		}
		c := cond{field: a[:i]}
		if a[i] == '~' {
			re, err := regexp.Compile(a[i+1:])
			if err != nil {
				ts.Fatalf("json: %v", err)
			}
			c.re = re
		} else if err := decodeJSON(a[i+1:], &c.want); err != nil {
			ts.Fatalf("json: %s: the value is not JSON (quote strings): %v", a, err)
		}
		conds = append(conds, c)
	}
	matches := func(o map[string]any) bool {
		for _, c := range conds {
			v, present := jsonPath(o, c.field)
			if !present {
				return false
			}
			if c.re != nil {
				if !c.re.MatchString(compactJSON(v)) {
					return false
				}
			} else if !reflect.DeepEqual(v, c.want) {
				return false
			}
		}
		return true
	}
	n := 0
	for _, o := range objs {
		if matches(o) {
			n++
		}
	}
	switch {
	case count >= 0 && n != count:
		ts.Fatalf("json: %d of %d objects in %s match %q, want %d", n, len(objs), file, args, count)
	case count < 0 && neg && n > 0:
		ts.Fatalf("json: %d of %d objects in %s match %q, want none", n, len(objs), file, args)
	case count < 0 && !neg && n == 0:
		ts.Fatalf("json: none of %d objects in %s matches %q", len(objs), file, args)
	}
}

// decodeJSONObjects reads FILE (or stdout, stderr) as one JSON object or an
// array of objects.
func decodeJSONObjects(ts *testscript.TestScript, file string) []map[string]any {
	var top any
	if err := decodeJSON(ts.ReadFile(file), &top); err != nil {
		ts.Fatalf("json: %s is not JSON: %v", file, err)
	}
	switch t := top.(type) {
	case map[string]any:
		return []map[string]any{t}
	case []any:
		objs := make([]map[string]any, len(t))
		for i, e := range t {
			o, ok := e.(map[string]any)
			if !ok {
				ts.Fatalf("json: element %d of %s is not an object", i, file)
			}
			objs[i] = o
		}
		return objs
	}
	ts.Fatalf("json: %s is neither an object nor an array", file)
	return nil
}

// decodeJSON decodes exactly one JSON value, keeping numbers as written.
func decodeJSON(s string, v *any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value")
	}
	return nil
}

// compactJSON encodes v on one line, without escaping <, > and &.
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}
