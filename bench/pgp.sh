#!/usr/bin/env bash
# Compares securemail's raw OpenPGP commands with gpg, both with fresh
# Curve25519 keys (Ed25519 signing, Curve25519 encryption), each message
# encrypted to the other side's key and to the sender's own:
#
#   a. encrypt+sign 1 KiB, one process per message, N messages (wall time
#      of the loop), ASCII armor on both sides           goal ratio <= 0.35
#   b. decrypt+verify those messages, one process each, each tool its own
#      output (plus: securemail reading gpg's, gpg reading securemail's)
#   c. encrypt and decrypt BIG_MIB MiB of random data, armored (gpg with
#      --compress-algo none; with ZLIB, its default algorithm, as an extra
#      line), median of RUNS runs                        goal ratio <= 0.8
#   d. peak RSS of encrypting and decrypting HUGE_MIB MiB  goal < 64 MiB
#
#   bench/pgp.sh                        # N=200 BIG_MIB=64 HUGE_MIB=1024
#   N=50 BIG_MIB=16 HUGE_MIB=256 bench/pgp.sh
#   HUGE_MIB=0 bench/pgp.sh             # skip d
#   GOBENCH=1 bench/pgp.sh              # also run the pgp Go benchmarks
#
# The ratio is securemail/gpg: below 1, securemail is faster. Needs go and
# gpg (2.2 or later); peak RSS comes from /usr/bin/time when it is there,
# else from VmHWM in /proc. Everything lives in a temp dir under /tmp (short,
# for gpg-agent's socket path) that is removed on exit, gpg-agent included.
# The binary is built static (CGO_ENABLED=0, as a release build is: the
# cgo DNS resolver's libc costs ~1 ms of start-up per process); set
# CGO_ENABLED=1 to measure a cgo build. The
# machine should be otherwise idle: the load average is printed with the
# results.
set -Eeuo pipefail
# Say what failed, on the real stderr (fd 9): measured commands run with
# stderr to /dev/null, and the trap fires where the command failed.
exec 9>&2
trap 'echo "pgp.sh: line $LINENO: exit $? from: $BASH_COMMAND" >&9' ERR

N=${N:-200}
BIG_MIB=${BIG_MIB:-64}
HUGE_MIB=${HUGE_MIB:-1024}
RUNS=${RUNS:-3}
GOBENCH=${GOBENCH:-0}

cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in go gpg gpgconf awk cmp head truncate; do
	command -v "$tool" >/dev/null || { echo "pgp.sh: $tool is required" >&2; exit 2; }
done
for v in N BIG_MIB RUNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "pgp.sh: $v must be a positive integer" >&2; exit 2; }
done
[[ $HUGE_MIB =~ ^[0-9]+$ ]] || { echo "pgp.sh: HUGE_MIB must be a non-negative integer" >&2; exit 2; }

# A short directory: gpg-agent's socket lives in GNUPGHOME, and a Unix
# socket path must stay under 108 bytes.
tmp=$(mktemp -d /tmp/smpgp.XXXXXX)
export GNUPGHOME=$tmp/g
H=$tmp/home
cleanup() {
	gpgconf --homedir "$GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -m 700 "$GNUPGHOME"

source "$(dirname "$0")/lib.sh"
secs() { awk -v s="$1" 'BEGIN { printf "%.3f s", s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
permsg() { awk -v s="$1" -v n="$N" 'BEGIN { printf "%.2f", s * 1000 / n }'; }
mbps() { awk -v s="$1" -v m="$BIG_MIB" 'BEGIN { if (s > 0) printf "%.0f", m * 1048576 / s / 1e6; else print "-" }'; }
die() { echo "pgp.sh: $*" >&9; exit 1; }

sm=$tmp/securemail
A=alice@example.org # securemail's identity
B=bob@example.org   # gpg's
# The commands measured. Both sides armor, encrypt to the peer and to
# themselves, and (in a) sign. gpg keeps its defaults except where said:
# AES-256 from the key preferences, and no compression, since securemail's
# key does not list any (so --compress-algo zlib forces gpg's default
# algorithm for the extra line of c).
sm_enc() { "$sm" --home "$H" encrypt --raw -r "$B" "$@"; }
sm_dec() { "$sm" --home "$H" decrypt --raw; }
GPG=(gpg --batch --yes --quiet --no-tty)
gpg_enc() { "${GPG[@]}" --armor --encrypt -r "$A" -r "$B" "$@"; }
gpg_dec() { "${GPG[@]}" --decrypt; }

echo "== building securemail"
CGO_ENABLED="${CGO_ENABLED:-0}" go build -o "$sm" ./cmd/securemail

echo "== keys: securemail $A (ed25519+cv25519), gpg $B (future-default)"
"$sm" --home "$H" keys generate --email "$A" --name Alice --pgp --no-passphrase 2>"$tmp/sm-gen.log" ||
	{ cat "$tmp/sm-gen.log" >&2; die "securemail keys generate failed"; }
"${GPG[@]}" --passphrase '' --pinentry-mode loopback --quick-gen-key "Bob <$B>" future-default default never 2>"$tmp/gpg-gen.log" ||
	{ cat "$tmp/gpg-gen.log" >&2; die "gpg --quick-gen-key failed"; }
"$sm" --home "$H" keys export "$A" >"$tmp/alice.asc"
"${GPG[@]}" --armor --export "$B" >"$tmp/bob.asc"
"${GPG[@]}" --import "$tmp/alice.asc" 2>/dev/null
"$sm" --home "$H" keys import "$tmp/bob.asc" 2>/dev/null
# Bob certifies Alice's key, as a user would, so gpg encrypts to it without
# --trust-model always; settle the trust database before measuring.
alice_fpr=$("${GPG[@]}" --with-colons --fingerprint "$A" | awk -F: '$1 == "fpr" { print $10; exit }')
"${GPG[@]}" --quick-lsign-key "$alice_fpr" >/dev/null 2>&1
"${GPG[@]}" --check-trustdb >/dev/null 2>&1 || true

echo "== data: 1 KiB and $BIG_MIB MiB from /dev/urandom"
d=$tmp/data
mkdir "$d"
head -c 1024 /dev/urandom >"$d/small"
head -c "$((BIG_MIB << 20))" /dev/urandom >"$d/big"

# Warm-up, and a check that every direction works: gpg-agent starts here,
# not in the first measured run.
sm_enc --sign <"$d/small" >"$d/w.sm.asc"
gpg_enc --sign <"$d/small" >"$d/w.gpg.asc" 2>/dev/null
for f in w.sm.asc w.gpg.asc; do
	sm_dec <"$d/$f" 2>/dev/null | cmp -s - "$d/small" || die "securemail cannot decrypt $f"
	gpg_dec <"$d/$f" 2>/dev/null | cmp -s - "$d/small" || die "gpg cannot decrypt $f"
done
"$sm" --home "$H" --json decrypt --raw <"$d/w.gpg.asc" 2>/dev/null | grep -q '"valid": *true' ||
	die "securemail does not find gpg's signature valid"
"${GPG[@]}" --status-file "$tmp/status" --decrypt <"$d/w.sm.asc" >/dev/null 2>&1
grep -q GOODSIG "$tmp/status" || die "gpg does not find securemail's signature good"
for f in w.sm.asc w.gpg.asc; do
	"${GPG[@]}" --verbose --decrypt <"$d/$f" 2>&1 >/dev/null | grep -E 'encrypted data$' | sed "s/^gpg: /   $f: /" || true
done

# loop VAR IN_PREFIX OUT_PREFIX FUNC ARGS...: runs FUNC ARGS <IN >OUT once
# per message (IN_PREFIX.i, or IN_PREFIX itself when it is a file) and sets
# VAR to the wall time of the whole loop.
loop() {
	local var=$1 in=$2 out=$3 i t src
	shift 3
	stamp t
	for ((i = 0; i < N; i++)); do
		src=$in
		[[ -f $in ]] || src=$in.$i
		"$@" <"$src" >"$out.$i" 2>/dev/null
	done
	printf -v "$var" '%s' "$(elapsed "$t")"
}
# check OUT_PREFIX: every output of a loop is the 1 KiB plaintext.
check() {
	local i
	for ((i = 0; i < N; i++)); do
		cmp -s "$1.$i" "$d/small" || die "$1.$i differs from the plaintext"
	done
}

echo "== a. encrypt+sign 1 KiB, $N processes each"
loop a_sm "$d/small" "$d/a.sm" sm_enc --sign
loop a_gpg "$d/small" "$d/a.gpg" gpg_enc --sign

echo "== b. decrypt+verify 1 KiB, $N processes each"
loop b_sm "$d/a.sm" "$d/b.sm" sm_dec
check "$d/b.sm"
loop b_gpg "$d/a.gpg" "$d/b.gpg" gpg_dec
check "$d/b.gpg"
loop b_smgpg "$d/a.gpg" "$d/b.smgpg" sm_dec
check "$d/b.smgpg"
loop b_gpgsm "$d/a.sm" "$d/b.gpgsm" gpg_dec
check "$d/b.gpgsm"

# timed VAR IN OUT FUNC ARGS...: median wall time of RUNS runs of
# FUNC ARGS <IN >OUT.
timed() {
	local var=$1 in=$2 out=$3 i t times=()
	shift 3
	for ((i = 0; i < RUNS; i++)); do
		stamp t
		"$@" <"$in" >"$out" 2>/dev/null
		times+=("$(elapsed "$t")")
	done
	printf -v "$var" '%s' "$(median "${times[@]}")"
}

echo "== c. $BIG_MIB MiB, median of $RUNS runs"
timed c_sm_enc "$d/big" "$d/big.sm.asc" sm_enc
timed c_gpg_enc "$d/big" "$d/big.gpg.asc" gpg_enc --compress-algo none
timed c_gpgz_enc "$d/big" "$d/big.gpgz.asc" gpg_enc --compress-algo zlib
timed c_sm_dec "$d/big.sm.asc" "$d/big.out" sm_dec
cmp -s "$d/big.out" "$d/big" || die "securemail: $BIG_MIB MiB round trip differs"
timed c_gpg_dec "$d/big.gpg.asc" "$d/big.out" gpg_dec
cmp -s "$d/big.out" "$d/big" || die "gpg: $BIG_MIB MiB round trip differs"
timed c_gpgz_dec "$d/big.gpgz.asc" "$d/big.out" gpg_dec
timed c_smgpg_dec "$d/big.gpg.asc" "$d/big.out" sm_dec
cmp -s "$d/big.out" "$d/big" || die "securemail: gpg's $BIG_MIB MiB differs"
rm -f "$d/big.out" "$d/big.gpgz.asc"


if ((HUGE_MIB > 0)); then
	echo "== d. peak RSS, $HUGE_MIB MiB ($rss_how)"
	# The big file repeated: /dev/urandom is slow for a GiB.
	for ((i = 0; i < HUGE_MIB; i += BIG_MIB)); do cat "$d/big"; done >"$d/huge"
	truncate -s "$((HUGE_MIB << 20))" "$d/huge"
	peak d_sm_enc d_sm_enc_s "$d/huge" "$d/huge.asc" "$sm" --home "$H" encrypt --raw -r "$B"
	peak d_sm_dec d_sm_dec_s "$d/huge.asc" /dev/null "$sm" --home "$H" decrypt --raw
	rm -f "$d/huge.asc"
	peak d_gpg_enc d_gpg_enc_s "$d/huge" "$d/huge.asc" "${GPG[@]}" --armor --encrypt --compress-algo none -r "$A" -r "$B"
	peak d_gpg_dec d_gpg_dec_s "$d/huge.asc" /dev/null "${GPG[@]}" --decrypt
	rm -f "$d/huge.asc" "$d/huge"
fi

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
row() { printf '%-44s %13s %13s %7s %s\n' "$@"; }
echo
echo "== results: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(gpg --version | head -1), $(go version | cut -d' ' -f3)"
echo "   N=$N  BIG_MIB=$BIG_MIB  HUGE_MIB=$HUGE_MIB  RUNS=$RUNS  ratio = securemail/gpg (lower is better)"
row "operation" "securemail" "gpg" "ratio" "goal"
row "a. 1 KiB encrypt+sign, $N procs (wall)" "$(secs "$a_sm")" "$(secs "$a_gpg")" "$(ratio "$a_sm" "$a_gpg")" "<= 0.35"
row "   per message (ms)" "$(permsg "$a_sm")" "$(permsg "$a_gpg")" "" ""
row "b. 1 KiB decrypt+verify own, $N procs" "$(secs "$b_sm")" "$(secs "$b_gpg")" "$(ratio "$b_sm" "$b_gpg")" ""
row "   per message (ms)" "$(permsg "$b_sm")" "$(permsg "$b_gpg")" "" ""
row "   reading the other tool's messages" "$(secs "$b_smgpg")" "$(secs "$b_gpgsm")" "$(ratio "$b_smgpg" "$b_gpgsm")" ""
row "c. $BIG_MIB MiB encrypt (gpg: no compression)" "$(secs "$c_sm_enc")" "$(secs "$c_gpg_enc")" "$(ratio "$c_sm_enc" "$c_gpg_enc")" "<= 0.8"
row "   MB/s" "$(mbps "$c_sm_enc")" "$(mbps "$c_gpg_enc")" "" ""
row "   gpg --compress-algo zlib" "" "$(secs "$c_gpgz_enc")" "$(ratio "$c_sm_enc" "$c_gpgz_enc")" ""
row "c. $BIG_MIB MiB decrypt own (gpg: uncompressed)" "$(secs "$c_sm_dec")" "$(secs "$c_gpg_dec")" "$(ratio "$c_sm_dec" "$c_gpg_dec")" "<= 0.8"
row "   MB/s" "$(mbps "$c_sm_dec")" "$(mbps "$c_gpg_dec")" "" ""
row "   gpg's ZLIB message" "" "$(secs "$c_gpgz_dec")" "$(ratio "$c_sm_dec" "$c_gpgz_dec")" ""
row "   securemail reading gpg's uncompressed" "$(secs "$c_smgpg_dec")" "" "" ""
if ((HUGE_MIB > 0)); then
	row "d. $HUGE_MIB MiB encrypt: peak RSS" "$(mib "$d_sm_enc")" "$(mib "$d_gpg_enc")" "$(ratio "$d_sm_enc" "$d_gpg_enc")" "< 64 MiB"
	row "   wall time" "$(secs "$d_sm_enc_s")" "$(secs "$d_gpg_enc_s")" "$(ratio "$d_sm_enc_s" "$d_gpg_enc_s")" ""
	row "d. $HUGE_MIB MiB decrypt: peak RSS" "$(mib "$d_sm_dec")" "$(mib "$d_gpg_dec")" "$(ratio "$d_sm_dec" "$d_gpg_dec")" "< 64 MiB"
	row "   wall time" "$(secs "$d_sm_dec_s")" "$(secs "$d_gpg_dec_s")" "$(ratio "$d_sm_dec_s" "$d_gpg_dec_s")" ""
fi

if [[ $GOBENCH != 0 ]]; then
	echo
	echo "== go test -run '^\$' -bench . -benchmem ./pgp/"
	go test -run '^$' -bench . -benchmem ./pgp/
fi
