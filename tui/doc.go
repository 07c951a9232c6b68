// Package tui is the terminal mail client of securemail: a bubbletea
// program in which a person reads and writes encrypted, signed mail and
// sees at a glance who really sent each message.
//
// # Shape
//
// The TUI is thin over the securemail pipeline: it does no cryptography
// and no MIME parsing of its own (but see below). Opening a message is [securemail.Open];
// replying is [securemail.Reply]; sending is [securemail.Protect] then
// [transport.SendAndSave] (a copy to the Sent folder) when the account
// has a transport, else a delivery to the outbox folder of the
// [mailbox.Mailbox]; a mailbox that is a [mailbox.Watcher] (IMAP) has its
// first folder read again on new mail; keys come from a
// [keystore.Store] and, for recipients without one, from a
// [securemail.Directory] (DNSSEC-validated SMIMEA and OPENPGPKEY).
//
// Pages follow bubbletea's Elm shape: Update changes the model and
// returns commands; every piece of I/O (listing a folder, reading and
// opening a message, a DNS lookup, writing a file) runs inside a tea.Cmd
// that captures the values it needs when it is built and returns a typed
// message, errors included. Nothing a command does reads the model.
//
// # Pages
//
//   - Mailbox: the folders and a virtualised message list (only the rows
//     on screen are drawn), with badges for encryption, the signature
//     verdict and the DMARC verdict, sorting and a quick filter. A folder
//     is listed by name first (for a Maildir, no file is opened); the header fields of the
//     rows on screen are read next, and the rest of the folder in the
//     background, batch by batch.
//   - Message: a status panel drawn from the [securemail.Report] alone,
//     apart from the body, which is sanitised text clipped to its own
//     viewport: nothing in a message can draw into the panel (S24), and
//     every string from a message is neutralised before it reaches the
//     terminal (S25). Attachments are listed and saved to a path, never
//     opened.
//   - Compose: To, Cc, Bcc, Subject, the body inline or in $EDITOR,
//     attachments, sign/encrypt toggles and the scheme, with a live key
//     status per recipient. Replies and forwards follow S26; drafts of
//     encrypted mail are stored encrypted.
//   - Keys: identities and contacts with fingerprints, provenance and
//     expiry; import, generate, look up in the DNS and pin.
//
// Press ? on any page for the key bindings.
//
// # Where the TUI reaches below the pipeline
//
// Two things the lower packages do not offer yet are done here, each in
// one function: the bytes of an attachment (securemail.View lists
// attachments without their data: backend.attachmentData decrypts the
// message with securemail.Decrypt and finds the part by name, type and
// size with message.Parse), and the names of a Maildir folder without
// opening its files (mailbox.List with SkipHeaders still stats every
// message and sorts full Message values: 685 ms to the first frame of a
// 100,000-message folder against 386 ms; scanMaildirNames reads the directory names and takes them apart
// with mailbox.ParseName). Both should move down when those packages
// grow the calls.
package tui
