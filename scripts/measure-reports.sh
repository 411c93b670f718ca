#!/usr/bin/env bash
# Times the report endpoints of the API on a running server with one API token: each report is
# fetched once to warm it, then five times, and the median of curl's time_total (server time
# plus a loopback round trip) is printed with the five runs. See docs/BENCHMARKS.md.
#
# Usage: scripts/measure-reports.sh BASE_URL TOKEN
#   e.g. scripts/measure-reports.sh http://127.0.0.1:8080 "$TOKEN"
set -euo pipefail
base=$1 token=$2

for path in "leads?group_by=source" "leads?group_by=campaign" "leads?group_by=owner" \
  "leads?group_by=team" "leads?group_by=status" "leads?group_by=period&period=week" \
  funnel speed-to-lead activities channels targets sales-cycle lost-reasons \
  disqualify-reasons; do
  url="$base/api/v1/reports/$path"
  status=$(curl -s -H "Authorization: Bearer $token" -o /dev/null -w '%{http_code}' "$url")
  runs=$(for _ in 1 2 3 4 5; do
    curl -s -H "Authorization: Bearer $token" -o /dev/null -w '%{time_total}\n' "$url"
  done | sort -n | tr '\n' ' ')
  median=$(echo "$runs" | awk '{printf "%.1f", $3 * 1000}')
  printf '%-40s %s  median %7s ms  (s: %s)\n' "/api/v1/reports/$path" "$status" "$median" "$runs"
done
