#!/usr/bin/env bash
# A test flow for any language, with curl only: what a Go, Node or Java test suite does
# through its HTTP client, against `zitadel-mock serve` running as a background process (or a
# side container) in CI.
#
#   bash examples/ci-flow.sh            # zitadel-mock must be on PATH
#
# 1. check the scenario and start the server; 2. force an error; 3. call a route as the
# application would; 4. read the journal; 5. reset.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=fixtures/quickstart.yaml
alice=259242039378444291            # a user of the scenario
token=acme-admin-token              # and a token that may read her factors

zitadel-mock validate "$scenario"

work=$(mktemp -d)
zitadel-mock serve --scenario "$scenario" --port 0 --quiet >"$work/out" 2>"$work/err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

# The first line is "Serving on http://127.0.0.1:PORT" (--port 0: a free port).
url=
for _ in $(seq 300); do
  url=$(sed -n 's/^Serving on //p' "$work/out")
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the mock did not start" >&2; exit 1; }
curl -fsS "$url/_mock/health" >/dev/null   # what a readiness probe asks

# A namespace of our own: other jobs sharing this server see nothing of what we do.
ns=(-H "X-Mock-Namespace: ci-flow-$$")
json=(-H "Content-Type: application/json")

fail() { echo "FAILED: $*" >&2; exit 1; }
expect() { # expect WANTED GOT WHAT
  [ "$1" = "$2" ] || fail "$3: expected $1, got $2"
  echo "ok: $3 ($2)"
}

# 2. The next ListHumanAuthFactors call fails with UNAVAILABLE, once.
curl -fsS "${ns[@]}" "${json[@]}" -X POST "$url/_mock/errors" \
  -d '{"rpc": "ListHumanAuthFactors", "code": "UNAVAILABLE", "message": "upstream down", "times": 1}' \
  >/dev/null

# 3. Call the route as the application would: 503 once, then alice's factors.
call() {
  curl -sS -o "$work/answer" -w '%{http_code}' "${ns[@]}" -X POST \
    -H "Authorization: Bearer $token" "$url/management/v1/users/$alice/auth_factors/_search"
}
expect 503 "$(call)" "a forced error"
grep -q '"message":"upstream down"' "$work/answer" || fail "the forced message: $(cat "$work/answer")"
expect 200 "$(call)" "then the real answer"
grep -q '"otp":{}' "$work/answer" || fail "alice's factors: $(cat "$work/answer")"

# 4. Read the journal: what the application asked, and what it was answered.
count() { curl -fsS "${ns[@]}" "$url/_mock/journal/count?$1" | tr -d ' \n'; }
expect '{"count":2}' "$(count "rpc=ListHumanAuthFactors&user=alice")" "calls for alice"
expect '{"count":1}' "$(count "status=503")" "calls answered 503"
curl -fsS "${ns[@]}" "$url/_mock/journal?status=503" | grep -q '"forced": true' \
  || fail "the journal marks the forced answer"

# 5. Reset between tests: no forced error, no journal entry left.
curl -fsS "${ns[@]}" -X POST "$url/_mock/reset" >/dev/null
expect '{"count":0}' "$(count "")" "the journal after a reset"
expect '{"errors":[]}' "$(curl -fsS "${ns[@]}" "$url/_mock/errors" | tr -d ' \n')" "forced errors after a reset"

echo "ci-flow: all steps passed"
