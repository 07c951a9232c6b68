// Package message reads and writes RFC 5322 / MIME messages for a mail
// client that verifies signatures and must never be fooled by what it
// shows.
//
// # Parsing that keeps the bytes
//
// [Parse] builds a tree of [Part]s in which every part knows the byte
// ranges of its header and body in [Message.Raw], the message in
// canonical CRLF form. The exact bytes a multipart/signed signature covers
// are [Message.Bytes] of the signed part: the boundary splitting is done
// here, not by a decoding MIME reader, because a signature is over bytes,
// not over what a decoder makes of them (RFC 3156 §5, RFC 8551 §3.1.1).
// Limits on size, header size, depth and number of parts ([ParseOptions])
// turn hostile structures into a [LimitError].
//
// # Decoding for display
//
// [Message.TransferDecode] and [Message.Text] undo transfer encodings and
// charsets; [DecodeText] decodes RFC 2047 words in headers. None of their
// results is safe for a terminal until it has been through the
// sanitising functions below.
//
// # Safe rendering
//
// [SafeText] (bodies), [SafeLine] (one-line header fields) and
// [SafeFilename] (attachment names) neutralise every control character,
// terminal escape and bidi override (S25). [HTMLToText] turns HTML into
// readable text without fetching anything (S07): links and images appear
// as text only. [RenderText] picks the right one for a text part.
//
// # Composing
//
// [Compose] writes a [Draft] as an RFC 5322 message: RFC 2047 words in
// headers, RFC 2231 file names, quoted-printable or base64 chosen by
// content, and a 7-bit canonical body ([ComposeBody]) that survives any
// transport unchanged, as signing requires. Header injection (CR, LF, NUL
// in any field) is refused ([ErrHeaderInjection]).
package message
