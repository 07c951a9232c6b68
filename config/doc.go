// Package config reads and writes config.toml, the file in the securemail
// home that lists the user's mail accounts: who the user is on each
// ([Account.Address], which keys), where mail comes from (an IMAP server
// or a local Maildir), how it leaves (SMTP submission or a sendmail
// command), how to get the passwords, whose authentication results to
// believe, and what to sign and encrypt by default. [Account.OpenMailbox]
// and [Account.Transport] turn an account into a mailbox.Mailbox and a
// transport.Transport.
//
// # The file
//
// [Example] is an annotated configuration (README.md shows the same). The
// TOML is read strictly ([Parse]): an unknown key, a value of the wrong
// type, a missing or contradictory setting is a [ParseError] that names
// the file and the line. [Load] refuses a file that others can write
// (its commands run as the user).
//
// # Passwords
//
// A password comes from password_command (its first line of output; run
// without a shell, with a time limit; a non-zero exit or an empty line is
// a [SecretError] that carries its error output) or password_file (its
// first line; refused when others can write it, warned about when they
// can read it), never from the configuration file itself unless the user
// insists with allow_password_in_config (warned about). An OAuth 2 token
// comes from oauth_token_command, run for each login. Passwords are kept
// in memory for the life of the [Account], so that reconnections do not
// ask again; they never appear in errors.
//
// # Writing
//
// [AppendAccount] adds an account at the end of the file, keeping the
// rest (comments too), after checking that the result parses; the file is
// replaced atomically, mode 0600.
package config

// Example is an annotated configuration with two accounts: one on IMAP
// and SMTP submission, one on a local Maildir sent through msmtp.
const Example = `# securemail configuration: $XDG_CONFIG_HOME/securemail/config.toml
# (~/.config/securemail), or in the home given by --home or SECUREMAIL_HOME.

# The account used when none is named (default: the first one).
default_account = "work"

[[account]]
name = "work"                         # letters, digits, '.', '_', '-'
address = "alice@example.org"         # your address: the From of new mail
display_name = "Alice Example"
# Your own keys, by full fingerprint as 'securemail keys list' shows them;
# left out, the keystore's keys for the address are used.
# pgp_key = "0123456789ABCDEF0123456789ABCDEF01234567"
# smime_cert = "<64 hex digits: the SHA-256 of the certificate>"

sign = true                           # sign every message (the default)
encrypt = "when-possible"             # or "always" (refuse otherwise), "never"
# scheme = "pgp"                      # or "smime"; default: chosen per message

# Whose word to take for the DKIM/SPF/DMARC verdict of received mail: the
# authserv-id your inbound server puts in Authentication-Results, and the
# names it gives in the "by" clause of its Received fields. Exact matches.
trusted_authserv_ids = ["mx.example.org"]
trusted_hops = ["mx1.example.org", "mx2.example.org"]

sent_folder = "Sent"                  # a copy of each message sent; "-": none
drafts_folder = "Drafts"

[account.imap]
host = "imap.example.org"
# port = 993                          # default: 993 (implicit TLS), 143 (starttls)
tls = "implicit"                      # or "starttls"; there is no plaintext
user = "alice"                        # default: the address
# One way to get the password:
password_command = "pass show mail/example.org"  # first line it prints; no shell
# password_file = "~/.config/securemail/work.pass"    # first line; mode 0600
# oauth_token_command = "oama access alice@example.org" # OAUTHBEARER/XOAUTH2
# auth = "plain"                      # plain, login, oauthbearer, xoauth2
# ca_file = "/etc/ssl/certs/company-ca.pem"  # trust this CA, not the system's

[account.smtp]
host = "smtp.example.org"
# port = 465                          # default: 465 (implicit TLS), 587 (starttls)
tls = "implicit"
require_tls = false                   # true: REQUIRETLS (RFC 8689) for every message
# No password setting: it logs in as [account.imap] does.

[[account]]
name = "home"
address = "alice@home.example"

[account.maildir]
path = "~/Maildir"                    # kept in sync by mbsync, offlineimap, ...

[account.sendmail]
command = "msmtp -a home -t"          # or "sendmail -t -i"; run without a shell
`
