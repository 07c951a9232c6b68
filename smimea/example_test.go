package smimea_test

import (
	"fmt"

	"github.com/securemail/securemail/smimea"
)

func ExampleOwnerName() {
	name, err := smimea.OwnerName("hugh@example.com")
	if err != nil {
		panic(err)
	}
	fmt.Println(name)
	// The local part is hashed as written; the domain is not hashed.
	upper, _ := smimea.OwnerName("Hugh@example.com")
	fmt.Println(upper == name)
	fallback, ok := smimea.LowerCaseFallback("Hugh@example.com")
	fmt.Println(fallback, ok)
	// Output:
	// c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.com.
	// false
	// hugh@example.com true
}

func ExampleParseRecord() {
	// The TLSA line of seed 002, upper-case hex and all.
	r, err := smimea.ParseRecord("_25._tcp.mail1.example.jp.    IN    TLSA    3 1 1 293F3944E435835EC797ACBBE52FFB1BC8E6637879FBE62D9B6195479E01F67E")
	if err != nil {
		panic(err)
	}
	fmt.Println(smimea.UsageName(r.Usage), r.Selector, r.MatchingType, len(r.Data))
	fmt.Println(r.ZoneLine(smimea.TLSAName("mail1.example.jp", 25, "tcp"), 0, "TLSA"))
	// Output:
	// DANE-EE 1 1 32
	// _25._tcp.mail1.example.jp. IN TLSA 3 1 1 293f3944e435835ec797acbbe52ffb1bc8e6637879fbe62d9b6195479e01f67e
}

func ExampleParseRecord_malformed() {
	_, err := smimea.ParseRecord("3 1 1 293f3944e435835ec797acbbe52ffb1b")
	fmt.Println(err)
	// Output:
	// smimea: malformed record: a SHA-256 digest is 32 octets, not 16
}
