package config

import (
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that an account
// that parses is written back (Marshal) into text that parses again.
func FuzzParse(f *testing.F) {
	seeds := []string{Example, minimal, "[[account]]\n", "default_account = 1\n", "[[account]]\nname = \"a\"\n[account.smtp]\nport = -1\n"}
	if len(seeds) == 0 {
		f.Fatal("empty seed corpus")
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.toml", "")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: fuzz.toml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, a := range cfg.Accounts {
			if (a.IMAP != nil && a.IMAP.PasswordFile != "") || (a.SMTP != nil && a.SMTP.PasswordFile != "") {
				continue // files on this machine decide
			}
			if _, err := Parse(Marshal(a), "again.toml", ""); err != nil {
				t.Fatalf("account %q written back does not parse: %v\n%s", a.Name, err, Marshal(a))
			}
		}
	})
}

// FuzzWords checks that Words never panics and that quoting each word
// in single quotes gives the same words back.
func FuzzWords(f *testing.F) {
	for _, s := range []string{"pass show mail", `sh -c 'a | b' "c\"d" e\ f`, "'", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := Words(s)
		if err != nil {
			return
		}
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
		}
		again, err := Words(strings.Join(quoted, " "))
		if err != nil || len(again) != len(words) {
			t.Fatalf("Words(%q) = %q; quoted back: %q, %v", s, words, again, err)
		}
		for i := range words {
			if again[i] != words[i] {
				t.Fatalf("word %d: %q != %q", i, again[i], words[i])
			}
		}
	})
}
