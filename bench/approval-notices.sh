#!/usr/bin/env bash
# What the approval notices (issue 27; the `notice` CTE of the gated submission's
# statement, JobStore.swift `requestedNotice`, migration 0024) cost a batch of gated
# submissions, straight against Postgres: pgbench with the batch statement (8 jobs per
# statement, as JobInsertBatcher writes them) in three variants:
#   before  submission-gated-batch-before-notices.sql: the statement without the CTE;
#   probe   submission-gated-batch.sql, workspace 'bench' without reviewers: the CTE
#           only probes `reviewers` (callback_url is NULL in the script);
#   notify  the same with one reviewer (notify = true): every approval writes a notice.
# Each round runs all three, the starting variant rotated from round to round, so that a
# slow minute of the VM or a position effect falls on each. Prints per run jobs/s, WAL
# and Postgres CPU per job and the machine's load; then per variant the median jobs/s,
# WAL/job and CPU/job, and the cost of probe and notify against before in percent.
#
#   bench/approval-notices.sh              # 3 rounds, 20 s per run, 8 clients, 2 threads
#   ROUNDS=5 DURATION=30 QUIET_WAIT=900 bench/approval-notices.sh
#
# Its own durable Postgres (initdb defaults, as bench/run) on a free loopback port,
# stopped and removed on exit. Not HTTP, no gate-api binary: migrations applied by psql.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/lib.sh

rounds=${ROUNDS:-3} duration=${DURATION:-20} clients=${CLIENTS:-8} threads=${THREADS:-2}
quiet_wait=${QUIET_WAIT:-600}
# A run during which other processes took >= DISTURBED % of the machine is measured
# again (up to REDO times, after waiting for quiet again) and left out of the medians.
disturbed=${DISTURBED:-5} redo=${REDO:-1}
bin=$(pg_bindir) || die "PostgreSQL server binaries not found (apt-get install postgresql)"
pgbench=$(command -v pgbench || echo "$bin/pgbench")
psql_bin=$(command -v psql || echo "$bin/psql")
hz=$(getconf CLK_TCK)

work=$(mktemp -d "${TMPDIR:-/tmp}/approval-notices.XXXXXX")
chmod 755 "$work"  # as root the cluster belongs to `postgres`, which must reach it
pgbench_pid=
cleanup() {
    # Only the pgbench this script started (an interrupted run), then its Postgres.
    [ -n "$pgbench_pid" ] && kill "$pgbench_pid" 2>/dev/null && wait "$pgbench_pid" 2>/dev/null
    stop_postgres "$work/pg"; rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
log "starting postgres (durable settings) on 127.0.0.1:$port"
start_postgres "$work/pg" "$port"
psql() { "$psql_bin" -h 127.0.0.1 -p "$port" -U gate -v ON_ERROR_STOP=1 -qAtX "$@"; }
# The migrated schema is a template: every run gets a fresh copy of it, so no run
# pays for the rows (bigger indexes, autovacuum) that the runs before it left.
psql -d postgres -c "CREATE DATABASE tmpl"
# Each file in one transaction, as `gate-api migrate` applies them (Migrator.swift),
# which creates schema_migrations first: 0016 grants on it.
psql -d tmpl -c "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
for f in $(ls "$root"/migrations/*.sql | sort); do psql -d tmpl -1 -f "$f" >/dev/null; done
# All the scripts need: the workspace their jobs belong to (no policy or key is read).
psql -d tmpl -c "INSERT INTO workspaces (id, name) VALUES ('bench', 'Bench')"

variants=(before probe notify)
declare -A script=(
    [before]=$root/bench/submission-gated-batch-before-notices.sql
    [probe]=$root/bench/submission-gated-batch.sql
    [notify]=$root/bench/submission-gated-batch.sql
)

median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }
# Clock ticks: the machine's busy, total and steal; then Postgres's (backends that
# exited are in the postmaster's cutime once reaped) and this shell's reaped children's
# (pgbench), so that "other" = everything else on the machine.
cpu() {
    local main; main=$(head -n 1 "$work/pg/postmaster.pid")
    awk '/^cpu /{printf "%d %d %d ", $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9}' /proc/stat
    for p in "$main" $(pgrep -P "$main"); do cut -d')' -f2- "/proc/$p/stat" 2>/dev/null; done | awk '{t += $12 + $13 + $14 + $15} END {printf "%d ", t}'
    cut -d')' -f2- "/proc/${1:-$BASHPID}/stat" | awk '{print $14 + $15}'
}
# Another build or benchmark on this 2-core VM moves the numbers by tens of percent:
# before each run, wait (up to QUIET_WAIT s) until everything but this Postgres (whose
# autovacuum may still be busy with the last run) takes < 15 % of the machine.
wait_quiet() {
    local deadline=$((SECONDS + quiet_wait)) a b pct
    while :; do
        read -r -a a < <(cpu); sleep 5; read -r -a b < <(cpu)
        pct=$(( (b[0] - a[0] - b[3] + a[3]) * 100 / (b[1] - a[1]) ))
        (( pct < 15 )) && return 0
        (( SECONDS >= deadline )) && { log "machine still busy ($pct %); measuring anyway (see other %)"; return 0; }
        log "others use $pct % of the machine: waiting"
    done
}

# run VARIANT: writes $work/run.out (pgbench's output) and sets `res` to
# "approvals notices wal_bytes busy% steal% other% pg_ticks".
run() {
    local variant=$1 a b lsn me=$BASHPID
    wait_quiet
    psql -d postgres -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench TEMPLATE tmpl"
    [ "$variant" = notify ] &&
        psql -d bench -c "INSERT INTO reviewers (workspace_id, person, email) VALUES ('bench','rita','rita@example.com')"
    # Every run starts just after a checkpoint: the same full-page writes in each.
    psql -d bench -c CHECKPOINT
    lsn=$(psql -d bench -c "SELECT pg_current_wal_lsn()"); read -r -a a < <(cpu "$me")
    # In the background, so that an interrupt reaches the trap at once (cleanup kills it).
    "$pgbench" -h 127.0.0.1 -p "$port" -U gate -n -M prepared -c "$clients" -j "$threads" \
        -T "$duration" -D n=8 -f "${script[$variant]}" bench >"$work/run.out" 2>&1 &
    pgbench_pid=$!
    wait "$pgbench_pid" || { pgbench_pid=; cat "$work/run.out" >&2; die "pgbench failed"; }
    pgbench_pid=
    sleep 0.5  # the backends' exit and reaping, so that their CPU is counted
    read -r -a b < <(cpu "$me")
    res="$(psql -d bench -F ' ' -c "SELECT (SELECT count(*) FROM approvals), (SELECT count(*) FROM approval_notices),
        pg_current_wal_lsn() - '$lsn'::pg_lsn") $(awk -v b=$((b[0] - a[0])) -v t=$((b[1] - a[1])) -v s=$((b[2] - a[2])) \
        -v o=$((b[0] - a[0] - b[3] + a[3] - b[4] + a[4])) 'BEGIN{printf "%.0f %.0f %.0f", 100*b/t, 100*s/t, 100*o/t}') $((b[3] - a[3]))"
}

echo "# $("$bin/postgres" --version); $(nproc) CPUs; pgbench -M prepared -D n=8 -c $clients -j $threads -T $duration; $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
# Unmeasured warm-up: in earlier sessions the first run of a fresh cluster came out
# 2-2.5x slower than later ones (suspected: WAL segment files still being created).
run notify
for v in "${variants[@]}"; do : > "$work/$v.jobs"; : > "$work/$v.wal"; : > "$work/$v.cpu"; done
ndisturbed=0
for r in $(seq 1 "$rounds"); do
    for i in 0 1 2; do
        v=${variants[$(( (r - 1 + i) % 3 ))]}
        for attempt in $(seq 0 "$redo"); do
            run "$v"
            read -r -a st <<<"$res"
            tps=$(awk '/^tps = /{print $3; exit}' "$work/run.out")
            failed=$(awk -F': ' '/^number of failed transactions/{print $2; exit}' "$work/run.out")
            jobs=$(awk -v t="$tps" 'BEGIN{printf "%.0f", t * 8}')
            wal=$(awk -v w="${st[2]}" -v n="${st[0]}" 'BEGIN{printf "%.0f", w / n}')
            cpu_us=$(awk -v p="${st[6]}" -v n="${st[0]}" -v hz="$hz" 'BEGIN{printf "%.0f", p * 1e6 / hz / n}')
            mark=ok; (( st[5] >= disturbed )) && mark=DISTURBED
            # notices = approvals when notify, 0 otherwise: shows which statement ran.
            printf '%-6s round %d  tps %6.1f  jobs/s %5s  approvals %6d  notices %6d  WAL/job %5s B  pg CPU/job %4s us  busy %3s %%  steal %2s %%  other %3s %%  failed %s  %s\n' \
                "$v" "$r" "$tps" "$jobs" "${st[0]}" "${st[1]}" "$wal" "$cpu_us" "${st[3]}" "${st[4]}" "${st[5]}" "${failed:-?}" "$mark"
            if [ $mark = ok ] || (( attempt == redo )); then
                [ $mark = ok ] || ndisturbed=$((ndisturbed + 1))
                echo "$jobs" >> "$work/$v.jobs"; echo "$wal" >> "$work/$v.wal"; echo "$cpu_us" >> "$work/$v.cpu"
                break
            fi
            log "$v round $r disturbed (other ${st[5]} %): measuring it again"
        done
    done
done
echo
base=$(median < "$work/before.jobs") base_cpu=$(median < "$work/before.cpu")
for v in "${variants[@]}"; do
    m=$(median < "$work/$v.jobs") c=$(median < "$work/$v.cpu")
    printf '%-6s median jobs/s %5s (%s)  WAL/job %s B (%s)  pg CPU/job %s us (%s)' "$v" "$m" "$(paste -sd/ "$work/$v.jobs")" \
        "$(median < "$work/$v.wal")" "$(paste -sd/ "$work/$v.wal")" "$c" "$(paste -sd/ "$work/$v.cpu")"
    # Cost = throughput lost against before (positive: slower); CPU: extra Postgres CPU per job.
    [ "$v" = before ] || awk -v a="$base" -v b="$m" -v ca="$base_cpu" -v cb="$c" \
        'BEGIN{printf "  cost %.1f %% jobs/s, %+.1f %% CPU/job", (a - b) * 100 / a, (cb - ca) * 100 / ca}'
    echo
done
(( ndisturbed == 0 )) || echo "WARNING: $ndisturbed counted run(s) disturbed (other >= $disturbed % after $redo redo): the numbers are not reliable"
