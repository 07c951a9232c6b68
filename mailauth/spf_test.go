package mailauth

import (
	"strings"
	"testing"

	"github.com/securemail/securemail/mailauth/mailauthtest"
)

// rfc7208Zone is the DNS of RFC 7208 Appendix A.
const rfc7208Zone = `
$ORIGIN example.com.
@           600 MX  10 mail-a
                MX  20 mail-b
                A   192.0.2.10
                A   192.0.2.11
amy             A   192.0.2.65
bob             A   192.0.2.66
mail-a          A   192.0.2.129
mail-b          A   192.0.2.130
www             CNAME example.com.

$ORIGIN example.org.
@           600 MX  10 mail-c
mail-c          A   192.0.2.140

$ORIGIN 2.0.192.in-addr.arpa.
10              PTR example.com.
11              PTR example.com.
65              PTR amy.example.com.
66              PTR bob.example.com.
129             PTR mail-a.example.com.
130             PTR mail-b.example.com.
140             PTR mail-c.example.org.

$ORIGIN 0.0.10.in-addr.arpa.
4               PTR bob.example.com.
`

// TestSPFRFC7208AppendixA checks the simple examples of RFC 7208
// Appendix A.1: each record published for example.com, and the client
// addresses that pass or fail with it.
func TestSPFRFC7208AppendixA(t *testing.T) {
	for _, tc := range []struct {
		record     string
		pass, fail []string
	}{
		{"v=spf1 +all", []string{"192.0.2.1", "203.0.113.9"}, nil},
		{"v=spf1 a -all", []string{"192.0.2.10", "192.0.2.11"}, []string{"192.0.2.12", "192.0.2.129"}},
		{"v=spf1 a:example.org -all", nil, []string{"192.0.2.10", "192.0.2.140"}},
		{"v=spf1 mx -all", []string{"192.0.2.129", "192.0.2.130"}, []string{"192.0.2.10", "192.0.2.140"}},
		{"v=spf1 mx:example.org -all", []string{"192.0.2.140"}, []string{"192.0.2.129"}},
		{"v=spf1 mx mx:example.org -all", []string{"192.0.2.129", "192.0.2.130", "192.0.2.140"}, []string{"192.0.2.10"}},
		{"v=spf1 mx/30 mx:example.org/30 -all", []string{"192.0.2.128", "192.0.2.131", "192.0.2.141", "192.0.2.143"}, []string{"192.0.2.132", "192.0.2.144"}},
		{"v=spf1 ptr -all", []string{"192.0.2.65"}, []string{"192.0.2.140", "10.0.0.4"}},
		{"v=spf1 ip4:192.0.2.128/28 -all", []string{"192.0.2.129"}, []string{"192.0.2.65"}},
	} {
		z, err := mailauthtest.ParseZone(strings.NewReader(rfc7208Zone), ".")
		if err != nil {
			t.Fatal(err)
		}
		z.AddTXT("example.com", tc.record)
		check := func(ip string, want Result) {
			t.Helper()
			conn := &Connection{IP: mustAddr(ip), HELO: "client.example.net", MailFrom: "joe@example.com"}
			v := eval(t, plainMessage("joe@example.com"), &Options{DNS: z, Connection: conn})
			if v.SPF.Result != want || v.SPF.Domain != "example.com" || v.SPF.Identity != "mailfrom" {
				t.Errorf("%q from %s: %+v (%s), want %s", tc.record, ip, v.SPF, errText(v.SPF.Error), want)
			}
		}
		for _, ip := range tc.pass {
			check(ip, Pass)
		}
		for _, ip := range tc.fail {
			check(ip, Fail)
		}
	}
}

func TestSPFResults(t *testing.T) {
	z := newZone().
		AddTXT("soft.example", "v=spf1 ip4:192.0.2.0/24 ~all").
		AddTXT("neutral.example", "v=spf1 ?all").
		AddTXT("broken.example", "v=spf1 ip4:192.0.2.0/99 -all").
		AddTXT("two.example", "v=spf1 -all", "v=spf1 +all").
		AddTXT("redirect.example", "v=spf1 redirect=_spf.example").
		AddTXT("_spf.example", "v=spf1 ip6:2001:db8::/32 -all").
		AddTXT("macro.example", "v=spf1 exists:%{i}._ip.%{d} -all").
		AddTXT("192.0.2.7._ip.macro.example", "v=spf1").
		AddTXT("mail.helo.example", "v=spf1 ip4:198.51.100.5 -all").
		AddTXT("nospf.example", "some other TXT record")
	z.MustAdd("192.0.2.7._ip.macro.example. IN A 127.0.0.2")
	z.SetServFail("flaky.example")
	for _, tc := range []struct {
		ip, mailFrom, helo string
		want               Result
		domain, identity   string
	}{
		{"198.51.100.1", "a@soft.example", "x.example", SoftFail, "soft.example", "mailfrom"},
		{"198.51.100.1", "a@neutral.example", "x.example", Neutral, "neutral.example", "mailfrom"},
		{"192.0.2.1", "a@broken.example", "x.example", PermError, "broken.example", "mailfrom"},
		{"192.0.2.1", "a@two.example", "x.example", PermError, "two.example", "mailfrom"},
		{"2001:db8::25", "a@redirect.example", "x.example", Pass, "redirect.example", "mailfrom"},
		{"192.0.2.1", "a@redirect.example", "x.example", Fail, "redirect.example", "mailfrom"},
		{"192.0.2.7", "a@macro.example", "x.example", Pass, "macro.example", "mailfrom"},
		{"192.0.2.8", "a@macro.example", "x.example", Fail, "macro.example", "mailfrom"},
		{"192.0.2.1", "a@flaky.example", "x.example", TempError, "flaky.example", "mailfrom"},
		{"192.0.2.1", "a@nospf.example", "x.example", None, "nospf.example", "mailfrom"},
		{"192.0.2.1", "a@nxdomain.example", "x.example", None, "nxdomain.example", "mailfrom"},
		// A bounce: the HELO identity is checked (RFC 7208 §2.4).
		{"198.51.100.5", "<>", "mail.helo.example", Pass, "mail.helo.example", "helo"},
		{"198.51.100.6", "<>", "mail.helo.example", Fail, "mail.helo.example", "helo"},
		// Bad facts: none, with a reason.
		{"198.51.100.5", "no-at-sign", "x.example", None, "", "mailfrom"},
		{"198.51.100.5", "<>", "[192.0.2.1]", None, "", "helo"},
		{"198.51.100.5", "", "x.example", None, "", ""},
	} {
		conn := &Connection{IP: mustAddr(tc.ip), HELO: tc.helo, MailFrom: tc.mailFrom}
		v := eval(t, plainMessage("a@example.org"), &Options{DNS: z, Connection: conn})
		s := v.SPF
		if s.Result != tc.want || s.Domain != tc.domain || s.Identity != tc.identity || s.Facts != "options" {
			t.Errorf("%s %s %s: %+v (%s), want %s for %q", tc.ip, tc.mailFrom, tc.helo, s, errText(s.Error), tc.want, tc.domain)
		}
		if s.Result != Pass && s.Error == nil {
			t.Errorf("%s %s: %s without a reason", tc.ip, tc.mailFrom, s.Result)
		}
	}
	// No facts at all: none, said so.
	v := eval(t, plainMessage("a@example.org"), &Options{DNS: z})
	if v.SPF.Result != None || !strings.Contains(errText(v.SPF.Error), "no connection facts") {
		t.Errorf("no facts: %+v", v.SPF)
	}
}
