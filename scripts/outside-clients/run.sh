#!/usr/bin/env bash
# Runs Gatehouse's outside checks: the production build against real FerretDB + Redis, checked by
# relying-party libraries nobody here wrote. Not part of `npm test`. See README.md beside this.
#
#   bash scripts/outside-clients/run.sh [js] [python] [go] [java]    (default: all four)
#
# Needs `npm run build` first. Dependencies are fetched by each ecosystem's own client into
# git-ignored places (js/node_modules, python/.venv, the Go module cache, ~/.m2 + java/target).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LANGS=("$@")
[[ ${#LANGS[@]} -gt 0 ]] || LANGS=(js python go java)
[[ -f "$ROOT/dist/main.js" ]] || { echo "run \`npm run build\` first" >&2; exit 2; }

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

WORK="$(mktemp -d)"
SERVER_PID=""
HOLDING=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [[ -n "$HOLDING" ]] && bash "$ROOT/scripts/services" release $$ >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Services: MONGODB_URI / REDIS_URL when given (scripts/services neither starts nor stops those),
# else local FerretDB + Redis, held by this run while it goes (`up --hold $$`, as npm run dev
# does): its end stops what it started unless an npm run dev still uses it, an npm run dev's
# Ctrl-C meanwhile leaves them running under the run, and what ran before it keeps running.
GIVEN_MONGODB_URI="${MONGODB_URI:-}"
HOLDING=1
SERVICES="$(bash "$ROOT/scripts/services" up --hold $$)"
eval "$(sed 's/^/export /' <<<"$SERVICES")"
if [[ -z "$GIVEN_MONGODB_URI" ]]; then
  # A database of its own: a fresh GATEHOUSE_SECRET cannot read keys another run stored.
  MONGODB_URI="${MONGODB_URI%/*}/outside_$(openssl rand -hex 4)"
fi

PORT="$(free_port)"
export NODE_ENV=production HOST=127.0.0.1 PORT GATEHOUSE_ISSUER="http://127.0.0.1:$PORT"
export GATEHOUSE_SECRET="${GATEHOUSE_SECRET:-$(openssl rand -hex 32)}" GATEHOUSE_LOG_LEVEL="${GATEHOUSE_LOG_LEVEL:-info}"
node --expose-gc "$ROOT/dist/main.js" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null "$GATEHOUSE_ISSUER/.well-known/openid-configuration" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done

# One API, one confidential client, one user — created with the CLI, as an operator would.
cli() { node "$ROOT/dist/cli/main.js" "$@"; }
SUFFIX="$(openssl rand -hex 4)"
export GH_ISSUER="$GATEHOUSE_ISSUER" GH_API="https://api-$SUFFIX.outside.test" GH_REDIRECT_URI="http://127.0.0.1:$(free_port)/cb"
export GH_USERNAME="outsider-$SUFFIX" GH_PASSWORD="$(openssl rand -hex 12)"
cli apis create --identifier "$GH_API" --scope "read write" --json >/dev/null
cli clients create --name "outside-$SUFFIX" --type confidential --redirect-uri "$GH_REDIRECT_URI" \
  --grant-type authorization_code --grant-type refresh_token --grant-type client_credentials \
  --api "$GH_API" --default-api "$GH_API" --scope "openid profile email offline_access" --json >"$WORK/client.json"
GH_CLIENT_ID="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).client_id)' "$WORK/client.json")"
GH_CLIENT_SECRET="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).client_secret)' "$WORK/client.json")"
export GH_CLIENT_ID GH_CLIENT_SECRET
# A second client that may exchange that client's users' tokens for the API (RFC 8693), and an
# admin client (the operator's admin API) — the token exchange checks (js) use both.
field() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' "$1" "$2"; }
cli clients create --name "exchanger-$SUFFIX" --type confidential --grant-type client_credentials \
  --api "$GH_API" --exchange-api "$GH_API" --exchange-trust "$GH_CLIENT_ID" --json >"$WORK/exchanger.json"
cli clients create --name "operator-$SUFFIX" --admin --json >"$WORK/admin.json"
GH_EXCHANGER_ID="$(field "$WORK/exchanger.json" client_id)" GH_EXCHANGER_SECRET="$(field "$WORK/exchanger.json" client_secret)"
GH_ADMIN_ID="$(field "$WORK/admin.json" client_id)" GH_ADMIN_SECRET="$(field "$WORK/admin.json" client_secret)"
export GH_EXCHANGER_ID GH_EXCHANGER_SECRET GH_ADMIN_ID GH_ADMIN_SECRET
printf '%s' "$GH_PASSWORD" | cli users create --username "$GH_USERNAME" --email "$GH_USERNAME@example.test" --name "Out Sider" --password-stdin --json >/dev/null

STATUS=0
for lang in "${LANGS[@]}"; do
  echo "== $lang"
  case "$lang" in
    js) (cd "$HERE/js" && npm install --no-audit --no-fund --silent && node check.mjs) || STATUS=1 ;;
    python) (cd "$HERE/python" && { [[ -x .venv/bin/python ]] || python3 -m venv .venv; } && .venv/bin/pip install -q -r requirements.txt \
               && .venv/bin/python -W ignore::DeprecationWarning check.py) || STATUS=1 ;;
    go) (cd "$HERE/go" && go run .) || STATUS=1 ;;
    java) (cd "$HERE/java" && mvn -q compile exec:java -Dsignin=../signin.mjs) || STATUS=1 ;;
    *) echo "unknown: $lang (js, python, go, java)" >&2; STATUS=1 ;;
  esac
done
# Gatehouse logs its level by name ("level":"error"); pino's numbers (50, 60) too, should that change.
ERRORS='"level":("error"|"fatal"|50|60)[,}]'
if grep -qE "$ERRORS" "$WORK/server.log"; then echo "server logged errors:" >&2; grep -E "$ERRORS" "$WORK/server.log" >&2; STATUS=1; fi
# No 5xx answered to any of the libraries (each request is logged with its status at info).
if grep -qE '"status":5[0-9][0-9][,}]' "$WORK/server.log"; then echo "server answered 5xx:" >&2; grep -E '"status":5[0-9][0-9][,}]' "$WORK/server.log" >&2; STATUS=1; fi
# No secret of the run in the server's log: the clients' secrets and the user's password (named, never printed).
for name in GH_CLIENT_SECRET GH_EXCHANGER_SECRET GH_ADMIN_SECRET GH_PASSWORD; do
  if grep -qF -- "${!name}" "$WORK/server.log"; then echo "server log holds $name" >&2; STATUS=1; fi
done
# No token or code of any kind either: a JWT (header.payload), or a token, code, assertion or
# password parameter with its value (the values themselves are the libraries', not known here).
TOKENISH='eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|(code|token|access_token|refresh_token|id_token|subject_token|device_code|user_code|client_assertion|client_secret|password)[=":]+ *"?[A-Za-z0-9_~.+/-]{16,}'
if grep -qE "$TOKENISH" "$WORK/server.log"; then echo "server log holds a token, code or secret:" >&2; grep -noE "$TOKENISH" "$WORK/server.log" | cut -c1-24 | sed 's/$/…/' >&2; STATUS=1; fi
# OUTSIDE_KEEP_LOG=<file>: keep a copy of the server's log (for the conformance record).
[[ -n "${OUTSIDE_KEEP_LOG:-}" ]] && cp "$WORK/server.log" "$OUTSIDE_KEEP_LOG"
echo "server log: $(wc -l <"$WORK/server.log") lines at GATEHOUSE_LOG_LEVEL=$GATEHOUSE_LOG_LEVEL; no 5xx, error or secret unless said above"
exit "$STATUS"
