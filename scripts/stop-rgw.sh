#!/usr/bin/env bash
# Stop the throwaway Ceph + radosgw started by scripts/start-rgw.sh and remove
# its state. Only processes named by the pid files in $CEPH_DIR/run are
# signalled, and only if they still are Ceph daemons.
#
#   scripts/stop-rgw.sh              # CEPH_DIR defaults to ${TMPDIR:-/tmp}/inlet-rgw
#   KEEP_CEPH_DIR=1 scripts/stop-rgw.sh   # keep logs for inspection
#   RGW_STOP_GRACE_S=5                    # wait longer for SIGTERM before SIGKILL
set -euo pipefail

CEPH_DIR=${CEPH_DIR:-${TMPDIR:-/tmp}/inlet-rgw}
readonly SENTINEL=.inlet-rgw
# radosgw and ceph-osd take about 5 s to exit on SIGTERM; memstore keeps
# nothing worth flushing, so they get a short grace period, then SIGKILL.
TERM_GRACE_S=${RGW_STOP_GRACE_S:-1}

log() { printf 'stop-rgw: %s\n' "$*" >&2; }

if [ ! -d "$CEPH_DIR" ]; then
  log "nothing to stop ($CEPH_DIR does not exist)"
  exit 0
fi
if [ ! -e "$CEPH_DIR/$SENTINEL" ]; then
  log "$CEPH_DIR was not created by start-rgw.sh; refusing to touch it"
  exit 1
fi

exec 9>"$CEPH_DIR/.lock"
flock -w 60 9 || { log "timed out waiting for start-rgw.sh to finish"; exit 1; }

daemon_alive() {
  local pid=$1 comm state
  [ -r "/proc/$pid/comm" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  case "$comm" in ceph-mon | ceph-osd | radosgw) ;; *) return 1 ;; esac
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

pids=()
for f in "$CEPH_DIR"/run/*.pid; do
  [ -e "$f" ] || continue
  pid=$(cat "$f")
  if daemon_alive "$pid"; then pids+=("$pid"); fi
done

if [ "${#pids[@]}" -gt 0 ]; then
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$(($(date +%s%N) + TERM_GRACE_S * 1000000000))
  while :; do
    alive=()
    for pid in "${pids[@]}"; do daemon_alive "$pid" && alive+=("$pid"); done
    [ "${#alive[@]}" -eq 0 ] && break
    if [ "$(date +%s%N)" -ge "$deadline" ]; then
      kill -KILL "${alive[@]}" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  log "stopped ${#pids[@]} daemon(s)"
else
  log "no running daemons in $CEPH_DIR"
fi

if [ "${KEEP_CEPH_DIR:-0}" = 1 ]; then
  rm -f "$CEPH_DIR/env"
  log "kept $CEPH_DIR"
else
  rm -rf "$CEPH_DIR"
fi
