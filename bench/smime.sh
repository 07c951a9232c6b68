#!/usr/bin/env bash
# Compares smime/cms (through bench/smimecms, a tiny driver that, like
# openssl, reads an unprotected PEM key: the securemail CLI unseals keys
# from its keystore with Argon2id, a cost openssl does not pay, so it is
# not the like-for-like subject of a and b) with `openssl cms`, both with
# an RSA-3072 certificate issued by an RSA-3072 test CA (emailProtection
# EKU, rfc822Name SAN), DER on both sides:
#
#   a. 1 KiB, one process per operation, N operations of each, ours and
#      openssl's alternating (so a change in the machine's load hits both
#      alike); the median time of one operation: sign (detached), verify
#      (detached, chain to the CA), encrypt and decrypt with AES-256-GCM
#      (AuthEnvelopedData, RSA-OAEP SHA-256) and with AES-256-CBC
#      (EnvelopedData, RSA PKCS#1 v1.5)                   goal ratio <= 0.7
#   b. the same operations on BIG_MIB MiB, median of RUNS runs
#                                                         goal ratio <= 1.0
#   c. peak RSS of each operation on HUGE_MIB MiB         goal < 64 MiB
#      (openssl with -stream where it has it: sign and encrypt), and of
#      the securemail CLI's encrypt --raw and decrypt --raw (PEM) with the
#      same certificate in a throwaway keystore
#
#   bench/smime.sh                      # N=100 BIG_MIB=10 HUGE_MIB=100
#   N=50 BIG_MIB=4 HUGE_MIB=32 bench/smime.sh
#   HUGE_MIB=0 bench/smime.sh           # skip c
#   GOBENCH=1 bench/smime.sh            # also run the smime/cms Go benchmarks
#
# The ratio is smimecms/openssl: below 1, ours is faster. Needs go and
# openssl 3; peak RSS comes from /usr/bin/time when it is there, else from
# VmHWM in /proc. Everything lives in a temp dir that is removed on exit.
# The driver is built static (CGO_ENABLED=0, as a release build is); set
# CGO_ENABLED=1 to measure a cgo build. The machine should be otherwise
# idle: the load average is printed with the results.
set -Eeuo pipefail
# Say what failed, on the real stderr (fd 9): measured commands run with
# stderr to /dev/null, and the trap fires where the command failed.
exec 9>&2
trap 'echo "smime.sh: line $LINENO: exit $? from: $BASH_COMMAND" >&9' ERR

N=${N:-100}
BIG_MIB=${BIG_MIB:-10}
HUGE_MIB=${HUGE_MIB:-100}
RUNS=${RUNS:-3}
GOBENCH=${GOBENCH:-0}

cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in go openssl awk cmp head; do
	command -v "$tool" >/dev/null || { echo "smime.sh: $tool is required" >&2; exit 2; }
done
for v in N BIG_MIB RUNS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "smime.sh: $v must be a positive integer" >&2; exit 2; }
done
[[ $HUGE_MIB =~ ^[0-9]+$ ]] || { echo "smime.sh: HUGE_MIB must be a non-negative integer" >&2; exit 2; }

tmp=$(mktemp -d /tmp/smcms.XXXXXX)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

source "$(dirname "$0")/lib.sh"
secs() { awk -v s="$1" 'BEGIN { printf "%.3f s", s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
msecs() { awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'; }
mbps() { awk -v s="$1" -v m="$BIG_MIB" 'BEGIN { if (s > 0) printf "%.0f MB/s", m * 1048576 / s / 1e6; else print "-" }'; }
die() { echo "smime.sh: $*" >&9; exit 1; }

echo "== building bench/smimecms and securemail"
sm=$tmp/smimecms
cli=$tmp/securemail
CGO_ENABLED="${CGO_ENABLED:-0}" go build -o "$sm" ./bench/smimecms
CGO_ENABLED="${CGO_ENABLED:-0}" go build -o "$cli" ./cmd/securemail

echo "== keys: RSA-3072 CA and leaf (openssl)"
k=$tmp/keys
mkdir "$k"
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$k/ca.key" -out "$k/ca.pem" -days 2 \
	-subj "/CN=smime.sh bench CA" \
	-addext "basicConstraints=critical,CA:true" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey rsa:3072 -nodes -keyout "$k/leaf.key" -out "$k/leaf.csr" \
	-subj "/CN=bench/emailAddress=bench@example.org" 2>/dev/null
cat >"$k/leaf.ext" <<'EOF'
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=emailProtection
subjectAltName=email:bench@example.org
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
openssl x509 -req -in "$k/leaf.csr" -CA "$k/ca.pem" -CAkey "$k/ca.key" -CAcreateserial \
	-days 2 -extfile "$k/leaf.ext" -out "$k/leaf.pem" 2>/dev/null
C=$k/leaf.pem
K=$k/leaf.key
CA=$k/ca.pem

# The commands measured: stdin to stdout, DER. sm_* and os_* take extra
# arguments (detached content for verify, -stream for openssl).
OSSL=(openssl cms -binary)
sm_sign() { "$sm" sign -cert "$C" -key "$K"; }
os_sign() { "${OSSL[@]}" -sign -outform DER -signer "$C" -inkey "$K" "$@"; }
sm_verify() { "$sm" verify -ca "$CA" -content "$1"; }
os_verify() { "${OSSL[@]}" -verify -inform DER -CAfile "$CA" -content "$1" -out /dev/null; }
sm_enc_gcm() { "$sm" encrypt -cert "$C"; }
os_enc_gcm() { "${OSSL[@]}" -encrypt -outform DER -aes-256-gcm -recip "$C" -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 "$@"; }
sm_enc_cbc() { "$sm" encrypt -cert "$C" -cbc -pkcs1; }
os_enc_cbc() { "${OSSL[@]}" -encrypt -outform DER -aes-256-cbc -recip "$C" "$@"; }
sm_dec() { "$sm" decrypt -cert "$C" -key "$K"; }
os_dec() { "${OSSL[@]}" -decrypt -inform DER -recip "$C" -inkey "$K"; }

echo "== data: 1 KiB and $BIG_MIB MiB from /dev/urandom"
d=$tmp/data
mkdir "$d"
head -c 1024 /dev/urandom >"$d/small"
head -c "$((BIG_MIB << 20))" /dev/urandom >"$d/big"

# Warm-up, and a check that every direction works: each tool verifies and
# decrypts its own output and the other's.
sm_sign <"$d/small" >"$d/w.sm.sig"
os_sign <"$d/small" >"$d/w.os.sig" 2>/dev/null
for s in sm os; do
	sm_verify "$d/small" <"$d/w.$s.sig" >/dev/null 2>&1 || die "smimecms does not verify $s's signature"
	os_verify "$d/small" <"$d/w.$s.sig" >/dev/null 2>&1 || die "openssl does not verify $s's signature"
done
for m in gcm cbc; do
	sm_enc_$m <"$d/small" >"$d/w.sm.$m"
	os_enc_$m <"$d/small" >"$d/w.os.$m" 2>/dev/null
	for s in sm os; do
		sm_dec <"$d/w.$s.$m" 2>/dev/null | cmp -s - "$d/small" || die "smimecms cannot decrypt $s's $m"
		os_dec <"$d/w.$s.$m" 2>/dev/null | cmp -s - "$d/small" || die "openssl cannot decrypt $s's $m"
	done
done

# pair VAR_SM VAR_OS IN OUT SM_FUNC OS_FUNC ARGS...: runs SM_FUNC ARGS
# and OS_FUNC ARGS, alternating, N times each, <IN >OUT.sm.i and
# >OUT.os.i, and sets VAR_SM and VAR_OS to the median seconds of one run.
pair() {
	local vsm=$1 vos=$2 in=$3 out=$4 fsm=$5 fos=$6 i t tsm=() tos=()
	shift 6
	for ((i = 0; i < N; i++)); do
		stamp t
		"$fsm" "$@" <"$in" >"$out.sm.$i" 2>/dev/null
		tsm+=("$(elapsed_fast "$t")")
		stamp t
		"$fos" "$@" <"$in" >"$out.os.$i" 2>/dev/null
		tos+=("$(elapsed_fast "$t")")
	done
	printf -v "$vsm" '%s' "$(median "${tsm[@]}")"
	printf -v "$vos" '%s' "$(median "${tos[@]}")"
}
# elapsed_fast START: seconds since START, without forking (bash 5's
# EPOCHREALTIME), so that the measuring costs nothing per operation.
elapsed_fast() {
	if [[ -n ${EPOCHREALTIME:-} ]]; then
		local now=${EPOCHREALTIME/,/.} a=${1/,/.}
		local ns=$((10#${now%.*} * 1000000 + 10#${now#*.} - 10#${a%.*} * 1000000 - 10#${a#*.}))
		printf '%d.%06d' $((ns / 1000000)) $((ns % 1000000))
	else
		elapsed "$1"
	fi
}
# check OUT_PREFIX: every output of a loop is the 1 KiB plaintext.
check() {
	local i
	for ((i = 0; i < N; i++)); do
		cmp -s "$1.$i" "$d/small" || die "$1.$i differs from the plaintext"
	done
}
clean() { rm -f "$1".*; }

echo "== a. 1 KiB, $N processes per operation and tool, alternating"
pair a_sm_sign a_os_sign "$d/small" "$d/a.sig" sm_sign os_sign
clean "$d/a.sig.sm"
clean "$d/a.sig.os"
pair a_sm_verify a_os_verify "$d/w.sm.sig" "$d/a.v" sm_verify os_verify "$d/small"
clean "$d/a.v.sm"
clean "$d/a.v.os"
for m in gcm cbc; do
	pair "a_sm_enc_$m" "a_os_enc_$m" "$d/small" "$d/a.e" "sm_enc_$m" "os_enc_$m"
	clean "$d/a.e.sm"
	clean "$d/a.e.os"
	pair "a_sm_dec_$m" "a_os_dec_$m" "$d/w.sm.$m" "$d/a.d" sm_dec os_dec
	check "$d/a.d.sm"
	check "$d/a.d.os"
	clean "$d/a.d.sm"
	clean "$d/a.d.os"
done

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

echo "== b. $BIG_MIB MiB, median of $RUNS runs"
timed b_sm_sign "$d/big" "$d/big.sm.sig" sm_sign
timed b_os_sign "$d/big" "$d/big.os.sig" os_sign
timed b_sm_verify "$d/big.sm.sig" /dev/null sm_verify "$d/big"
timed b_os_verify "$d/big.os.sig" /dev/null os_verify "$d/big"
for m in gcm cbc; do
	timed "b_sm_enc_$m" "$d/big" "$d/big.sm.$m" "sm_enc_$m"
	timed "b_os_enc_$m" "$d/big" "$d/big.os.$m" "os_enc_$m"
	timed "b_sm_dec_$m" "$d/big.sm.$m" "$d/big.out" sm_dec
	cmp -s "$d/big.out" "$d/big" || die "smimecms: $BIG_MIB MiB $m round trip differs"
	timed "b_os_dec_$m" "$d/big.os.$m" "$d/big.out" os_dec
	cmp -s "$d/big.out" "$d/big" || die "openssl: $BIG_MIB MiB $m round trip differs"
	rm -f "$d/big.out"
done


if ((HUGE_MIB > 0)); then
	echo "== c. peak RSS, $HUGE_MIB MiB ($rss_how)"
	for ((i = 0; i < HUGE_MIB; i += BIG_MIB)); do cat "$d/big"; done | head -c "$((HUGE_MIB << 20))" >"$d/huge"
	rm -f "$d"/big.*
	SM=("$sm")
	OS=("${OSSL[@]}")
	peak c_sm_sign c_sm_sign_s "$d/huge" "$d/h.sm.sig" "${SM[@]}" sign -cert "$C" -key "$K"
	peak c_os_sign c_os_sign_s "$d/huge" "$d/h.os.sig" "${OS[@]}" -sign -outform DER -signer "$C" -inkey "$K" -stream
	peak c_sm_verify c_sm_verify_s "$d/h.sm.sig" /dev/null "${SM[@]}" verify -ca "$CA" -content "$d/huge"
	peak c_os_verify c_os_verify_s "$d/h.os.sig" /dev/null "${OS[@]}" -verify -inform DER -CAfile "$CA" -content "$d/huge" -out /dev/null
	rm -f "$d"/h.*.sig
	peak c_sm_enc c_sm_enc_s "$d/huge" "$d/h.sm.env" "${SM[@]}" encrypt -cert "$C"
	peak c_os_enc c_os_enc_s "$d/huge" "$d/h.os.env" "${OS[@]}" -encrypt -outform DER -aes-256-gcm -recip "$C" -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -stream
	peak c_sm_dec c_sm_dec_s "$d/h.sm.env" /dev/null "${SM[@]}" decrypt -cert "$C" -key "$K"
	peak c_os_dec c_os_dec_s "$d/h.os.env" /dev/null "${OS[@]}" -decrypt -inform DER -recip "$C" -inkey "$K"
	rm -f "$d"/h.*.env
	# The CLI, PEM out and in, with the leaf and its key in a keystore.
	H=(--home "$tmp/home")
	"$cli" "${H[@]}" keys import --no-passphrase "$C" "$K" >/dev/null 2>&1 || die "securemail keys import failed"
	"$cli" "${H[@]}" keys trust "$CA" >/dev/null 2>&1 || die "securemail keys trust failed"
	peak c_cli_enc c_cli_enc_s "$d/huge" "$d/h.cli.pem" "$cli" "${H[@]}" encrypt --smime --raw -r bench@example.org
	peak c_cli_dec c_cli_dec_s "$d/h.cli.pem" "$d/h.cli.out" "$cli" "${H[@]}" decrypt --raw
	cmp -s "$d/h.cli.out" "$d/huge" || die "securemail: $HUGE_MIB MiB round trip differs"
	rm -f "$d"/h.cli.* "$d/huge"
fi

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
row() { printf '%-44s %13s %13s %7s %s\n' "$@"; }
echo
echo "== results: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(openssl version | cut -d' ' -f1-2), $(go version | cut -d' ' -f3)"
echo "   N=$N  BIG_MIB=$BIG_MIB  HUGE_MIB=$HUGE_MIB  RUNS=$RUNS  RSA-3072  ratio = smimecms/openssl (lower is better)"
row "operation" "smimecms" "openssl" "ratio" "goal"
a_row() {
	row "a. 1 KiB $1, median of $N" "$(msecs "$2")" "$(msecs "$3")" "$(ratio "$2" "$3")" "<= 0.7"
}
a_row "sign (detached)" "$a_sm_sign" "$a_os_sign"
a_row "verify (detached, chain)" "$a_sm_verify" "$a_os_verify"
a_row "encrypt GCM+OAEP" "$a_sm_enc_gcm" "$a_os_enc_gcm"
a_row "decrypt GCM+OAEP" "$a_sm_dec_gcm" "$a_os_dec_gcm"
a_row "encrypt CBC+v1.5" "$a_sm_enc_cbc" "$a_os_enc_cbc"
a_row "decrypt CBC+v1.5" "$a_sm_dec_cbc" "$a_os_dec_cbc"
b_row() {
	row "b. $BIG_MIB MiB $1" "$(secs "$2")" "$(secs "$3")" "$(ratio "$2" "$3")" "<= 1.0"
	row "   throughput" "$(mbps "$2")" "$(mbps "$3")" "" ""
}
b_row "sign (detached)" "$b_sm_sign" "$b_os_sign"
b_row "verify (detached, chain)" "$b_sm_verify" "$b_os_verify"
b_row "encrypt GCM+OAEP" "$b_sm_enc_gcm" "$b_os_enc_gcm"
b_row "decrypt GCM+OAEP" "$b_sm_dec_gcm" "$b_os_dec_gcm"
b_row "encrypt CBC+v1.5" "$b_sm_enc_cbc" "$b_os_enc_cbc"
b_row "decrypt CBC+v1.5" "$b_sm_dec_cbc" "$b_os_dec_cbc"
if ((HUGE_MIB > 0)); then
	c_row() {
		row "c. $HUGE_MIB MiB $1: peak RSS" "$(mib "$2")" "$(mib "$3")" "$(ratio "$2" "$3")" "< 64 MiB"
		row "   wall time" "$(secs "$4")" "$(secs "$5")" "$(ratio "$4" "$5")" ""
	}
	c_row "sign" "$c_sm_sign" "$c_os_sign" "$c_sm_sign_s" "$c_os_sign_s"
	c_row "verify" "$c_sm_verify" "$c_os_verify" "$c_sm_verify_s" "$c_os_verify_s"
	c_row "encrypt GCM" "$c_sm_enc" "$c_os_enc" "$c_sm_enc_s" "$c_os_enc_s"
	c_row "decrypt GCM" "$c_sm_dec" "$c_os_dec" "$c_sm_dec_s" "$c_os_dec_s"
	echo "   (openssl signs and encrypts with -stream; it has no streaming verify or decrypt of DER)"
	row "c. $HUGE_MIB MiB securemail encrypt --raw" "$(mib "$c_cli_enc")" "" "" "< 64 MiB"
	row "   wall time" "$(secs "$c_cli_enc_s")" "" "" ""
	row "c. $HUGE_MIB MiB securemail decrypt --raw" "$(mib "$c_cli_dec")" "" "" "< 64 MiB"
	row "   wall time" "$(secs "$c_cli_dec_s")" "" "" ""
fi

if [[ $GOBENCH != 0 ]]; then
	echo
	echo "== go test -run '^\$' -bench . -benchmem ./smime/cms/"
	go test -run '^$' -bench . -benchmem ./smime/cms/
fi
