// Package transport sends mail: SMTP submission ([SMTP], RFC 6409) and a
// local sendmail-compatible command ([Sendmail]), behind one small
// interface, [Transport]. [SendAndSave] sends a message and files a copy in
// the Sent folder of a mailbox.
//
// # TLS is required
//
// [SMTP] never sends a command other than EHLO and STARTTLS in the clear.
// By default it speaks implicit TLS (RFC 8314, port 465). With
// [SMTPOptions.StartTLS] it connects in plaintext (port 587) and requires
// the server to offer STARTTLS and the handshake to succeed; a server that
// does not offer it (or an attacker who stripped the offer) is refused with
// a [TLSError], never used in plaintext. Whatever the server sent after its
// "220" answer to STARTTLS and before the handshake is discarded unread
// (SECURITY.md S50, the "command injection" of Poddebniak et al., USENIX
// Security 2021): bytes already read are thrown away with the plaintext
// reader, and bytes still in transit break the handshake. The extensions
// the server offered in plaintext are forgotten; EHLO is sent again inside
// TLS. Certificates are checked against the system roots (or
// [SMTPOptions.TLSConfig]) and TLS 1.2 is the oldest version accepted.
//
// # Authentication
//
// Passwords go out with AUTH PLAIN (or LOGIN when the server offers only
// that), OAuth 2 tokens with OAUTHBEARER (RFC 7628) or XOAUTH2, always
// inside TLS. Secrets are asked for when they are needed, through
// functions the caller provides ([SMTPOptions.Password],
// [SMTPOptions.Token]), and are never part of an error.
//
// # Errors
//
// Errors say what failed and whether trying again later may help
// ([Temporary]): a [ConnError] (the server could not be reached or the
// connection broke), a [TLSError], an [AuthError], a [RecipientError]
// listing every recipient the server refused, a [RequireTLSError] when
// REQUIRETLS (RFC 8689) was asked for and the server does not offer it, a
// [ServerError] for any other refusal, a [SendmailError] with the
// command's exit status and error output, and a [SaveError] when the
// message was sent but its copy could not be filed (do not send it again).
package transport
