# bench/lib.sh: helpers the bench scripts share. Source it after setting
# tmp (a scratch directory of the caller's).

# stamp VAR: sets VAR to the time in seconds, without forking when bash has
# EPOCHREALTIME (bash 5), else with date +%s.%N.
stamp() {
	if [[ -n ${EPOCHREALTIME:-} ]]; then
		printf -v "$1" '%s' "${EPOCHREALTIME/,/.}"
	else
		printf -v "$1" '%s' "$(date +%s.%N)"
	fi
}
# elapsed START: seconds since START.
elapsed() {
	local end
	stamp end
	awk -v a="$1" -v b="$end" 'BEGIN { printf "%.4f", b - a }'
}
# median N...: the median of the numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# peak VAR_KIB VAR_S IN OUT CMD ARGS...: peak RSS (KiB) and wall time of
# one run of CMD ARGS <IN >OUT (a program: /usr/bin/time cannot run shell
# functions). RSS_TIME=none forces the /proc polling fallback; rss_how
# says which is used.
RSS_TIME=${RSS_TIME:-/usr/bin/time}
if [[ -x $RSS_TIME ]] && "$RSS_TIME" -f %M -o /dev/null true 2>/dev/null; then
	rss_how="$RSS_TIME %M"
else
	rss_how="VmHWM polled from /proc every 50 ms"
fi
peak() {
	local kvar=$1 svar=$2 in=$3 out=$4 t kib=0 pid hwm
	shift 4
	stamp t
	if [[ $rss_how == *%M ]]; then
		"$RSS_TIME" -f %M -o "$tmp/rss" "$@" <"$in" >"$out" 2>/dev/null
		kib=$(tail -1 "$tmp/rss")
	else
		# VmHWM is the high-water mark: the last reading is the peak,
		# give or take what the process did after it.
		"$@" <"$in" >"$out" 2>/dev/null &
		pid=$!
		while [[ -r /proc/$pid/status ]]; do
			hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
			if [[ -n $hwm ]] && ((hwm > kib)); then kib=$hwm; fi
			sleep 0.05
		done
		wait "$pid"
	fi
	printf -v "$svar" '%s' "$(elapsed "$t")"
	printf -v "$kvar" '%s' "$kib"
}
