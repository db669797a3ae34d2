# Sourced by scripts/dev, scripts/test, scripts/cli and .ci/run: makes `node` on PATH a Node.js
# that runs Gatehouse's TypeScript directly (>= 22.18, type stripping). When the machine's node
# is older (or missing), Node 24 is installed once from the npm registry (the `node` package
# carries the binary) under ~/.cache/gatehouse/node24 and put first on PATH. Needs only npm.

gatehouse_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null
}

gatehouse_use_node() {
  gatehouse_node_ok && return 0
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/node24"
  if [[ ! -x "$cache/node_modules/.bin/node" ]]; then
    command -v npm >/dev/null 2>&1 || { echo "gatehouse: needs Node.js >= 22.18, or npm to fetch it" >&2; return 1; }
    echo "gatehouse: this machine has Node $(node --version 2>/dev/null || echo none); installing Node 24 from the npm registry into $cache (once)" >&2
    mkdir -p "$cache"
    [[ -f "$cache/package.json" ]] || echo '{"name":"node24","version":"1.0.0","private":true}' >"$cache/package.json"
    npm install --prefix "$cache" --no-audit --no-fund --loglevel=error node@24 >&2 || { echo "gatehouse: installing Node 24 failed" >&2; return 1; }
  fi
  export PATH="$cache/node_modules/.bin:$PATH"
  gatehouse_node_ok || { echo "gatehouse: $cache has no usable Node >= 22.18" >&2; return 1; }
}
