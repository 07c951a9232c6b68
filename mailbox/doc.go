// Package mailbox is where messages live: the [Mailbox] interface that the
// TUI and the CLI use, its Maildir implementation [Maildir], a parser for
// Maildir file names ([ParseName]) and an mbox importer ([ImportMbox]).
//
// Messages are raw bytes here. Listing a folder reads header blocks only and
// decodes nothing; parsing, decryption and safe rendering belong to the
// message and securemail packages.
//
// # Layout
//
// A Maildir is laid out as Maildir++, as Dovecot, Courier, mutt,
// offlineimap and mbsync use it: the root directory, with cur/, new/ and
// tmp/, is the INBOX; every other folder is a directory ".Name" under the
// root with its own cur/, new/ and tmp/ (".Sent", ".Drafts",
// ".Lists.golang" for the folder "Lists.golang", a '.' separating hierarchy
// levels). Folder names with '/', "..", an empty level, or a control
// character are refused ([FolderNameError]). Every file is opened through
// an [os.Root], so no symlink or ".." in the tree leads outside it.
//
// # File names and flags
//
// A message file is named UNIQUE[,EXTRA][:2,FLAGS]. The unique part is the
// message's ID ([Message.ID]): it stays the same when flags change or the
// message moves. Flags are the letters after "2," in ASCII order ([Flags]):
// D draft, F flagged, P passed, R replied, S seen, T trashed, and the
// lower-case keyword letters of Dovecot. Names written by other programs
// are read as they are ([Name] shows examples): Dovecot's ",S=" and ",W="
// size hints, offlineimap's ",U=" and ",FMD5=", names without info in
// cur/, '!' instead of ':' before the info, and flag letters we do not know
// are kept through flag changes and moves.
//
// # Delivery
//
// [Maildir.Deliver] follows the Maildir specification
// (https://cr.yp.to/proto/maildir.html): the message is written to tmp/
// under a new unique name (created exclusively, mode 0600) and synced, then
// renamed into new/ (or into cur/ with its flags) and the directory is
// synced. A crash leaves either the whole message in new/ or cur/ or an
// orphan in tmp/, which [Maildir.CleanTmp] removes once it is 36 hours
// old. Unique names are SECONDS.MmicrosecondsPpidRrandom.host, with the
// clock and the random source taken from [Options], and the host name
// escaped ('/' as \057, ':' as \072, and likewise ',', '!', '\' and bytes
// outside printable ASCII). Several processes may deliver to one folder at
// once.
//
// # Listing
//
// [Maildir.List] reads the names in new/ and cur/, sorts them by delivery
// time, and then, as the caller iterates, opens one file at a time and
// reads its header block up to the first empty line, at most
// [ListOptions.MaxHeaderSize] bytes. Pages ([ListOptions.Offset],
// [ListOptions.Limit]) skip the files they do not show; asking for a few
// header fields ([ListOptions.HeaderFields]) keeps memory low on large
// folders.
//
// # Errors
//
// Errors to branch on are struct errors that match a sentinel with
// errors.Is: a missing folder or message is a [NotFoundError]
// ([ErrNotFound]), a bad name a [FolderNameError] or [NameError]
// ([ErrInvalidName]), a message over a size limit a [TooLargeError]
// ([ErrTooLarge]).
//
// # Mbox
//
// [ImportMbox] reads mboxrd files (and, with [MboxOptions], mboxo ones) and
// delivers each message unchanged apart from the undoing of ">From "
// quoting, with the flags mutt and Thunderbird keep in its headers.
package mailbox
