# Sourced by scripts/dev and scripts/cli: the development settings (local databases from
# scripts/services, a development-only master secret under .data/). Expects to run in the repo root.

gatehouse_dev_env() {
  export GATEHOUSE_DEV_DATA="${GATEHOUSE_DEV_DATA:-$PWD/.data}"
  export GATEHOUSE_SERVICES_DIR="${GATEHOUSE_SERVICES_DIR:-$GATEHOUSE_DEV_DATA/services}"
  mkdir -p "$GATEHOUSE_DEV_DATA"
  # Which local databases this call starts (the rest were running already or are external).
  local before lines
  before="$(bash scripts/services status)"
  GATEHOUSE_DEV_STARTED=''
  [[ -n "${MONGODB_URI:-}" ]] || grep -q '^mongo: running' <<<"$before" || GATEHOUSE_DEV_STARTED+=' mongo'
  [[ -n "${REDIS_URL:-}" ]] || grep -q '^redis: running' <<<"$before" || GATEHOUSE_DEV_STARTED+=' redis'
  lines="$(bash scripts/services up)"
  set -a; eval "$lines"; set +a

  # A development-only master secret, made once and kept with the dev data (git-ignored).
  local secret="$GATEHOUSE_DEV_DATA/dev-secret"
  if [[ ! -s "$secret" ]]; then
    (umask 077; node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' >"$secret")
  fi

  export NODE_ENV=development
  export PORT="${PORT:-3000}"
  export GATEHOUSE_ISSUER="${GATEHOUSE_ISSUER:-http://localhost:$PORT}"
  export GATEHOUSE_SECRET_FILE="$secret"
  export GATEHOUSE_LOG_LEVEL="${GATEHOUSE_LOG_LEVEL:-info}"
  export GATEHOUSE_REFRESH_REUSE_WINDOW="${GATEHOUSE_REFRESH_REUSE_WINDOW:-10}"
}

# What `npm run cli` in a second terminal learns of a running `npm run dev` (scripts/cli reads it
# while the pid $1 lives): its port, issuer and Keycloak realm, so the CLI's settings are that
# server's — `GATEHOUSE_KEYCLOAK_REALM=acme npm run dev` has the issuer <issuer>/realms/acme, and a
# CLI without the realm would take <issuer> for it (doctor: "these settings are for …").
gatehouse_dev_server_env() {
  printf 'GATEHOUSE_DEV_SERVER_PID=%q\nPORT=%q\nGATEHOUSE_ISSUER=%q\nGATEHOUSE_DEV_SERVER_REALM=%q\n' \
    "$1" "$PORT" "$GATEHOUSE_ISSUER" "${GATEHOUSE_KEYCLOAK_REALM:-}"
}
