package mailbox_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/securemail/securemail/mailbox"
)

func Example() {
	dir, _ := os.MkdirTemp("", "mailbox-example")
	defer os.RemoveAll(dir)

	m, err := mailbox.OpenMaildir(filepath.Join(dir, "Maildir"), &mailbox.Options{Create: true})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	if err := m.CreateFolder("Archive"); err != nil {
		log.Fatal(err)
	}

	msg := "From: alice@example.org\nSubject: Lunch?\n\nAt noon.\n"
	id, err := m.Deliver("INBOX", strings.NewReader(msg), 0)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := m.SetFlags("INBOX", id, mailbox.Seen|mailbox.Flagged, 0); err != nil {
		log.Fatal(err)
	}
	if err := m.Move("INBOX", id, "Archive"); err != nil {
		log.Fatal(err)
	}

	for msg, err := range m.List("Archive", &mailbox.ListOptions{HeaderFields: []string{"Subject"}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s [%s] %d bytes, same ID: %v\n", msg.Header.Get("Subject"), msg.Flags, msg.Size, msg.ID == id)
	}
	raw, _ := mailbox.ReadMessage(m, "Archive", id, nil)
	fmt.Printf("%q\n", raw)
	// Output:
	// Lunch? [FS] 50 bytes, same ID: true
	// "From: alice@example.org\nSubject: Lunch?\n\nAt noon.\n"
}

func ExampleParseName() {
	n, err := mailbox.ParseName("1700000000.M412345P2021.mail.example.org,S=2048,W=2101:2,RS")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.ID)
	fmt.Println(n.Size, n.Flags.Has(mailbox.Seen), n.Flags)
	fmt.Println(n.WithFlags(n.Flags | mailbox.Flagged))
	// Output:
	// 1700000000.M412345P2021.mail.example.org
	// 2048 true RS
	// 1700000000.M412345P2021.mail.example.org,S=2048,W=2101:2,FRS
}
