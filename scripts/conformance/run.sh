#!/usr/bin/env bash
# Runs the OpenID Foundation conformance suite's OP test plans against a Gatehouse production
# build. Run it with a Gatehouse checkout as the current directory:
#
#   cd GATEHOUSE_CHECKOUT && CS_REPO=<conformance-suite git dir or URL> JAVA_HOME=<JDK 21+> \
#     bash scripts/conformance/run.sh [config] [basic] [logout] [basic-dynamic]
#   (default: config basic logout; basic-dynamic = the basic plan with client_registration=dynamic_client,
#    the suite registering its clients at /reg with an initial access token; also formpost-basic,
#    backchannel = oidcc-backchannel-rp-initiated-logout-certification-test-plan, dynamic clients;
#    comprehensive-post / comprehensive-private-key-jwt / comprehensive-none = oidcc-test-plan with
#    that client authentication, dynamic clients)
#
# Environment:
#   CS_REPO     conformance-suite git repository to clone (needed only until the suite is built)
#   CS_REF      commit/branch to check out (default: the clone's HEAD)
#   JAVA_HOME   JDK 21 or newer (builds and runs the suite)
#   CONF_WORK   working directory (default: .data/conformance in the checkout; git-ignored)
#   KEEP_UP=1   leave everything running at the end (prints how to stop it)
#   STAGE=gatehouse  only start nginx + Gatehouse and write the config (no suite), for debugging
# Needs on PATH: node >= 22.18 (Gatehouse), nginx (TLS in front of both servers), python3 (venv),
# mvn (first build only), openssl, redis-server (Gatehouse's scripts/services).
#
# What it does (every process it starts is recorded in $CONF_WORK/run/pids and stopped at exit):
#   1. builds the suite once (mvn package, tests skipped) into $CONF_WORK/suite
#   2. self-signed TLS cert for localhost/127.0.0.1 + a Java truststore holding it
#   3. mongo-java-server (in-memory MongoDB-wire server) for the suite, nginx (TLS) in front of
#      the suite and of Gatehouse
#   4. Gatehouse (node dist/main.js) on fresh services (scripts/services, own state dir),
#      issuer https://127.0.0.1:<port>, GATEHOUSE_TRUST_PROXY=true, GATEHOUSE_REGISTRATION=true
#   5. clients + user through the gatehouse CLI (and one client_secret_post client through
#      dynamic registration with an initial access token, as the CLI only makes client_secret_basic)
#   6. scripts/run-test-plan.py for each plan, then summarize.py -> $CONF_WORK/results/
set -euo pipefail

GH="$PWD"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mkdir -p "${CONF_WORK:-$PWD/.data/conformance}" && cd "${CONF_WORK:-$PWD/.data/conformance}" && pwd)"
ALIAS=gatehouse
say() { echo "conformance: $(date +%T) $*" >&2; }
die() { say "error: $*"; exit 1; }

[[ -f "$GH/package.json" && -f "$GH/scripts/services" ]] || die "run me from a Gatehouse checkout"
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] || die "set JAVA_HOME to a JDK 21+"
"$JAVA_HOME/bin/java" -version 2>&1 | grep -qE 'version "(2[1-9]|[3-9][0-9])' || die "JAVA_HOME must be JDK 21+"
command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a==22&&b>=18)?0:1)' \
  || die "node >= 22.18 must be on PATH"
command -v nginx >/dev/null || die "nginx not found (apt-get install -y nginx-light)"
[[ -f "$GH/dist/main.js" ]] || die "build Gatehouse first: npm ci && npm run build"
export PATH="$JAVA_HOME/bin:$PATH"

PLANS=("$@"); [[ ${#PLANS[@]} -gt 0 ]] || PLANS=(config basic logout)

mkdir -p "$WORK"/{run,logs,results,tls,nginx/tmp}
RUN="$WORK/run"
: >"$RUN/pids"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_until() { # seconds description command...
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [[ $SECONDS -lt $end ]] || die "$what not ready after ${secs}s"
    sleep 1
  done
}
start_bg() { # name logfile command... ; runs in its own process group
  local name=$1 log=$2; shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  echo "$! $name" >>"$RUN/pids"
  say "started $name (pid $!)"
}

stop_all() {
  local rc=$?
  if [[ "${KEEP_UP:-}" == 1 ]]; then
    say "KEEP_UP=1: leaving processes running; stop with: bash $HERE/stop.sh $WORK  (and GATEHOUSE_SERVICES_DIR=$GHSVC bash scripts/services down)"
    return $rc
  fi
  bash "$HERE/stop.sh" "$WORK" || true
  if [[ -n "${GHSVC:-}" ]]; then GATEHOUSE_SERVICES_DIR="$GHSVC" bash "$GH/scripts/services" down >/dev/null 2>&1 || true; fi
  return $rc
}
trap stop_all EXIT

# ---------------------------------------------------------------- 1. suite build
SUITE="$WORK/suite"
JAR="$SUITE/target/fapi-test-suite.jar"
if [[ "${STAGE:-}" != gatehouse && ! -f "$JAR" ]]; then
  [[ -n "${CS_REPO:-}" ]] || die "set CS_REPO to the conformance-suite repository (only needed for the first build)"
  if [[ ! -d "$SUITE/.git" ]]; then git clone -q "$CS_REPO" "$SUITE"; fi
  if [[ -n "${CS_REF:-}" ]]; then git -C "$SUITE" checkout -q "$CS_REF"; fi
  # The suite pins org.multipaz 0.99.0 (VP/mdoc code only), which Maven Central does not have
  # (it lists 0.90, 0.101.0, 0.102.0); 0.101.0 compiles. Only Maven Central is reachable here.
  if grep -q '<artifactId>multipaz-jvm</artifactId>' "$SUITE/pom.xml"; then
    v=$(grep -A1 '<artifactId>multipaz-jvm</artifactId>' "$SUITE/pom.xml" | sed -n 's/.*<version>\(.*\)<\/version>.*/\1/p')
    if ! curl -sf -o /dev/null "https://repo.maven.apache.org/maven2/org/multipaz/multipaz-jvm/$v/multipaz-jvm-$v.pom"; then
      say "multipaz $v is not on Maven Central; using 0.101.0"
      sed -i "s#<version>$v</version>#<version>0.101.0</version>#g" "$SUITE/pom.xml"
    fi
  fi
  # The suite's CI compiles with JDK 21, Error Prone and -Werror; with a newer JDK, new -Xlint
  # categories can turn into errors, and Error Prone doubles the compile time on a small machine.
  # Neither is needed to run the tests: drop them.
  sed -i -e '/<arg>-Werror<\/arg>/d' -e '/<arg>-XDcompilePolicy=simple<\/arg>/d' \
    -e '/<arg>--should-stop=ifError=FLOW<\/arg>/d' -e '/<arg>-Xplugin:ErrorProne /d' "$SUITE/pom.xml"
  # FerretDB v1 cannot create text indexes ("can't find index with key: { description: "text" }"),
  # which the suite creates at startup for its UI search; the patch makes that failure non-fatal.
  git -C "$SUITE" apply --check "$HERE/suite-ferretdb.patch" 2>/dev/null && git -C "$SUITE" apply "$HERE/suite-ferretdb.patch"
  say "building the conformance suite (mvn package, tests skipped; 10-30 min the first time)"
  (cd "$SUITE" && mvn -B -q -Dmaven.test.skip -Dpmd.skip -Dcheckstyle.skip package) >"$WORK/logs/mvn.log" 2>&1 \
    || die "suite build failed, see $WORK/logs/mvn.log"
fi
# oidcc-server-rotate-keys wants the OP's keys rotated between its setup and its start; the suite's
# script starts it at once ("we can't actually do that"). The patch runs $CONFORMANCE_ROTATE_KEYS_CMD
# there (set below: `gatehouse keys rotate`). Applied to an existing build too (a script, not compiled).
if [[ "${STAGE:-}" != gatehouse ]] && git -C "$SUITE" apply --check "$HERE/suite-rotate-keys.patch" 2>/dev/null; then
  git -C "$SUITE" apply "$HERE/suite-rotate-keys.patch"
fi
if [[ "${STAGE:-}" != gatehouse && ! -x "$WORK/venv/bin/python" ]]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" -q install -r "$SUITE/scripts/requirements.txt"
fi

# ---------------------------------------------------------------- 2. TLS
TLS="$WORK/tls"
if [[ ! -f "$TLS/truststore.jks" ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "basicConstraints=critical,CA:TRUE" \
    -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null
  cp "$JAVA_HOME/lib/security/cacerts" "$TLS/truststore.jks"; chmod u+w "$TLS/truststore.jks"
  keytool -importcert -noprompt -alias conformance-local -file "$TLS/cert.pem" \
    -keystore "$TLS/truststore.jks" -storepass changeit >/dev/null
fi

SUITE_HTTP=$(free_port); SUITE_TLS=$(free_port); GH_HTTP=$(free_port); GH_TLS=$(free_port); SUITE_DB=$(free_port)
SUITE_URL="https://localhost:$SUITE_TLS"
ISSUER="https://127.0.0.1:$GH_TLS"
printf 'SUITE_URL=%s\nISSUER=%s\nSUITE_HTTP=%s\nGH_HTTP=%s\nSUITE_DB=%s\n' "$SUITE_URL" "$ISSUER" "$SUITE_HTTP" "$GH_HTTP" "$SUITE_DB" >"$RUN/ports"

# ---------------------------------------------------------------- 3. suite DB, nginx, suite
# The suite's own database: mongo-java-server (in-memory). FerretDB v1 does not work for the suite:
# it rejects the plan configuration ("invalid value: { "commands": [ [ "text", ... ] ] } (nested
# arrays are not supported)") and cannot create text indexes; no real mongod is available here.
# Its jars go under $WORK (this folder may be read-only).
MJS="$WORK/mongo-java-server"
mkdir -p "$MJS" && cp "$HERE/mongo-java-server/pom.xml" "$HERE/mongo-java-server/SuiteDb.java" "$MJS/"
if ! ls "$MJS"/lib/mongo-java-server-*.jar >/dev/null 2>&1; then
  (cd "$MJS" && mvn -B -q dependency:copy-dependencies -DoutputDirectory=lib) >"$WORK/logs/mvn-mjs.log" 2>&1 \
    || die "could not fetch mongo-java-server, see $WORK/logs/mvn-mjs.log"
fi
start_bg suite-db "$WORK/logs/suite-db.log" "$JAVA_HOME/bin/java" -Xmx3g -cp "$MJS/lib/*" "$MJS/SuiteDb.java" 127.0.0.1 "$SUITE_DB"
wait_until 60 "suite database" port_open "$SUITE_DB"

chmod 0777 "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;
events { worker_connections 512; }
http {
  # path without the query string, no referer: the query carries codes, id_token_hint, state
  log_format noquery '\$remote_addr [\$time_local] \$server_port "\$request_method \$uri \$server_protocol" \$status \$body_bytes_sent';
  access_log $WORK/logs/nginx-access.log noquery;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  ssl_certificate $TLS/cert.pem;
  ssl_certificate_key $TLS/key.pem;
  ssl_protocols TLSv1.2 TLSv1.3;
  proxy_read_timeout 120s;
  proxy_send_timeout 120s;
  client_max_body_size 50m;
  server {  # the conformance suite
    listen 127.0.0.1:$SUITE_TLS ssl;
    client_header_buffer_size 32k;
    large_client_header_buffers 4 32k;
    location / {
      proxy_pass http://127.0.0.1:$SUITE_HTTP;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Forwarded-Port $SUITE_TLS;
      proxy_set_header X-Ssl-Cipher \$ssl_cipher;
      proxy_set_header X-Ssl-Protocol \$ssl_protocol;
    }
  }
  server {  # Gatehouse
    listen 127.0.0.1:$GH_TLS ssl;
    location / {
      proxy_pass http://127.0.0.1:$GH_HTTP;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host \$http_host;
    }
  }
}
EOF
: >"$WORK/logs/nginx-access.log"; : >"$WORK/logs/nginx-error.log"   # this run's lines only (checked at the end)
start_bg nginx "$WORK/logs/nginx.log" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;'
wait_until 15 nginx port_open "$GH_TLS"

[[ "${STAGE:-}" == gatehouse ]] || start_bg suite "$WORK/logs/suite.log" "$JAVA_HOME/bin/java" -Xmx2g \
  -Djavax.net.ssl.trustStore="$TLS/truststore.jks" -Djavax.net.ssl.trustStorePassword=changeit \
  -Djdk.tls.maxHandshakeMessageSize=65536 \
  -jar "$JAR" \
  --server.address=127.0.0.1 --server.port="$SUITE_HTTP" \
  --fintechlabs.devmode=true --fintechlabs.startredir=false \
  --fintechlabs.base_url="$SUITE_URL" --fintechlabs.base_mtls_url="$SUITE_URL" \
  --spring.mongodb.uri="mongodb://127.0.0.1:$SUITE_DB/test_suite" \
  --openid.mongodb.targetFeatureCompatibilityVersion=

# ---------------------------------------------------------------- 4. Gatehouse
GHSVC="$WORK/gatehouse-services"
GATEHOUSE_SERVICES_DIR="$GHSVC" bash "$GH/scripts/services" down >/dev/null 2>&1 || true
rm -rf "$GHSVC"
eval "$(GATEHOUSE_SERVICES_DIR="$GHSVC" MONGODB_URI= REDIS_URL= bash "$GH/scripts/services" up)"
export MONGODB_URI REDIS_URL
export GATEHOUSE_SECRET; GATEHOUSE_SECRET="$(openssl rand -base64 48)"
export NODE_ENV=production PORT="$GH_HTTP" HOST=127.0.0.1 GATEHOUSE_ISSUER="$ISSUER"
export GATEHOUSE_TRUST_PROXY=true GATEHOUSE_REGISTRATION=true GATEHOUSE_LOG_LEVEL="${GATEHOUSE_LOG_LEVEL:-info}"
# back-channel logout tokens go to the suite on loopback over TLS with the self-signed cert
export GATEHOUSE_ALLOW_PRIVATE_NETWORK_FETCH=true NODE_EXTRA_CA_CERTS="$TLS/cert.pem"
start_bg gatehouse "$WORK/logs/gatehouse.log" node --expose-gc "$GH/dist/main.js"
wait_until 120 "Gatehouse /readyz" curl -sfk "$ISSUER/readyz"
say "Gatehouse ready at $ISSUER"

# ---------------------------------------------------------------- 5. clients and user
CB="$SUITE_URL/test/a/$ALIAS/callback"
PL="$SUITE_URL/test/a/$ALIAS/post_logout_redirect"
cli() { node "$GH/dist/cli/main.js" "$@"; }
USER_NAME=conformance
USER_PASSWORD="$(openssl rand -hex 16)"
# every standard claim set, so that each scope's claims come back (oidcc-scope-*)
printf '%s' "$USER_PASSWORD" | cli users create --username "$USER_NAME" --email conformance@example.com --email-verified \
  --name "Conformance Tester" --given-name Conformance --family-name Tester --middle-name Quinn --nickname conf \
  --profile https://people.example.com/conformance --picture https://people.example.com/conformance.png \
  --website https://conformance.example.com/ --gender diverse --birthdate 1999-12-31 --zoneinfo Europe/Berlin --locale en-US \
  --phone-number +14155550100 --phone-number-verified --address-street "1 Test Street" --address-locality Testville \
  --address-region CA --address-postal-code 94000 --address-country US --password-stdin --json >"$RUN/user.json"
mkclient() { # name
  cli clients create --name "$1" --redirect-uri "$CB" --post-logout-redirect-uri "$PL" \
    --grant-type authorization_code --grant-type refresh_token \
    --scope "openid profile email address phone offline_access" --first-party --json
}
mkclient "OIDF conformance 1" >"$RUN/client1.json"
mkclient "OIDF conformance 2" >"$RUN/client2.json"
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
C1="$(jget "$RUN/client1.json" client_id):$(jget "$RUN/client1.json" client_secret)"
C2="$(jget "$RUN/client2.json" client_id):$(jget "$RUN/client2.json" client_secret)"

# client_secret_post client: admin client -> admin token -> initial access token -> POST /reg
cli clients create --name "conformance admin" --admin --json >"$RUN/admin.json"
AID=$(jget "$RUN/admin.json" client_id); ASEC=$(jget "$RUN/admin.json" client_secret)
ATOKEN=$(curl -sfk -u "$AID:$ASEC" -d grant_type=client_credentials -d scope=admin \
  --data-urlencode "resource=$ISSUER/admin/api/v1" "$ISSUER/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
IAT=$(curl -sfk -H "Authorization: Bearer $ATOKEN" -H 'content-type: application/json' -d '{"expires_in":3600}' \
  "$ISSUER/admin/api/v1/initial-access-tokens" | tee "$RUN/iat.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("initial_access_token") or d.get("token") or d.get("id"))')
python3 - "$CB" "$PL" >"$RUN/reg-request.json" <<'PY'
import json, sys
print(json.dumps({"client_name": "OIDF conformance secret_post", "redirect_uris": [sys.argv[1]],
                  "post_logout_redirect_uris": [sys.argv[2]], "grant_types": ["authorization_code", "refresh_token"],
                  "response_types": ["code"], "token_endpoint_auth_method": "client_secret_post",
                  "scope": "openid profile email address phone offline_access"}))
PY
curl -sk -H "Authorization: Bearer $IAT" -H 'content-type: application/json' -d @"$RUN/reg-request.json" \
  "$ISSUER/reg" >"$RUN/client-post.json"
POSTC=""
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("client_secret") else 1)' "$RUN/client-post.json"; then
  POSTC="$(jget "$RUN/client-post.json" client_id):$(jget "$RUN/client-post.json" client_secret)"
else
  say "dynamic registration of the client_secret_post client failed: $(cat "$RUN/client-post.json")"
fi

python3 "$HERE/make-config.py" --issuer "$ISSUER" --alias "$ALIAS" --user "$USER_NAME" --password "$USER_PASSWORD" \
  --client="$C1" --client2="$C2" ${POSTC:+"--post-client=$POSTC"} >"$RUN/config.json"
python3 "$HERE/make-config.py" --issuer "$ISSUER" --alias "$ALIAS" --user "$USER_NAME" --password "$USER_PASSWORD" \
  --client="$C1" --client2="$C2" --initial-access-token="$IAT" >"$RUN/config-dynamic.json"

if [[ "${STAGE:-}" == gatehouse ]]; then say "STAGE=gatehouse: config in $RUN/config.json"; exit 0; fi

# ---------------------------------------------------------------- 6. run the plans
wait_until 300 "conformance suite" curl -sfk "$SUITE_URL/api/runner/available"
say "conformance suite ready at $SUITE_URL"
ARGS=()
for p in "${PLANS[@]}"; do
  case "$p" in
    basic)  ARGS+=("oidcc-basic-certification-test-plan[server_metadata=discovery][client_registration=static_client]" "$RUN/config.json") ;;
    config) ARGS+=("oidcc-config-certification-test-plan" "$RUN/config.json") ;;
    logout) ARGS+=("oidcc-rp-initiated-logout-certification-test-plan[response_type=code][client_registration=static_client]" "$RUN/config.json") ;;
    basic-dynamic) ARGS+=("oidcc-basic-certification-test-plan[server_metadata=discovery][client_registration=dynamic_client]" "$RUN/config-dynamic.json") ;;
    formpost-basic) ARGS+=("oidcc-formpost-basic-certification-test-plan[server_metadata=discovery][client_registration=static_client]" "$RUN/config.json") ;;
    backchannel) ARGS+=("oidcc-backchannel-rp-initiated-logout-certification-test-plan[response_type=code][client_registration=dynamic_client]" "$RUN/config-dynamic.json") ;;
    # the comprehensive OIDCC plan (not a certification profile) per client authentication method,
    # the suite registering its clients at /reg (private_key_jwt: with its own jwks by value)
    # (comprehensive-<auth>-formpost: the same with response_mode=form_post)
    comprehensive-post|comprehensive-basic|comprehensive-private-key-jwt|comprehensive-none|comprehensive-post-formpost|comprehensive-basic-formpost|comprehensive-private-key-jwt-formpost|comprehensive-none-formpost)
      auth=${p#comprehensive-}; mode=default
      if [[ $auth == *-formpost ]]; then auth=${auth%-formpost}; mode=form_post; fi
      auth=${auth//-/_}; [[ $auth == post ]] && auth=client_secret_post; [[ $auth == basic ]] && auth=client_secret_basic
      ARGS+=("oidcc-test-plan[client_auth_type=$auth][response_type=code][response_mode=$mode][client_registration=dynamic_client]" "$RUN/config-dynamic.json") ;;
    # the "Dynamic OP" certification profile (the suite registers private_key_jwt clients at /reg)
    dynamic) ARGS+=("oidcc-dynamic-certification-test-plan[response_type=code]" "$RUN/config-dynamic.json") ;;
    *) die "unknown plan $p (config, basic, logout, basic-dynamic, formpost-basic, backchannel, dynamic, comprehensive-{post,basic,private-key-jwt,none}[-formpost])" ;;
  esac
done
STAMP=$(date +%Y%m%d-%H%M%S)
OUT="$WORK/results/$STAMP"; mkdir -p "$OUT"
say "running: ${PLANS[*]} (log: $OUT/run-test-plan.log)"
set +e
# The suite's script aborts after 3 modules in a row that do not finish (its "server unhealthy"
# breaker); the comprehensive plan has runs of modules that stop early by design here (request_uri,
# jwks_uri on loopback), so the breaker is set higher.
# The new keys are in /jwks at once (verify only until GATEHOUSE_KEY_PUBLISH_DELAY; docs/KEYS.md).
export CONFORMANCE_ROTATE_KEYS_CMD="node '$GH/dist/cli/main.js' keys rotate --json >>'$WORK/logs/keys-rotate.log' 2>&1"
(cd "$SUITE/scripts" && CONFORMANCE_SERVER="$SUITE_URL/" CONFORMANCE_DEV_MODE=1 DISABLE_SSL_VERIFY=1 \
  CONFORMANCE_MAX_CONSECUTIVE_FAILURES="${CONFORMANCE_MAX_CONSECUTIVE_FAILURES:-20}" \
  timeout "${PLAN_TIMEOUT:-5400}" "$WORK/venv/bin/python" run-test-plan.py --no-parallel --export-dir "$OUT" "${ARGS[@]}") \
  >"$OUT/run-test-plan.log" 2>&1
RTP=$?
set -e
say "run-test-plan.py exited $RTP"
"$WORK/venv/bin/python" "$HERE/summarize.py" "$SUITE_URL" "$ISSUER" | tee "$OUT/summary.md"
cp "$RUN/config.json" "$RUN/config-dynamic.json" "$OUT/"
# Never a secret, token or code in Gatehouse's log or nginx's: the run's client secrets, password,
# initial and registration access tokens, and anything JWT- or parameter-shaped (the suite's own
# log is the relying party's and holds them by design). The logs are kept with the results.
cp "$WORK/logs/gatehouse.log" "$WORK/logs/nginx-access.log" "$WORK/logs/nginx-error.log" "$OUT/"
CHECK_PASSWORD="$USER_PASSWORD" python3 - "$RUN" "$OUT" <<'PY' | tee -a "$OUT/summary.md"
import glob, json, os, re, sys
run, out = sys.argv[1], sys.argv[2]
secrets = {os.environ["CHECK_PASSWORD"]}
def walk(o, key=""):
    if isinstance(o, dict):
        for k, v in o.items(): walk(v, k)
    elif isinstance(o, list):
        for v in o: walk(v, key)
    elif isinstance(o, str) and len(o) >= 8 and re.search(r"secret|token|password", key, re.I) \
            and not re.search(r"_(method|alg|supported|uri)$|expires", key):
        secrets.add(o)
for f in glob.glob(run + "/*.json"):
    try: walk(json.load(open(f)))
    except ValueError: pass
shape = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|(code|token|access_token|refresh_token|id_token|id_token_hint|logout_token|client_assertion|client_secret|password)[=\":]+ *\"?[A-Za-z0-9_~.+/-]{16,}")
bad = []
for name in ("gatehouse.log", "nginx-access.log", "nginx-error.log"):
    text = open(f"{out}/{name}", errors="replace").read()
    n = sum(1 for v in secrets if v in text)
    m = len(shape.findall(text))
    if n or m: bad.append(f"{name}: {n} of the run's secrets, {m} token- or code-shaped strings")
print("\n**log check** (" + str(len(secrets)) + " secrets of the run; gatehouse.log, nginx logs): " + ("; ".join(bad) if bad else "none of them, no token or code"))
PY
say "results in $OUT"
