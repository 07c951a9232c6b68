package mailauth_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/mailauth/mailauthtest"
)

func Example() {
	// The sender: a key, its DNS record, a signed message.
	key, _ := mailauth.GenerateDKIMKey(mailauth.DKIMEd25519, nil)
	record, _ := mailauth.DKIMKeyRecord(key.Public())
	msg := strings.ReplaceAll("From: Alice <alice@example.org>\nTo: bob@example.net\nSubject: Hello\n\nHi Bob.\n", "\n", "\r\n")
	signed, _ := mailauth.SignDKIM([]byte(msg), &mailauth.DKIMSignOptions{Domain: "example.org", Selector: "s1", Signer: key})

	// The receiver: DNS (here from memory) and the verdict.
	dns := (&mailauthtest.Zone{}).
		AddTXT("s1._domainkey.example.org", record).
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	v, err := mailauth.Evaluate(context.Background(), signed, &mailauth.Options{DNS: dns})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("from:", v.FromDomain)
	fmt.Println("dkim:", v.DKIM[0].Result, v.DKIM[0].Domain)
	fmt.Println("dmarc:", v.DMARC.Result, "policy", v.DMARC.Policy)
	fmt.Println("source:", v.Source)
	// Output:
	// from: example.org
	// dkim: pass example.org
	// dmarc: pass policy reject
	// source: verified
}

func ExampleDKIMZoneLine() {
	key, _ := mailauth.GenerateDKIMKey(mailauth.DKIMRSA2048, nil)
	line, _ := mailauth.DKIMZoneLine("s2024", "example.org", key.Public())
	fmt.Println(line[:53])
	fmt.Println(strings.Count(line, `"`)/2, "strings")
	// Output:
	// s2024._domainkey.example.org. IN TXT "v=DKIM1; k=rsa;
	// 2 strings
}
