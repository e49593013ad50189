#!/usr/bin/env bash
# Start a throwaway S3 gateway for tests: a one-node Ceph cluster (one monitor,
# one OSD on the in-memory "memstore" backend, no manager, auth disabled) plus
# radosgw, all bound to 127.0.0.1. Nothing here is meant for real data.
#
#   scripts/start-rgw.sh            # start (or reuse) the cluster in $CEPH_DIR
#   . "$CEPH_DIR/env"               # exports S3_TEST_ENDPOINT / _ACCESS_KEY / _SECRET
#   scripts/stop-rgw.sh             # stop it and remove its state
#
# Settings (environment variables, all optional):
#   CEPH_DIR            state dir (default ${TMPDIR:-/tmp}/inlet-rgw); only a dir this
#                       script created (marked by .inlet-rgw) or an empty one is used
#   RGW_PORT            S3 port (default 7480)
#   CEPH_MON_PORT       monitor msgr2 port (default 3300)
#   CEPH_MON_V1_PORT    monitor legacy msgr1 port (default 6789)
#   AK, SK              access key / secret of the test user (default TESTKEY / TESTSECRET)
#   RGW_MEMSTORE_BYTES  RAM cap of the OSD (default 2 GiB; RAM is used only as data arrives)
#   RGW_NO_INSTALL=1    never apt-get install missing packages
#
# Idempotent: when a healthy gateway already runs from $CEPH_DIR it is reused.
# Concurrent callers are serialised with flock, so parallel test workers may
# all call this script. Cold start takes about 12 s, mostly radosgw creating
# its pools on first boot.
set -euo pipefail

CEPH_DIR=${CEPH_DIR:-${TMPDIR:-/tmp}/inlet-rgw}
RGW_PORT=${RGW_PORT:-7480}
CEPH_MON_PORT=${CEPH_MON_PORT:-3300}
CEPH_MON_V1_PORT=${CEPH_MON_V1_PORT:-6789}
AK=${AK:-TESTKEY}
SK=${SK:-TESTSECRET}
RGW_MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-2147483648}
readonly PACKAGES=(radosgw ceph-mon ceph-osd)
readonly BINARIES=(radosgw radosgw-admin ceph-mon ceph-osd ceph monmaptool ceph-authtool)
readonly READY_TIMEOUT_S=90
readonly SENTINEL=.inlet-rgw

log() { printf 'start-rgw: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

missing_binaries() {
  local b
  for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || return 0; done
  return 1
}

if missing_binaries; then
  [ "${RGW_NO_INSTALL:-0}" = 1 ] && die "Ceph is not installed (${PACKAGES[*]}); RGW_NO_INSTALL=1 forbids installing it"
  [ "$(id -u)" = 0 ] || die "Ceph is not installed; run as root or: sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  log "installing ${PACKAGES[*]} (about 60 MB, 20-30 s)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  missing_binaries && die "installation finished but some Ceph binaries are still missing"
fi

mkdir -p "$CEPH_DIR"
if [ ! -e "$CEPH_DIR/$SENTINEL" ] && [ -n "$(ls -A "$CEPH_DIR")" ]; then
  die "$CEPH_DIR is not empty and was not created by this script; choose another CEPH_DIR"
fi
touch "$CEPH_DIR/$SENTINEL"

# One starter at a time per state dir; the lock is released when the script
# exits. The daemons are started with fd 9 closed so they do not inherit it.
exec 9>"$CEPH_DIR/.lock"
flock -w 180 9 || die "timed out waiting for another start-rgw.sh on $CEPH_DIR"

# A pid file names a live Ceph daemon (not a zombie, not a recycled pid).
daemon_alive() {
  local pid=$1 comm state
  [ -r "/proc/$pid/comm" ] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  case "$comm" in ceph-mon | ceph-osd | radosgw) ;; *) return 1 ;; esac
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

http_status() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true; }

# Pids of the daemons of $CEPH_DIR that are still alive.
live_daemons() {
  local f pid
  for f in "$CEPH_DIR"/run/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null) || continue
    if daemon_alive "$pid"; then printf '%s\n' "$pid"; fi
  done
}

# A cluster whose three daemons are all alive is never killed here, even if
# it answers slowly (other test workers may be using it): wait for it, and
# give up with an error if it never answers.
live=$(live_daemons | wc -l)
if [ "$live" -ge 3 ] && [ -r "$CEPH_DIR/env" ]; then
  # shellcheck disable=SC1091
  endpoint=$(. "$CEPH_DIR/env" && printf '%s' "$S3_TEST_ENDPOINT")
  deadline=$(($(date +%s) + READY_TIMEOUT_S))
  until [ "$(http_status "$endpoint/")" = 200 ]; do
    [ "$(date +%s)" -lt "$deadline" ] ||
      die "the gateway in $CEPH_DIR runs but does not answer on $endpoint; stop it with scripts/stop-rgw.sh"
    sleep 0.5
  done
  log "reusing the running gateway in $CEPH_DIR"
  cat "$CEPH_DIR/env"
  exit 0
fi

# Leftovers of a crashed or half-dead run: stop what is left, then wipe its
# state (never the lock or the sentinel).
leftover=$(live_daemons)
if [ -n "$leftover" ]; then
  log "stopping the remains of a broken cluster in $CEPH_DIR"
  # shellcheck disable=SC2086
  kill -9 $leftover 2>/dev/null || true
  for _ in $(seq 50); do [ -z "$(live_daemons)" ] && break; sleep 0.1; done
fi
rm -rf "$CEPH_DIR"/{run,log,mon,osd,ceph.conf,keyring,monmap,env}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$RGW_PORT" "$CEPH_MON_PORT" "$CEPH_MON_V1_PORT"; do
  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use (set RGW_PORT / CEPH_MON_PORT / CEPH_MON_V1_PORT)"
done

mkdir -p "$CEPH_DIR"/{run,log,mon/mon.a,osd}
FSID=$(cat /proc/sys/kernel/random/uuid)
MON_ADDRS="[v2:127.0.0.1:$CEPH_MON_PORT,v1:127.0.0.1:$CEPH_MON_V1_PORT]"
CONF="$CEPH_DIR/ceph.conf"

# Settings that matter beyond the obvious: with auth "none" the daemons still
# default to secure-only client connections (so allow crc); the beast
# frontend must be given only endpoint=, or it binds the port twice; and
# garbage collection must be quick (below).
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = $MON_ADDRS
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
ms client mode = crc secure
osd objectstore = memstore
memstore device bytes = $RGW_MEMSTORE_BYTES
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$name.asok
pid file = $CEPH_DIR/run/\$name.pid
log file = $CEPH_DIR/log/\$name.log
mon data = $CEPH_DIR/mon/\$name
osd data = $CEPH_DIR/osd/\$name
keyring = $CEPH_DIR/keyring

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = localhost
# Reclaim deleted objects and aborted uploads within seconds, not after the
# default 2 h: a full memstore OSD blocks every write without an error.
rgw gc obj min wait = 10
rgw gc processor period = 10
rgw gc processor max time = 10
EOF

started=$(date +%s%N)
ceph_args=(-c "$CONF")

monmaptool --create --fsid "$FSID" --addv a "$MON_ADDRS" "$CEPH_DIR/monmap" >/dev/null
ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-mon "${ceph_args[@]}" --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$CEPH_DIR/keyring" 2>>"$CEPH_DIR/log/setup.log"
ceph-mon "${ceph_args[@]}" -i a 9>&-

OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(timeout 60 ceph "${ceph_args[@]}" osd new "$OSD_UUID" 2>>"$CEPH_DIR/log/setup.log") ||
  die "the monitor did not answer 'osd new'; see $CEPH_DIR/log"
mkdir -p "$CEPH_DIR/osd/osd.$OSD_ID"
ceph-osd "${ceph_args[@]}" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>>"$CEPH_DIR/log/setup.log"
ceph-osd "${ceph_args[@]}" -i "$OSD_ID" 2>>"$CEPH_DIR/log/setup.log" 9>&-
radosgw "${ceph_args[@]}" -n client.rgw 2>>"$CEPH_DIR/log/setup.log" 9>&-

ENDPOINT="http://127.0.0.1:$RGW_PORT"
deadline=$(($(date +%s) + READY_TIMEOUT_S))
until [ "$(http_status "$ENDPOINT/")" = 200 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || die "radosgw did not answer on $ENDPOINT within ${READY_TIMEOUT_S}s; see $CEPH_DIR/log"
  sleep 0.25
done

radosgw-admin "${ceph_args[@]}" -n client.rgw user create --uid=inlet-test --display-name=inlet-test \
  --access-key="$AK" --secret="$SK" >/dev/null 2>>"$CEPH_DIR/log/setup.log" ||
  die "radosgw-admin could not create the test user; see $CEPH_DIR/log"

cat >"$CEPH_DIR/env.tmp" <<EOF
export S3_TEST_ENDPOINT=$ENDPOINT
export S3_TEST_ACCESS_KEY=$AK
export S3_TEST_SECRET=$SK
EOF
mv "$CEPH_DIR/env.tmp" "$CEPH_DIR/env"

elapsed_ms=$((($(date +%s%N) - started) / 1000000))
log "radosgw ready on $ENDPOINT after ${elapsed_ms} ms (state in $CEPH_DIR)"
cat "$CEPH_DIR/env"
