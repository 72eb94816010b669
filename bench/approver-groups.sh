#!/usr/bin/env bash
# What a vote on an approval with approver groups (issue 27; VoteOnApproval,
# ReviewerDirectoryStore.standings) reads beyond any other vote: one more statement,
# the voter's standings (their groups and the delegations to them), on a directory of
# DIRECTORY reviewers of whom a tenth delegate. pgbench, straight against Postgres, two
# read scripts alternated round by round (a vote's writes are the same but for the
# standings' ~100 bytes of jsonb):
#   plain    the ballot statement every vote reads (ApprovalStore.stateQuery);
#   grouped  the same, then the standings statement.
# Prints per run transactions/s, then per script the median and the cost of grouped.
#
#   bench/approver-groups.sh                 # 3 rounds, 15 s per run, 8 clients
#   ROUNDS=5 DURATION=30 DIRECTORY=20000 bench/approver-groups.sh
#
# Its own Postgres (initdb defaults, as bench/run) on a free loopback port, removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/lib.sh

rounds=${ROUNDS:-3} duration=${DURATION:-15} clients=${CLIENTS:-8} threads=${THREADS:-2} directory=${DIRECTORY:-2000}
bin=$(pg_bindir) || die "PostgreSQL server binaries not found (apt-get install postgresql)"
pgbench=$(command -v pgbench || echo "$bin/pgbench")
psql_bin=$(command -v psql || echo "$bin/psql")

work=$(mktemp -d "${TMPDIR:-/tmp}/approver-groups.XXXXXX")
chmod 755 "$work"  # as root the cluster belongs to `postgres`, which must reach it
cleanup() { stop_postgres "$work/pg"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(free_port)
log "starting postgres on 127.0.0.1:$port"
start_postgres "$work/pg" "$port"
psql() { "$psql_bin" -h 127.0.0.1 -p "$port" -U gate -v ON_ERROR_STOP=1 -qAtX "$@"; }
psql -d postgres -c "CREATE DATABASE bench"
psql -d bench -c "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, name text NOT NULL,
    checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
for f in $(ls "$root"/migrations/*.sql | sort); do psql -d bench -1 -f "$f" >/dev/null; done
# One pending approval with rules and three votes; the directory, every tenth person
# delegating to the next one for a day.
psql -d bench <<SQL
INSERT INTO workspaces (id, name) VALUES ('bench', 'Bench');
INSERT INTO jobs (id, workspace_id, action, params, payload_hash, status, idempotency_key, submitted_by_type, submitted_by)
VALUES ('job_1', 'bench', 'gmail.send', '{}', repeat('a', 64), 'pending_approval', 'k1', 'api_key', 'key1');
INSERT INTO approvals (id, workspace_id, job_id, action, status, payload_hash, required_approvals, expires_at, approver_rules)
VALUES ('apr_1', 'bench', 'job_1', 'gmail.send', 'pending', repeat('a', 64), 4, now() + interval '1 day',
        '[{"group":"finance","count":2},{"group":"security","count":2}]');
INSERT INTO approval_votes (approval_id, reviewer, reviewer_person, decision, standings)
SELECT 'apr_1', 'user:p' || i, 'p' || i, 'approve', ('[{"person":"p' || i || '","groups":["finance"],"delegated":false}]')::jsonb
FROM generate_series(1, 3) AS i;
INSERT INTO reviewers (workspace_id, person, email, groups, delegate, delegate_from, delegate_until)
SELECT 'bench', 'p' || i, 'p' || i || '@example.com', ARRAY[CASE WHEN i % 2 = 0 THEN 'finance' ELSE 'security' END],
       CASE WHEN i % 10 = 0 THEN 'p' || (i + 1) END, CASE WHEN i % 10 = 0 THEN now() END,
       CASE WHEN i % 10 = 0 THEN now() + interval '1 day' END
FROM generate_series(1, $directory) AS i;
VACUUM ANALYZE;
SQL
# The statements as the server sends them (ApprovalStore.stateQuery, ReviewerDirectoryStore.standings).
ballot="SELECT a.id, a.workspace_id, a.job_id, a.action, a.status, a.payload_hash, a.required_approvals, a.expires_at,
       a.created_at, a.decided_at, a.reason, a.reason_code, a.approver_rules::text,
       j.submitted_by_type || ':' || j.submitted_by, j.acts_for, clock_timestamp(), a.version,
       v.reviewer, v.reviewer_person, v.decision, v.comment, v.payload_hash_seen, v.created_at,
       coalesce(k.creator_chain, '{}'), v.standings::text
FROM approvals a JOIN jobs j ON j.id = a.job_id
LEFT JOIN api_keys k ON j.submitted_by_type = 'api_key' AND k.id = j.submitted_by
LEFT JOIN approval_votes v ON v.approval_id = a.id
WHERE a.workspace_id = 'bench' AND a.id = 'apr_1'
ORDER BY v.created_at;"
standings="\\set voter random(1, $directory)
SELECT person, groups FROM reviewers
WHERE workspace_id = 'bench'
  AND (person = 'p' || :voter OR (delegate = 'p' || :voter AND delegate_from <= now() AND delegate_until > now()))
ORDER BY person <> 'p' || :voter, person;"
printf '%s\n' "$ballot" > "$work/plain.sql"
printf '%s\n%s\n' "$standings" "$ballot" > "$work/grouped.sql"

run() {  # prints transactions per second
    "$pgbench" -h 127.0.0.1 -p "$port" -U gate -n -M prepared -c "$clients" -j "$threads" -T "$duration" \
        -f "$work/$1.sql" bench 2>&1 | awk '/^tps = /{printf "%.0f\n", $3}'
}
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }

echo "# $("$bin/postgres" --version); $(nproc) CPUs; pgbench -M prepared -c $clients -j $threads -T $duration; directory $directory; $rounds rounds"
run plain >/dev/null  # warm-up
: > "$work/plain.tps"; : > "$work/grouped.tps"
for round in $(seq 1 "$rounds"); do
    order=(plain grouped); (( round % 2 == 0 )) && order=(grouped plain)
    for v in "${order[@]}"; do
        tps=$(run "$v"); echo "$tps" >> "$work/$v.tps"
        echo "round $round  $v  $tps tps  (load $(cut -d' ' -f1 /proc/loadavg))"
    done
done
plain=$(median < "$work/plain.tps"); grouped=$(median < "$work/grouped.tps")
echo "median: plain $plain tps, grouped $grouped tps; a grouped vote's reads take $(awk -v p="$plain" -v g="$grouped" 'BEGIN{printf "%+.0f", 100*(p/g - 1)}') % longer"
