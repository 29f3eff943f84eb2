#!/usr/bin/env bash
# Installs and starts, only where missing, the system services the integration tests use:
# the mosquitto binary (tests spawn their own brokers on free ports), Chromium (the status window's
# browser tests) and PostgreSQL on 127.0.0.1:5432.
# Services already running are used as they are, never reconfigured or restarted.
set -euo pipefail

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
  echo "installing mosquitto"
  apt_install mosquitto
fi

if ! command -v openssl >/dev/null 2>&1; then
  echo "installing openssl"
  apt_install openssl
fi

# The status window's browser tests drive Debian's Chromium with playwright-core (it downloads no browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium"
  apt_install chromium
fi

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "installing postgresql"
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

# The tests use database "test" as user postgres with trust auth on loopback.
if ! psql -h 127.0.0.1 -U postgres -d test -tAc 'select 1' >/dev/null 2>&1; then
  su postgres -c "createdb test" 2>/dev/null || true
fi
