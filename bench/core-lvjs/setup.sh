#!/usr/bin/env bash
# Installs LiveViewJS 0.8.1 and what its rows server needs into $BENCH_DIR
# (default: lvjs-bench in the system temp directory). Never writes into the
# repository. Idempotent: re-running installs only what is missing.
set -euo pipefail
BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/lvjs-bench}"
mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"
[ -f package.json ] || npm init -y >/dev/null 2>&1

# Pinned: the packages under test (0.8.1 is the newest on the registry), the
# browser clients LiveViewJS's own lockfile pins (phoenix 1.6.12,
# phoenix_live_view 0.18.0), express 4 (what @liveviewjs/express declares) and ws.
PKGS=(
  liveviewjs@0.8.1
  @liveviewjs/express@0.8.1
  express@4
  express-session@1
  ws@8
  phoenix@1.6.12
  phoenix_html@3.2.0
  phoenix_live_view@0.18.0
)
need=0
for p in liveviewjs @liveviewjs/express express express-session ws phoenix phoenix_live_view; do
  [ -d "node_modules/$p" ] || need=1
done
if [ "$need" = 1 ]; then
  npm install --no-audit --no-fund "${PKGS[@]}" >"$BENCH_DIR/npm-install.log" 2>&1 \
    || { tail -20 "$BENCH_DIR/npm-install.log" >&2; exit 1; }
fi
echo "lvjs setup ok: BENCH_DIR=$BENCH_DIR liveviewjs=$(node -p "require('$BENCH_DIR/node_modules/liveviewjs/package.json').version")"
