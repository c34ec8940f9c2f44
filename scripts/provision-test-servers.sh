#!/usr/bin/env bash
# Run by `npm test` (its `pretest`) and `npm run test:e2e`: makes sure the programs the integration and e2e
# tests need are installed, installing the missing ones with apt-get as root or through sudo.
#
# The tests start their own throwaway servers on 127.0.0.1, on free ports (test/support/redis-server.ts,
# test/support/postgres-server.ts), so only the binaries are needed, never a running system service:
#   - redis-server: $REDIS_SERVER_BIN, else on PATH;
#   - PostgreSQL's initdb and postgres: $PG_BIN_DIR, else the highest /usr/lib/postgresql/<version>/bin
#     (Debian's layout), else on PATH.
#   - nats-server and rabbitmq-server ($NATS_SERVER_BIN / $RABBITMQ_SERVER_BIN, else Debian's /usr/sbin):
#     test/support/nats-server.ts and rabbitmq-server.ts start them as plain processes on free ports;
#   - curl, openssl 3.0 or later (its `pkeyutl -rawin` signs Ed25519) and a Python that can import
#     `cryptography` ($CALLERS_PYTHON, default Debian's /usr/bin/python3, which sees python3-cryptography):
#     test/other-language-callers.e2e-spec.ts runs the example callers of examples/callers with them.
# These are the same lookups as the helpers'. When something is missing and cannot be installed, ONE line
# says what to install and the script fails, so `npm test` stops before any test instead of failing dozens.
set -euo pipefail

PACKAGES_HINT='sudo apt-get install -y redis-server postgresql nats-server rabbitmq-server curl openssl python3-cryptography'
CALLERS_PYTHON="${CALLERS_PYTHON:-/usr/bin/python3}"

redis_server_bin() {
  if [ -n "${REDIS_SERVER_BIN:-}" ]; then
    [ -x "$REDIS_SERVER_BIN" ] && echo "$REDIS_SERVER_BIN"
  else
    command -v redis-server || true
  fi
}

has_pg_binaries() {
  [ -x "$1/initdb" ] && [ -x "$1/postgres" ]
}

pg_bin_dir() {
  if [ -n "${PG_BIN_DIR:-}" ]; then
    has_pg_binaries "$PG_BIN_DIR" && echo "$PG_BIN_DIR"
    return 0
  fi
  local dir
  for dir in $({ ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true; } | sort -V -r); do
    if has_pg_binaries "$dir"; then echo "$dir"; return 0; fi
  done
  local initdb
  initdb="$(command -v initdb || true)"
  if [ -n "$initdb" ] && has_pg_binaries "$(dirname "$initdb")"; then dirname "$initdb"; fi
}

missing_packages() {
  local missing=()
  [ -n "$(redis_server_bin)" ] || missing+=(redis-server)
  # redis-cli (redis-tools) builds the Redis Cluster of the Cluster tests; redis-server depends on it, but check.
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
  [ -n "$(pg_bin_dir)" ] || missing+=(postgresql)
  # test/signed-messages.e2e-spec.ts: Nest's NATS and RabbitMQ transports against real brokers.
  [ -x "${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}" ] || missing+=(nats-server)
  [ -x "${RABBITMQ_SERVER_BIN:-/usr/sbin/rabbitmq-server}" ] || missing+=(rabbitmq-server)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # OpenSSL 3.0 or later: the Ed25519 curl caller signs with `openssl pkeyutl -rawin`.
  { command -v openssl >/dev/null 2>&1 && openssl pkeyutl -help 2>&1 | grep -- '-rawin' >/dev/null; } || missing+=(openssl)
  "$CALLERS_PYTHON" -c 'import cryptography' >/dev/null 2>&1 || missing+=(python3-cryptography)
  echo "${missing[*]}"
}

fail() {
  echo "npm test needs ${1// / and } and cannot install it here ($2): run '$PACKAGES_HINT' (or set REDIS_SERVER_BIN / PG_BIN_DIR), then npm test again" >&2
  exit 1
}

MISSING="$(missing_packages)"
if [ -n "$MISSING" ]; then
  # An explicit REDIS_SERVER_BIN / PG_BIN_DIR that points nowhere is a mistake to fix, not something to install.
  if [ -n "${REDIS_SERVER_BIN:-}" ] && [ -z "$(redis_server_bin)" ]; then fail redis-server "REDIS_SERVER_BIN=$REDIS_SERVER_BIN is not an executable"; fi
  if [ -n "${PG_BIN_DIR:-}" ] && [ -z "$(pg_bin_dir)" ]; then fail postgresql "PG_BIN_DIR=$PG_BIN_DIR holds no executable initdb and postgres"; fi
  command -v apt-get >/dev/null 2>&1 || fail "$MISSING" 'no apt-get'

  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "$MISSING" 'not root, no sudo'
    # Without a terminal to ask for a password on (CI, piped runs), only passwordless sudo can work.
    if ! sudo -n true 2>/dev/null && ! [ -t 0 ]; then fail "$MISSING" 'sudo needs a password and there is no terminal'; fi
    SUDO=(sudo)
  fi

  echo "Installing $MISSING for the tests' throwaway servers (apt-get${SUDO:+ via sudo})" >&2
  # -qq keeps apt quiet; its errors still reach stderr. No service is needed, only the binaries.
  if ! { "${SUDO[@]}" apt-get update -qq &&
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $MISSING >/dev/null; }; then
    fail "$MISSING" 'apt-get failed, see above'
  fi
  MISSING="$(missing_packages)"
  [ -z "$MISSING" ] || fail "$MISSING" 'still missing after apt-get install'
fi

PG_BIN="$(pg_bin_dir)"
echo "Test servers: $("$(redis_server_bin)" --version | cut -d ' ' -f 1-3), $("$PG_BIN/postgres" --version) ($PG_BIN)"
echo "Example callers: $(curl --version | head -n 1 | cut -d ' ' -f 1-2), $(openssl version), $("$CALLERS_PYTHON" -c 'import sys, cryptography; print("Python", sys.version.split()[0], "cryptography", cryptography.__version__)')"
