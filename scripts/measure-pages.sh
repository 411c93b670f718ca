#!/usr/bin/env bash
# Times the main pages of the web UI on a running server, as one signed-in user: each page is
# fetched once to warm it, then five times, and the median of curl's time_total (server time
# plus a loopback round trip) is printed with the five runs. See docs/BENCHMARKS.md.
#
# Usage: scripts/measure-pages.sh BASE_URL USERNAME PASSWORD LEAD_ID
#   e.g. scripts/measure-pages.sh http://127.0.0.1:8080 rep01 demo12345 12345
set -euo pipefail
base=$1 user=$2 password=$3 lead=$4
jar=$(mktemp)
page=$(mktemp)
trap 'rm -f "$jar" "$page"' EXIT

curl -s -c "$jar" -b "$jar" -o "$page" "$base/login"
csrf=$(grep -o 'name="csrf_token" value="[^"]*"' "$page" | head -1 | sed 's/.*value="//; s/"$//')
curl -s -c "$jar" -b "$jar" -o /dev/null -w "sign-in as $user: %{http_code}\n" \
  --data-urlencode "username=$user" --data-urlencode "password=$password" \
  --data-urlencode "csrf_token=$csrf" "$base/login"

for path in /leads "/leads?view=mine" "/leads?view=today" "/leads?view=due" \
  "/leads?view=overdue" "/leads/$lead" /today /board /pool /reports "/reports?report=funnel" \
  "/reports?report=speed-to-lead" "/reports?report=activities" "/reports?report=forecast" \
  "/reports?report=lost-reasons" /accounts /dashboard; do
  status=$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' "$base$path")
  runs=$(for _ in 1 2 3 4 5; do
    curl -s -b "$jar" -o /dev/null -w '%{time_total}\n' "$base$path"
  done | sort -n | tr '\n' ' ')
  median=$(echo "$runs" | awk '{printf "%.1f", $3 * 1000}')
  printf '%-32s %s  median %7s ms  (s: %s)\n' "$path" "$status" "$median" "$runs"
done
