# Sourced by scripts/dev and scripts/cli: the development settings (local databases from
# scripts/services, a development-only master secret under .data/). Expects to run in the repo root.

# $1: the pid of a process that holds the databases while it runs (npm run dev: `scripts/services
# release` it when it stops; the last holder's release stops what holders started). `--use PID`
# (npm run cli): PID holds them too — npm run dev's Ctrl-C meanwhile leaves them running under the
# command — but what this call starts keeps running until `bash scripts/services down`. Without
# either, nobody holds them (what this call starts keeps running too).
gatehouse_dev_env() {
  export GATEHOUSE_DEV_DATA="${GATEHOUSE_DEV_DATA:-$PWD/.data}"
  export GATEHOUSE_SERVICES_DIR="${GATEHOUSE_SERVICES_DIR:-$GATEHOUSE_DEV_DATA/services}"
  mkdir -p "$GATEHOUSE_DEV_DATA"
  local lines GATEHOUSE_SERVICES_STARTED=''
  if [[ "${1:-}" == --use ]]; then
    # Started by a plain `up` (not marked as holders' to stop), then held: a second `up` finds them
    # running, starts nothing and only records PID as a holder.
    lines="$(bash scripts/services up)"
    bash scripts/services up --hold "$2" >/dev/null
  elif [[ -n "${1:-}" ]]; then lines="$(bash scripts/services up --hold "$1")"
  else lines="$(bash scripts/services up)"
  fi
  set -a; eval "$lines"; set +a
  # Which local databases this call started (the rest were running already or are external): what
  # `up` itself did, under its lock, not a `status` taken before another terminal's `up` finished.
  GATEHOUSE_DEV_STARTED="$GATEHOUSE_SERVICES_STARTED"

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
