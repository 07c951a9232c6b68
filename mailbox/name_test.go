package mailbox

import (
	"testing"
)

// foreignNames are file names as other programs write them, with what
// ParseName must make of them.
var foreignNames = []struct {
	writer string
	name   string
	want   Name
}{
	{"dovecot", "1700000000.M412345P2021.mail.example.org,S=2048,W=2101:2,S",
		Name{ID: "1700000000.M412345P2021.mail.example.org", Extra: ",S=2048,W=2101", Size: 2048, VirtualSize: 2101, Sep: ':', Info: "2,S", Flags: Seen}},
	{"dovecot keywords", "1700000001.M1P2.mail,S=10:2,FSab",
		Name{ID: "1700000001.M1P2.mail", Extra: ",S=10", Size: 10, VirtualSize: -1, Sep: ':', Info: "2,FSab", Flags: Flagged | Seen | Keyword(0) | Keyword(1)}},
	{"mutt", "1700000002.2021_1.mutthost:2,FR",
		Name{ID: "1700000002.2021_1.mutthost", Size: -1, VirtualSize: -1, Sep: ':', Info: "2,FR", Flags: Flagged | Answered}},
	{"mutt new", "1700000003.2021_3.mutthost",
		Name{ID: "1700000003.2021_3.mutthost", Size: -1, VirtualSize: -1}},
	{"offlineimap", "1700000004_0.4242.oimap,U=12,FMD5=7e9d0c8f2b4a6e1d3c5b7a9f0e2d4c6b:2,S",
		Name{ID: "1700000004_0.4242.oimap", Extra: ",U=12,FMD5=7e9d0c8f2b4a6e1d3c5b7a9f0e2d4c6b", Size: -1, VirtualSize: -1, Sep: ':', Info: "2,S", Flags: Seen}},
	{"courier", "1700000005.M1P2V0000000000000801I00000000000a1b2c_0.host,S=42:2,",
		Name{ID: "1700000005.M1P2V0000000000000801I00000000000a1b2c_0.host", Extra: ",S=42", Size: 42, VirtualSize: -1, Sep: ':', Info: "2,"}},
	{"bang separator", "1700000006.M1P2.winhost!2,FS",
		Name{ID: "1700000006.M1P2.winhost", Size: -1, VirtualSize: -1, Sep: '!', Info: "2,FS", Flags: Flagged | Seen}},
	{"unknown letters", "1700000007.M1P2.host:2,DXz",
		Name{ID: "1700000007.M1P2.host", Size: -1, VirtualSize: -1, Sep: ':', Info: "2,DXz", Flags: Draft | FlagOf('X') | Keyword(25)}},
	{"experimental info", "1700000008.M1P2.host:1,whatever",
		Name{ID: "1700000008.M1P2.host", Size: -1, VirtualSize: -1, Sep: ':', Info: "1,whatever"}},
	{"ours", "1700000009.M123456P99R0011223344556677.test.example:2,RS",
		Name{ID: "1700000009.M123456P99R0011223344556677.test.example", Size: -1, VirtualSize: -1, Sep: ':', Info: "2,RS", Flags: Answered | Seen}},
	{"escaped host", `1700000010.M1P2.host\072port\057x`,
		Name{ID: `1700000010.M1P2.host\072port\057x`, Size: -1, VirtualSize: -1}},
	{"bad size hint", "1700000011.M1P2.h,S=-5,W=x:2,T",
		Name{ID: "1700000011.M1P2.h", Extra: ",S=-5,W=x", Size: -1, VirtualSize: -1, Sep: ':', Info: "2,T", Flags: Trashed}},
	{"bang in host, no info", "1700000012.M1P2.a!b",
		Name{ID: "1700000012.M1P2.a!b", Size: -1, VirtualSize: -1}},
}

func TestParseNameForeign(t *testing.T) {
	for _, tc := range foreignNames {
		t.Run(tc.writer, func(t *testing.T) {
			got, err := ParseName(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("ParseName(%q)\ngot  %+v\nwant %+v", tc.name, got, tc.want)
			}
			if got.String() != tc.name {
				t.Fatalf("String() = %q, want %q", got.String(), tc.name)
			}
		})
	}
}

func TestParseNameRejects(t *testing.T) {
	for _, name := range []string{
		"", ".", "..", ".hidden", "a/b", "a\x00b", "a\nb", "a\x1b[31mb", "a\x7fb",
		",S=12:2,S", ":2,S", "!2,S",
		string(make([]byte, 256)),
	} {
		if _, err := ParseName(name); err == nil {
			t.Errorf("ParseName(%q) accepted", name)
		} else {
			wantErr(t, name, err, ErrInvalidName)
		}
	}
}

func TestWithFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags Flags
		want  string
	}{
		{"1700000000.M1P2.h,S=2048,W=2101:2,S", Answered | Seen, "1700000000.M1P2.h,S=2048,W=2101:2,RS"},
		{"1700000000.M1P2.h", Seen, "1700000000.M1P2.h:2,S"},
		{"1700000000.M1P2.h!2,F", Flagged | Seen, "1700000000.M1P2.h!2,FS"},
		{"1700000000.M1P2.h:2,FSXab", Seen | FlagOf('X') | Keyword(0) | Keyword(1), "1700000000.M1P2.h:2,SXab"},
		{"1700000000.M1P2.h:2,S1", Flagged | Seen, "1700000000.M1P2.h:2,1FS"}, // non-letters kept, ASCII order
		{"1700000000.M1P2.h:1,xyz", Draft, "1700000000.M1P2.h:2,D"},
		{"1700000000.M1P2.h,U=3:2,", Draft | Flagged | Passed | Answered | Seen | Trashed, "1700000000.M1P2.h,U=3:2,DFPRST"},
	} {
		n, err := ParseName(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		got := n.WithFlags(tc.flags)
		if got.String() != tc.want {
			t.Errorf("%q.WithFlags(%v) = %q, want %q", tc.name, tc.flags, got, tc.want)
		}
		if got.ID != n.ID || got.Extra != n.Extra || got.Flags != tc.flags {
			t.Errorf("%q.WithFlags(%v) = %+v", tc.name, tc.flags, got)
		}
	}
}

func TestFlags(t *testing.T) {
	all := Draft | Flagged | Passed | Answered | Seen | Trashed
	if s := all.String(); s != "DFPRST" {
		t.Fatalf("String() = %q", s)
	}
	f, err := ParseFlags("zSaFX")
	if err != nil {
		t.Fatal(err)
	}
	if s := f.String(); s != "FSXaz" {
		t.Fatalf("String() = %q", s)
	}
	if !f.Has(Seen|Flagged) || f.Has(Draft) {
		t.Fatalf("Has on %v", f)
	}
	if _, err := ParseFlags("S,"); err == nil {
		t.Fatal(`ParseFlags("S,") accepted`)
	}
	if Keyword(26) != 0 || Keyword(-1) != 0 || FlagOf('1') != 0 {
		t.Fatal("out-of-range flags")
	}
}

func TestEscapeHost(t *testing.T) {
	for in, want := range map[string]string{
		"mail.example.org": "mail.example.org",
		"a/b:c":            `a\057b\072c`,
		"a,b!c\\d":         `a\054b\041c\134d`,
		"a b\n\xff":        `a\040b\012\377`,
		"":                 "localhost",
	} {
		if got := escapeHost(in); got != want {
			t.Errorf("escapeHost(%q) = %q, want %q", in, got, want)
		}
		if n, err := ParseName("1.M1P1R00." + escapeHost(in)); err != nil || n.ID != "1.M1P1R00."+escapeHost(in) || n.Sep != 0 {
			t.Errorf("name with host %q: %+v, %v", in, n, err)
		}
	}
}
