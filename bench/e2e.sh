#!/usr/bin/env bash
# End-to-end benchmark: Synod and etcd side by side, in one session, on the same disk.
#
# Usage: bench/e2e.sh [REPS]        (default 3; about 1.5 minutes per repetition)
#
# Each repetition, interleaved so that both systems see the same machine weather:
#   1. a fresh 3-node Synod cluster on 127.0.0.1 (free ports below 32768, data in a temp dir,
#      fsync on every consensus write), loaded by `synod load` with
#        put-1      kv-put,      1 client,           PUT1_S seconds
#        put-many   kv-put,    256 clients,          PUTN_S seconds
#        get-1      kv-get,      1 client,           GET1_S seconds  (linearizable)
#        get-many   kv-get,    256 clients,          GETN_S seconds  (linearizable)
#        xfer-Bx1      transfers, batch B,      1 client,  XFER_S seconds
#        xfer-Bx8      transfers, batch B,      8 clients, XFER_S seconds
#        xfer-1x256    transfers, batch 1,    256 clients, XFER_S seconds
#        xfer-8190x4   transfers, batch 8190,   4 clients, XFER_S seconds (the bulk shape)
#        xfer-8190-probe  one client sending requests of 8190 transfers with a 3 s timeout
#                      (the largest command, limits::kPayloadBytesMax: is each answered?)
#      B = XFER_BATCH, default 1000;
#      each step preceded by an unmeasured warm-up run of the same shape (WARM_S seconds);
#      256-byte values, key space 10000 (keys "load-0".."load-9999"); then the cluster is
#      stopped by pid and its data deleted. Traffic is CURVE-encrypted (the default; keys made
#      by `synod keygen` in the cluster's temp dir); INSECURE=1 runs every process with
#      --insecure instead (to measure what CURVE costs);
#   2. the etcd baseline: ../shared/peers/etcd/bench.sh 1 (a fresh 3-member etcd 3.4 on
#      127.0.0.1, its fixed workload: put-1, put-many, get-1, get-many; see its README).
# Then a table of medians with the synod/etcd ratios for the comparable rows.
#
# Every synod load step is bounded by `timeout`; every cluster process is stopped by its pid
# and every temp dir removed on exit, error, Ctrl-C or SIGTERM.
#
# Env: SYNOD (binary, default build-release/bin/synod), ETCD_PEER (dir of the etcd baseline,
#      default ../shared/peers/etcd next to the repo), ETCDLOAD (prebuilt etcdload; default:
#      built into the temp dir from Debian's Go packages), SKIP_ETCD=1 (synod only),
#      OUT (file for the report; default bench/results/e2e-<time>.txt), TMPDIR_PARENT (/tmp),
#      PUT1_S PUTN_S GET1_S GETN_S XFER_S WARM_S (step lengths), MANY (256), ACCOUNTS (10000),
#      INSECURE=1 (plaintext), SNAPSHOT_EVERY (see below).
# Needs: etcd-server etcd-client golang-go golang-etcd-server-dev (Debian packages; see the
#        etcd baseline's README) unless SKIP_ETCD=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
reps="${1:-3}"
[[ "$reps" =~ ^[1-9][0-9]?$ ]] || { echo "REPS must be 1..99" >&2; exit 2; }
synod="${SYNOD:-$root/build-release/bin/synod}"
etcd_peer="${ETCD_PEER:-$(cd "$root/.." && pwd)/shared/peers/etcd}"
[[ -x "$synod" ]] || { echo "no synod binary at $synod (cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build-release -j2)" >&2; exit 1; }
skip_etcd="${SKIP_ETCD:-0}"
if [[ "$skip_etcd" != 1 ]]; then
  [[ -x "$etcd_peer/bench.sh" ]] || { echo "no etcd baseline at $etcd_peer" >&2; exit 1; }
  command -v etcd >/dev/null || { echo "etcd missing: apt-get install -y etcd-server etcd-client" >&2; exit 1; }
fi
xb="${XFER_BATCH:-1000}" warm=1 insecure="${INSECURE:-0}" client_sec=()
# Snapshots as the node takes them by default (in place, every 2,000 slots or 64 MiB of
# commands; README "Snapshots"). SNAPSHOT_EVERY=100000000 turns them off, as runs before
# 2026-11-27 16:00 UTC did (snapshots were then encoded whole and skipped above 64 MiB).
snap_every="${SNAPSHOT_EVERY:-2000}"
put1_s="${PUT1_S:-5}" putn_s="${PUTN_S:-6}" get1_s="${GET1_S:-5}" getn_s="${GETN_S:-6}"
xfer_s="${XFER_S:-8}" warm_s="${WARM_S:-1}" many="${MANY:-256}" accounts="${ACCOUNTS:-10000}"
mkdir -p "$here/results"
out="${OUT:-$here/results/e2e-$(date -u +%Y%m%d-%H%M%S).txt}"
hz="$(getconf CLK_TCK)"
t_start=$SECONDS

work="$(mktemp -d "${TMPDIR_PARENT:-/tmp}/synod-e2e.XXXXXX")"
rows="$work/rows"        # one "ROW system=... name=... key=value ..." line per measured step
: > "$rows"
node_pids=()              # pids of the running synod nodes
cdir=""                   # data dir of the running synod cluster
child=""                  # a running load generator: its own process group (setsid)
etcd_child=""             # a running etcd bench.sh (stops its own cluster on SIGTERM)

is_our_node() { # pid is alive and is a synod node of our data dir (guards against pid reuse)
  [[ "$1" =~ ^[0-9]+$ && -r /proc/$1/cmdline ]] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -Eq -- " node .*--data[= ]$cdir/n"
}
stop_synod() { # SIGTERM each node by pid, wait up to 10 s, then SIGKILL; delete the data
  local pid deadline
  for pid in "${node_pids[@]}"; do is_our_node "$pid" && kill -TERM "$pid" 2>/dev/null; done
  deadline=$((SECONDS + 10))
  for pid in "${node_pids[@]}"; do
    while is_our_node "$pid" && (( SECONDS < deadline )); do sleep 0.05; done
    if is_our_node "$pid"; then echo "synod node $pid did not stop in 10 s: SIGKILL" >&2; kill -KILL "$pid" 2>/dev/null; fi
    wait "$pid" 2>/dev/null || true
  done
  node_pids=()
  [[ -n "$cdir" ]] && rm -rf "$cdir"
  cdir=""
}
cleanup() {
  set +e
  # The load generator's group (timeout, time, synod load) gets SIGKILL: on SIGTERM synod load
  # would wait for its requests in flight, up to its 30 s timeout, on a cluster being stopped.
  if [[ -n "$child" ]]; then kill -KILL -- "-$child" 2>/dev/null; wait "$child" 2>/dev/null; child=""; fi
  if [[ -n "$etcd_child" ]]; then kill -TERM "$etcd_child" 2>/dev/null; wait "$etcd_child" 2>/dev/null; etcd_child=""; fi
  stop_synod
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "e2e: interrupted" >&2; exit 130' INT TERM

say() { echo "$@" | tee -a "$out"; }

# --- helpers -------------------------------------------------------------------------------
free_port() { # a TCP port in [20000, 32000) that nothing listens on, not in etcd's range
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    (( p >= 23780 && p <= 23830 )) && continue       # etcd baseline: 23791-23793, 23801-23803
    [[ " ${used_ports:-} " == *" $p "* ]] && continue
    if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then used_ports+=" $p"; echo "$p"; return 0; fi
  done
  echo "no free port" >&2; return 1
}
node_ticks() { # utime+stime of the running nodes, in clock ticks
  local s=0 pid f
  for pid in "${node_pids[@]}"; do
    f=$(cut -d' ' -f14,15 "/proc/$pid/stat" 2>/dev/null) || continue
    s=$((s + ${f% *} + ${f#* }))
  done
  echo "$s"
}
host_ticks() { awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t; exit}' /proc/stat; }
jnum() { # jnum KEY < json: a top-level number of a flat JSON object (0 if missing)
  sed -n "s/.*\"$1\":\\([-0-9.eE+]*\\).*/\\1/p" | awk 'NR == 1 {v = $1} END {print v + 0}'
}

start_synod() {
  cdir="$(mktemp -d "$work/synod.XXXXXX")"
  used_ports=""
  local spec="" i p
  for i in 1 2 3; do p=$(free_port); spec+="${spec:+,}$i=127.0.0.1:$p"; done
  echo "$spec" > "$cdir/spec"
  local keys="$cdir/keys" node_sec
  client_sec=(--insecure)
  if [[ "$insecure" != 1 ]]; then
    for i in 1 2 3; do "$synod" keygen --out "$keys" --name "node-$i" >/dev/null; done
    "$synod" keygen --out "$keys" --name client >/dev/null
    client_sec=(--key "$keys/client.key" --trust "$keys")
  fi
  for i in 1 2 3; do
    node_sec=(--insecure)
    [[ "$insecure" != 1 ]] && node_sec=(--key "$keys/node-$i.key" --trust "$keys")
    # --id=N, not "--id N": someone else's test on this machine kills "synod node --id 3" by name.
    "$synod" node --cluster "$spec" --data="$cdir/n$i" --log-level warn --snapshot-every "$snap_every" --id="$i" \
      "${node_sec[@]}" </dev/null >"$cdir/n$i.log" 2>&1 &
    node_pids+=($!)
  done
  # Ready when one node reports itself leader and all three answer (bounded: 30 s).
  local deadline=$((SECONDS + 30)) st
  while :; do
    for pid in "${node_pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "synod node $pid died:" >&2; tail -5 "$cdir"/n*.log >&2; return 1; }
    done
    st=$(timeout 10 "$synod" status --cluster "$spec" "${client_sec[@]}" --json --timeout-ms 1500 2>/dev/null || true)
    if grep -q '"role":"leader"' <<<"$st" && ! grep -q unreachable <<<"$st"; then break; fi
    (( SECONDS < deadline )) || { echo "synod cluster not ready within 30 s: $st" >&2; return 1; }
    sleep 0.2
  done
  spec_cur="$spec"
}

# synod_step NAME REP KIND CLIENTS BATCH SECONDS [extra load args]
synod_step() {
  local name="$1" rep="$2" kind="$3" clients="$4" batch="$5" secs="$6"; shift 6
  local base=(load --cluster "$spec_cur" "${client_sec[@]}" --kind "$kind" --clients "$clients"
              --batch "$batch" --value-size 256 --accounts "$accounts" --json "$@")
  local bound=$((${secs%.*} + 90)) rc=0
  # Warm-up: same shape, not measured (transfers: its own accounts; gets: keys of the puts).
  if (( warm )); then setsid timeout -k 5 "$bound" "$synod" "${base[@]}" --duration "$warm_s" >"$work/warm.json" 2>"$work/warm.err" &
  child=$!; wait "$child" || rc=$?; child=""; fi
  (( rc == 0 )) || echo "warning: warm-up of $name exited $rc: $(tail -2 "$work/warm.err" | tr '\n' ' ')" >&2
  local c0 h0 c1 h1 rc=0 json
  c0=$(node_ticks); h0=$(host_ticks)
  # /usr/bin/time: CPU seconds of the load generator itself.
  setsid timeout -k 5 "$bound" /usr/bin/time -f '%U %S' -o "$work/time.txt" \
      "$synod" "${base[@]}" --duration "$secs" >"$work/load.json" 2>"$work/load.err" &
  child=$!; wait "$child" || rc=$?; child=""
  c1=$(node_ticks); h1=$(host_ticks)
  json=$(grep '^{' "$work/load.json" | tail -1 || true)
  if [[ -z "$json" ]]; then
    echo "synod $name rep $rep: no result (exit $rc): $(tail -3 "$work/load.err" | tr '\n' ' ')" >&2
    json='{}'
  fi
  local ops ok secs_m tps p50 p99 p999 timeouts req inv cli
  ops=$(jnum transfers <<<"$json"); ok=$(jnum ok <<<"$json"); secs_m=$(jnum seconds <<<"$json")
  tps=$(jnum tps <<<"$json"); p50=$(jnum p50_ms <<<"$json"); p99=$(jnum p99_ms <<<"$json")
  p999=$(jnum p999_ms <<<"$json"); timeouts=$(jnum timeouts <<<"$json"); req=$(jnum requests <<<"$json")
  inv=$(sed -n 's/.*"invariants_ok":\([a-z]*\).*/\1/p' <<<"$json"); inv=${inv:--}
  cli=$(tail -1 "$work/time.txt" 2>/dev/null | awk '{printf "%.2f", $1 + $2}'); cli=${cli:-0}
  local failed; failed=$(sed -n 's/.*"failed":{\([^}]*\)}.*/\1/p' <<<"$json" | tr -d '"' | tr ',' ';'); failed=${failed:-none}
  local line="ROW system=synod rep=$rep name=$name kind=$kind clients=$clients batch=$batch"
  line+=" ops=$ops ok=$ok failed=${failed} timeouts=$timeouts requests=$req wall_s=$secs_m ops_per_s=$tps"
  local alive=0 pid; for pid in "${node_pids[@]}"; do is_our_node "$pid" && alive=$((alive + 1)); done
  line+=" p50_ms=$p50 p99_ms=$p99 p999_ms=$p999 invariants_ok=$inv exit=$rc nodes_alive=$alive"
  # A node that died during the step takes its CPU time with it: cpu_s is then a lower bound.
  line+=" cpu_s=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN{d=(b-a)/hz; printf "%.2f", d < 0 ? 0 : d}') client_cpu_s=$cli"
  line+=" host_busy=$(awk -v a="$h0" -v b="$h1" 'BEGIN{split(a,x," "); split(b,y," "); printf "%.2f",(y[1]-x[1])/(y[2]-x[2])}')"
  echo "$line" | tee -a "$rows" >> "$out"
  printf '  synod %-15s %10.0f ops/s  p50 %7.2f ms  p99 %8.2f ms  (ok %s of %s, timeouts %s, exit %s, nodes alive %s)\n' \
    "$name" "$tps" "$p50" "$p99" "$ok" "$ops" "$timeouts" "$rc" "$alive" | tee -a "$out"
  if (( alive < 3 )); then
    echo "  synod: only $alive of 3 nodes alive after $name; last log lines:" | tee -a "$out"
    tail -n 2 "$cdir"/n*.log 2>/dev/null | cut -c1-300 | sed 's/^/    /' | tee -a "$out"
  fi
}

run_etcd() { # one repetition of the etcd baseline; its RESULT lines become ROW lines
  local rep="$1" res="$work/etcd-results.txt" rc=0 before
  before=$(grep -c '^RESULT' "$res" 2>/dev/null || true); before=${before:-0}
  RESULTS="$res" DATA_PARENT="$work" ETCDLOAD="$etcdload" GOCACHE="$work/gocache" \
    "$etcd_peer/bench.sh" 1 >"$work/etcd.out" 2>"$work/etcd.err" &
  etcd_child=$!; wait "$etcd_child" || rc=$?; etcd_child=""
  (( rc == 0 )) || { echo "etcd bench.sh failed (exit $rc):" >&2; tail -5 "$work/etcd.err" >&2; }
  grep '^RESULT' "$res" | tail -n +$((before + 1)) | while read -r l; do
    local label ops p50 p99 p999 cpu cli busy okn err wall
    label=$(sed -n 's/.*label=\([^ ]*\).*/\1/p' <<<"$l")
    get() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<"$l"; }
    ops=$(get ops_per_s); p50=$(get p50_ms); p99=$(get p99_ms); p999=$(get p999_ms)
    cpu=$(get etcd_cpu_s); cli=$(get client_cpu_s); busy=$(get host_busy); okn=$(get ok); err=$(get errors); wall=$(get wall_s)
    echo "ROW system=etcd rep=$rep name=$label clients=$(get clients) ok=$okn errors=$err wall_s=$wall ops_per_s=$ops p50_ms=$p50 p99_ms=$p99 p999_ms=$p999 cpu_s=$cpu client_cpu_s=$cli host_busy=$busy" \
      | tee -a "$rows" >> "$out"
    printf '  etcd  %-15s %10.0f ops/s  p50 %7.2f ms  p99 %8.2f ms\n' "$label" "$ops" "$p50" "$p99" | tee -a "$out"
  done
}

# --- header --------------------------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
disk=$(df -P "$work" | awk 'NR==2{print $1}'); fstype=$(df -PT "$work" | awk 'NR==2{print $2}')
{
  echo "# Synod vs etcd end to end: $(date -u '+%Y-%m-%d %H:%M UTC'), REPS=$reps, command: bench/e2e.sh $reps"
  echo "# machine: $(nproc)-core shared VM ($cpu_model), kernel $(uname -r); disk $disk ($fstype), all data dirs under $work"
  echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other engineers build on this machine: expect noise)"
  echo "# synod: $("$synod" --version 2>/dev/null | head -1) $(git -C "$root" rev-parse --short HEAD 2>/dev/null), 3 nodes on 127.0.0.1, fsync on (RocksDB WriteBatch sync=true per loop pass), --snapshot-every $snap_every, load generator on the same 2 cores"
  echo "# synod steps: kv 256-byte values, key space 10000; put-1/get-1: 1 client; put-many/get-many: $many clients; measured ${put1_s}/${putn_s}/${get1_s}/${getn_s} s after a ${warm_s} s warm-up"
  echo "# synod transfers: $accounts accounts; batch $xb x 1 client, $xb x 8 clients, 1 x $many clients, 8190 x 4 clients; ${xfer_s} s each after a ${warm_s} s warm-up; every client closed loop, 1 request in flight"
  echo "# synod security: $([[ "$insecure" == 1 ]] && echo 'plaintext (INSECURE=1)' || echo 'CURVE (keys from synod keygen)')"
  if [[ "$skip_etcd" != 1 ]]; then
    echo "# etcd: $(etcd --version | head -1), 3 members on 127.0.0.1, default fsync; $etcd_peer/bench.sh 1 per repetition (16-byte keys, 256-byte values, key space 10000, 256 clients over 16 gRPC conns, counts with warm-up)"
  fi
} | tee "$out"

etcdload=""
if [[ "$skip_etcd" != 1 ]]; then
  etcdload="${ETCDLOAD:-$work/etcdload}"
  if [[ ! -x "$etcdload" ]]; then
    GOCACHE="$work/gocache" "$etcd_peer/build-etcdload.sh" "$etcdload" >"$work/build.log" 2>&1 \
      || { cat "$work/build.log" >&2; exit 1; }
  fi
fi

# --- the runs ------------------------------------------------------------------------------
for rep in $(seq 1 "$reps"); do
  say "## repetition $rep of $reps (load average $(cut -d' ' -f1 /proc/loadavg))"
  start_synod
  synod_step put-1       "$rep" kv-put   1       1    "$put1_s"
  synod_step put-many    "$rep" kv-put   "$many" 1    "$putn_s"
  synod_step get-1       "$rep" kv-get   1       1    "$get1_s" --skip-setup
  synod_step get-many    "$rep" kv-get   "$many" 1    "$getn_s" --skip-setup
  synod_step "xfer-${xb}x1" "$rep" transfer 1       "$xb" "$xfer_s"
  synod_step "xfer-${xb}x8" "$rep" transfer 8       "$xb" "$xfer_s"
  synod_step xfer-1x256     "$rep" transfer "$many" 1     "$xfer_s"
  synod_step xfer-8190x4    "$rep" transfer 4       8190  "$xfer_s"
  # Probe: is every request of 8,190 transfers (the batch issue 6 asks for) answered in 3 s?
  # Last, so that a dropped request cannot disturb the steps above. No warm-up, 3 s timeout.
  warm=0 acc_saved="$accounts" accounts=1000
  synod_step xfer-8190-probe "$rep" transfer 1 8190 3 --timeout-ms 3000
  warm=1 accounts="$acc_saved"
  stop_synod
  if [[ "$skip_etcd" != 1 ]]; then run_etcd "$rep"; fi
done

# --- the table of medians -----------------------------------------------------------------
{
  echo
  echo "Medians over $reps repetition(s) (each column's median taken separately; ops/s = ok-or-answered ops / wall time;"
  echo "latency per request; cpu-s = CPU seconds of the 3 cluster processes during the measured step; ratio = synod / etcd)"
  awk '
    function med(k,   n, i, j, t, a) { n = cnt[k]; if (n == 0) return -1
      for (i = 1; i <= n; i++) a[i] = val[k, i]
      for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
      return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
    function put(sys, name, key, v) { k = sys SUBSEP name SUBSEP key; val[k, ++cnt[k]] = v + 0 }
    function m(sys, name, key) { return med(sys SUBSEP name SUBSEP key) }
    function cell(v, fmt) { return v < 0 ? "-" : sprintf(fmt, v) }
    function ratio(a, b) { return (a < 0 || b <= 0) ? "-" : sprintf("%.2fx", a / b) }
    /^ROW/ { delete f; for (i = 2; i <= NF; i++) { p = index($i, "="); f[substr($i, 1, p-1)] = substr($i, p+1) }
      sys = f["system"]; name = f["name"]
      if (sys == "synod" && !(name in seen)) { seen[name] = 1; order[++no] = name; cl[name] = f["clients"]; ba[name] = f["batch"] }
      split("ops_per_s p50_ms p99_ms p999_ms cpu_s host_busy", ks, " ")
      for (i in ks) put(sys, name, ks[i], f[ks[i]]) }
    END {
      printf "%-15s %7s %5s | %11s %8s %8s %7s | %9s %7s %7s %7s | %8s %8s %8s\n", "workload", "clients", "batch",
        "synod ops/s", "p50 ms", "p99 ms", "cpu-s", "etcd op/s", "p50 ms", "p99 ms", "cpu-s", "ops/s x", "p50 x", "p99 x"
      for (o = 1; o <= no; o++) { n = order[o]
        so = m("synod", n, "ops_per_s"); eo = m("etcd", n, "ops_per_s")
        s5 = m("synod", n, "p50_ms"); e5 = m("etcd", n, "p50_ms"); s9 = m("synod", n, "p99_ms"); e9 = m("etcd", n, "p99_ms")
        printf "%-15s %7s %5s | %11s %8s %8s %7s | %9s %7s %7s %7s | %8s %8s %8s\n", n, cl[n], ba[n],
          cell(so, "%.0f"), cell(s5, "%.2f"), cell(s9, "%.2f"), cell(m("synod", n, "cpu_s"), "%.2f"),
          cell(eo, "%.0f"), cell(e5, "%.2f"), cell(e9, "%.2f"), cell(m("etcd", n, "cpu_s"), "%.2f"),
          ratio(so, eo), ratio(s5, e5), ratio(s9, e9) }
    }' "$rows"
  echo
  echo "Per-step lines (ROW ...) are above; total time $((SECONDS - t_start)) s; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$out"
echo "report written to $out" >&2
