#!/usr/bin/env bash
# Measures what the reports' summary triggers cost writers on PostgreSQL, with pgbench: 8
# connections for 15 s each of a bare insert of a lead, an insert in a transaction that goes on
# for 5 ms (as the server's does), and status changes both ways among 200 leads of the same day,
# source and owner (ids from 100001, added first). All leads share one day, source and status:
# the worst case for a shared summary row. See docs/BENCHMARKS.md.
#
# Usage: scripts/measure-summary-triggers.sh DATABASE   (a migrated Xiansuo database to spoil)
set -euo pipefail
db=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
lead="INSERT INTO leads (name, source, status, created_at, updated_at) VALUES ('客户', 'web_form', 'new', 1796000000000, 1796000000000);"
echo "$lead" > "$dir/insert.sql"
printf 'BEGIN;\n%s\nSELECT pg_sleep(0.005);\nCOMMIT;\n' "$lead" > "$dir/insert-5ms.sql"
cat > "$dir/flip.sql" <<'SQL'
\set id random(1, 200)
\set s random(0, 1)
UPDATE leads SET status = CASE WHEN :s = 0 THEN 'working' ELSE 'qualified' END WHERE id = 100000 + :id;
SQL
psql -h 127.0.0.1 -U postgres -d "$db" -qc "INSERT INTO leads (id, name, source, status, created_at, updated_at) \
  SELECT 100000 + g, '客户', 'web_form', CASE WHEN g % 2 = 0 THEN 'working' ELSE 'qualified' END, \
  1796000000000, 1796000000000 FROM generate_series(1, 200) g ON CONFLICT DO NOTHING"
for script in insert insert-5ms flip; do
  echo "== $script"
  pgbench -h 127.0.0.1 -U postgres -n -c 8 -j 2 -T 15 -f "$dir/$script.sql" "$db" 2>&1 \
    | grep -E "tps|latency average|failed"
done
