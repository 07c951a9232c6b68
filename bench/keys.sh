#!/usr/bin/env bash
# Compares `securemail keys list` with `gpg --list-keys` on a keyring of N
# fresh Ed25519 OpenPGP public keys (default 10,000), each with its own
# address (user00001@bench.example, ...), then runs the keystore Go
# benchmarks.
#
#   bench/keys.sh                 # N=10000
#   N=2000 bench/keys.sh
#   HYPERFINE=0 RUNS=7 bench/keys.sh   # plain loop instead of hyperfine
#   GOBENCH=0 bench/keys.sh       # skip the Go benchmarks
#
# Needs go and gpg; uses hyperfine when installed (apt-get install -y
# hyperfine), else takes the median of RUNS (default 5) timed runs after one
# warm-up. Everything lives in a temp dir that is removed on exit.
set -euo pipefail

N=${N:-10000}
RUNS=${RUNS:-5}
HYPERFINE=${HYPERFINE:-auto}
GOBENCH=${GOBENCH:-1}

cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in go gpg gpgconf awk; do
	command -v "$tool" >/dev/null || { echo "keys.sh: $tool is required" >&2; exit 2; }
done
if [[ ! $N =~ ^[1-9][0-9]*$ ]] || [[ ! $RUNS =~ ^[1-9][0-9]*$ ]]; then
	echo "keys.sh: N and RUNS must be positive integers" >&2
	exit 2
fi
use_hyperfine=0
if [[ $HYPERFINE != 0 ]] && command -v hyperfine >/dev/null; then
	use_hyperfine=1
elif [[ $HYPERFINE == 1 ]]; then
	echo "keys.sh: HYPERFINE=1 but hyperfine is not installed" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/securemail-keysbench.XXXXXX")
export GNUPGHOME=$tmp/gnupg
export SECUREMAIL_HOME=$tmp/securemail-home
cleanup() {
	gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 700 "$GNUPGHOME"

source "$(dirname "$0")/lib.sh"
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
secs() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
ratio() { awk -v g="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.2fx", g / s; else print "-" }'; }

lookup=$(printf 'user%05d@bench.example' $(((N + 1) / 2)))
sm=$tmp/securemail

echo "== building securemail and genkeys"
go build -o "$sm" ./cmd/securemail
go build -o "$tmp/genkeys" ./bench/genkeys

echo "== generating $N keys"
stamp t
"$tmp/genkeys" -q -n "$N" -o "$tmp/keys.asc"
gen_s=$(elapsed "$t")
echo "   $(secs "$gen_s"), $(du -h "$tmp/keys.asc" | cut -f1) armored"

echo "== importing into securemail ($SECUREMAIL_HOME)"
stamp t
"$sm" keys import "$tmp/keys.asc" 2>"$tmp/securemail-import.log"
sm_import_s=$(elapsed "$t")
echo "   $(secs "$sm_import_s")"

echo "== importing into gpg ($GNUPGHOME)"
stamp t
gpg --batch --import "$tmp/keys.asc" 2>"$tmp/gpg-import.log"
gpg_import_s=$(elapsed "$t")
echo "   $(secs "$gpg_import_s")"
# Settle the trust database once, so that no measured run pays for it.
gpg --batch --check-trustdb >/dev/null 2>&1 || true

sm_count=$("$sm" keys list --json | grep -c '"fingerprint":' || true)
gpg_count=$(gpg --batch --with-colons --list-keys 2>/dev/null | grep -c '^pub:' || true)
if [[ $sm_count != "$N" || $gpg_count != "$N" ]]; then
	echo "keys.sh: expected $N keys, securemail has $sm_count, gpg has $gpg_count" >&2
	exit 1
fi
out=$("$sm" keys list "$lookup")
[[ $out == *"$lookup"* ]] || { echo "keys.sh: securemail does not find $lookup" >&2; exit 1; }
out=$(gpg --batch --list-keys "$lookup" 2>/dev/null)
[[ $out == *"$lookup"* ]] || { echo "keys.sh: gpg does not find $lookup" >&2; exit 1; }

# measure NAME CMD...: sets median[NAME] (seconds) for running CMD with its
# output sent to /dev/null.
declare -A median
measure() {
	local name=$1
	shift
	echo "-- $name: $* > /dev/null"
	if ((use_hyperfine)); then
		# --shell=none: no shell start-up to subtract from runs of a few ms.
		hyperfine --style basic --shell=none --output=null --warmup 1 --min-runs "$RUNS" \
			-n "$name" --export-csv "$tmp/$name.csv" "${*@Q}"
		median[$name]=$(awk -F, 'NR == 2 { print $4 }' "$tmp/$name.csv")
	else
		local i t0 t1 times=()
		"$@" >/dev/null 2>&1 # warm-up
		for ((i = 0; i < RUNS; i++)); do
			stamp t0
			"$@" >/dev/null 2>&1
			stamp t1
			times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
		done
		median[$name]=$(printf '%s\n' "${times[@]}" | sort -g |
			awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
		echo "   median $(ms "${median[$name]}") of $RUNS runs (s: ${times[*]})"
	fi
}

if ((use_hyperfine)); then
	echo "== measuring with $(hyperfine --version)"
else
	echo "== measuring: median of $RUNS runs after a warm-up (hyperfine not used)"
fi
measure sm-list "$sm" keys list
measure gpg-list gpg --batch --list-keys
measure sm-json "$sm" keys list --json
measure gpg-colons gpg --batch --with-colons --list-keys
measure sm-lookup "$sm" keys list "$lookup"
measure gpg-lookup gpg --batch --list-keys "$lookup"

row() { printf '%-34s %14s %14s %14s\n' "$@"; }
echo
echo "== results: N=$N keys, $(nproc) CPUs, $(gpg --version | head -1), $(go version | cut -d' ' -f3)"
row "operation" "securemail" "gpg" "gpg/securemail"
row "import keyring (1 run)" "$(secs "$sm_import_s")" "$(secs "$gpg_import_s")" "$(ratio "$gpg_import_s" "$sm_import_s")"
row "keys list | --list-keys" "$(ms "${median[sm-list]}")" "$(ms "${median[gpg-list]}")" "$(ratio "${median[gpg-list]}" "${median[sm-list]}")"
row "keys list --json | --with-colons" "$(ms "${median[sm-json]}")" "$(ms "${median[gpg-colons]}")" "$(ratio "${median[gpg-colons]}" "${median[sm-json]}")"
row "lookup $lookup" "$(ms "${median[sm-lookup]}")" "$(ms "${median[gpg-lookup]}")" "$(ratio "${median[gpg-lookup]}" "${median[sm-lookup]}")"
echo "(list and lookup: median wall time per command, whole process; ratio > 1: securemail is faster)"

if [[ $GOBENCH != 0 ]]; then
	echo
	echo "== go test -run '^\$' -bench 10k -benchmem ./keystore/"
	go test -run '^$' -bench 10k -benchmem ./keystore/
fi
