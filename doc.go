// Package securemail is the mail-security pipeline shared by the command
// line and the terminal UI.
//
// # Received mail
//
// [Open] takes the raw bytes of a received message and returns a [Report]
// (encryption, each signature, warnings, the sender) and a [View] (safe
// text, attachments). Only the protection of the root of the message
// counts: an encrypted or signed part inside an unprotected message is
// reported as such and offered as an attachment, never shown as if the
// message were encrypted or signed (S02, S21). Parts are rendered one by
// one and never joined with decrypted text (S01), nothing is fetched
// (S07), and every string that reaches the view is neutralised for a
// terminal (S25).
//
// Schemes (OpenPGP, S/MIME) plug in as [Handler]s.
package securemail
