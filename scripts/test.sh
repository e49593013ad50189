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

npx vitest run "$@"
