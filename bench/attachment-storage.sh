#!/usr/bin/env bash
# How to store an attachment's bytes in Postgres: times inserting a 5 MB bytea into
#   extended  a bytea column with the default storage (EXTENDED: TOAST tries pglz first)
#   external  the same with STORAGE EXTERNAL (out of line, never compressed; what
#             job_attachments uses)
#   lo        a large object, lo_from_bytea(0, bytes), its oid in a table
# each insert its own autocommitted statement (a durable commit: the WAL is flushed),
# the three alternated in rounds (order rotated each round) so that a checkpoint or a
# slower minute of the VM falls on all of them. The bytes are random (incompressible,
# as a PDF's or PNG's compressed streams mostly are); `*-csv` rows repeat extended and
# external with 5 MB of CSV-like text (compressible) to show what pglz costs when it
# does compress.
#
#   bench/attachment-storage.sh PORT [INSERTS] [ROUNDS]   # Postgres on 127.0.0.1:PORT, user gate
#
# Run by `bench/run attachment-storage` against the bench's own (durable) Postgres.
# The 5 MB source rows are made inside Postgres, once; each insert copies one of them
# (`INSERT … SELECT`), so the time is the storing, not the client's upload or the
# parsing of a literal (the same for all three). Uses a database of its own, dropped at
# the end. Prints per-insert times (ms) and then a summary table.
set -euo pipefail
port=${1:?usage: attachment-storage.sh PORT [INSERTS] [ROUNDS]}
inserts=${2:-50}
rounds=${3:-5}
bytes=5000000
psql_bin=$(command -v psql || echo "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql")
db=attachment_storage
q() { "$psql_bin" -h 127.0.0.1 -p "$port" -U gate -v ON_ERROR_STOP=1 -qAtX "$@"; }

q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
times=$(mktemp)
trap 'rm -f "$times"; q -d postgres -c "DROP DATABASE IF EXISTS '"$db"'" >/dev/null 2>&1 || true' EXIT
q -d "$db" <<SQL
CREATE TABLE src (kind text PRIMARY KEY, b bytea);
ALTER TABLE src ALTER b SET STORAGE EXTERNAL;
-- 5 MB of md5 output: random to any compressor.
INSERT INTO src SELECT 'random', substring(decode(string_agg(md5(random()::text), ''), 'hex') FROM 1 FOR $bytes)
FROM generate_series(1, $bytes / 16 + 1);
-- 5 MB of invoice-like CSV lines: pglz compresses it.
INSERT INTO src SELECT 'csv', substring(convert_to(string_agg(
    format('%s,INV-%s,%s.%s,EUR,2026-%s-%s,"Ann Example %s",paid', g, 100000 + g, (g * 7919) % 100000, lpad((g % 100)::text, 2, '0'),
           lpad((g % 12 + 1)::text, 2, '0'), lpad((g % 28 + 1)::text, 2, '0'), g % 500), E'\n'), 'UTF8') FROM 1 FOR $bytes)
FROM generate_series(1, 120000) g;
CREATE TABLE t_extended (id bigserial PRIMARY KEY, content bytea NOT NULL);
CREATE TABLE t_external (id bigserial PRIMARY KEY, content bytea NOT NULL);
ALTER TABLE t_external ALTER content SET STORAGE EXTERNAL;
CREATE TABLE t_lo (id bigserial PRIMARY KEY, content oid NOT NULL);
CREATE TABLE t_extended_csv (LIKE t_extended INCLUDING ALL);
CREATE TABLE t_external_csv (LIKE t_external INCLUDING ALL);
ALTER TABLE t_external_csv ALTER content SET STORAGE EXTERNAL;
SQL
q -d "$db" -c "SELECT kind, length(b) FROM src ORDER BY kind" | sed 's/^/source: /'

statement() {  # statement KIND: one insert of KIND
    case $1 in
        extended) echo "INSERT INTO t_extended (content) SELECT b FROM src WHERE kind = 'random';" ;;
        external) echo "INSERT INTO t_external (content) SELECT b FROM src WHERE kind = 'random';" ;;
        lo) echo "INSERT INTO t_lo (content) SELECT lo_from_bytea(0, b) FROM src WHERE kind = 'random';" ;;
        extended-csv) echo "INSERT INTO t_extended_csv (content) SELECT b FROM src WHERE kind = 'csv';" ;;
        external-csv) echo "INSERT INTO t_external_csv (content) SELECT b FROM src WHERE kind = 'csv';" ;;
    esac
}
kinds=(extended external lo extended-csv external-csv)
per_round=$(( (inserts + rounds - 1) / rounds ))
q -d "$db" -c CHECKPOINT
wal_before=$(q -d "$db" -c "SELECT pg_current_wal_lsn()")
for round in $(seq 1 "$rounds"); do
    # Rotate the order each round.
    order=("${kinds[@]:$(( (round - 1) % ${#kinds[@]} ))}" "${kinds[@]:0:$(( (round - 1) % ${#kinds[@]} ))}")
    for kind in "${order[@]}"; do
        # One psql session per kind and round: \timing prints each statement's time
        # (sent, stored, committed and answered).
        { echo '\timing on'; for _ in $(seq 1 "$per_round"); do statement "$kind"; done; } \
            | "$psql_bin" -h 127.0.0.1 -p "$port" -U gate -d "$db" -v ON_ERROR_STOP=1 -qAtX \
            | awk -v k="$kind" -v r="$round" '/^Time: /{print k, r, $2}' >> "$times"
    done
done
wal_after=$(q -d "$db" -c "SELECT pg_current_wal_lsn()")
echo "per insert (kind round ms):"
cat "$times"
echo
echo "WAL written by all $(wc -l < "$times") inserts: $(q -d "$db" -c "SELECT pg_size_pretty(pg_wal_lsn_diff('$wal_after', '$wal_before'))")"
echo
echo "| storage | inserts | mean ms | p50 ms | p90 ms | max ms | on disk per file |"
echo "|---|---|---|---|---|---|---|"
for kind in "${kinds[@]}"; do
    case $kind in
        lo) size=$(q -d "$db" -c "SELECT pg_total_relation_size('pg_largeobject') / greatest(count(*), 1) FROM t_lo") ;;
        *) size=$(q -d "$db" -c "SELECT pg_total_relation_size('t_${kind//-/_}') / greatest(count(*), 1) FROM t_${kind//-/_}") ;;
    esac
    awk -v k="$kind" '$1 == k {print $3}' "$times" | sort -n | awk -v k="$kind" -v size="$size" '
        { v[NR] = $1; sum += $1 }
        END { printf "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.2f MB |\n", k, NR, sum / NR, v[int((NR + 1) / 2)],
              v[int(NR * 0.9 + 0.5)], v[NR], size / 1e6 }'
done
