#!/usr/bin/env bash
# Measures the received-mail verdict (mailauth: DKIM with RSA-2048 keys,
# DMARC with alignment; DNS in memory) on one core over 64 realistic
# messages of 5-50 KiB, beside go-msgauth's DKIM verification alone on the
# same messages, and prints messages per second for each (the median of
# COUNT runs). The issue's goal: at least 5,000 messages/s per core.
#
#   bench/auth.sh
#   COUNT=10 bench/auth.sh
#   PROFILE=cpu.out bench/auth.sh    # also write a CPU profile of ours
#
# Needs go. The corpus is built by the benchmark (mailauth/bench_test.go).
set -euo pipefail

COUNT=${COUNT:-5}
PROFILE=${PROFILE:-}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v go >/dev/null || { echo "auth.sh: go is required" >&2; exit 2; }
if [[ ! $COUNT =~ ^[1-9][0-9]*$ ]]; then
	echo "auth.sh: COUNT must be a positive integer" >&2
	exit 2
fi
# shellcheck source=bench/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/securemail-authbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
source bench/lib.sh

args=(-run '^$' -bench '^(BenchmarkVerdict|BenchmarkGoMsgauthVerify)$' -cpu 1 -count "$COUNT")
if [[ -n $PROFILE ]]; then
	args+=(-cpuprofile "$PROFILE")
fi
go test "${args[@]}" ./mailauth/ | tee "$tmp/out"

rate() { awk -v b="$1" '$1 ~ "^"b"(-1)?$" { for (i = 2; i <= NF; i++) if ($i == "msgs/s") print $(i-1) }' "$tmp/out"; }
# shellcheck disable=SC2046
ours=$(median $(rate BenchmarkVerdict))
# shellcheck disable=SC2046
theirs=$(median $(rate BenchmarkGoMsgauthVerify))
echo
printf 'verdict (DKIM + DMARC), one core:     %8.0f messages/s\n' "$ours"
printf 'go-msgauth DKIM verification alone:   %8.0f messages/s\n' "$theirs"
