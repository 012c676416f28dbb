#!/usr/bin/env bash
# Brings up the services the full test suite uses: PostgreSQL 15 (password login on loopback) and Redis.
# Idempotent: safe to run again with everything already up. Prints the two TEST_* URLs to export.
set -euo pipefail

DB_NAME="${TEST_DB_NAME:-insurge_test}"
log() { printf '[services] %s\n' "$*" >&2; }

# PostgreSQL: installed but stopped on these machines; its loopback login asks for a password.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  if ! pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main" {print $4}' | grep -q online; then
    log "starting PostgreSQL 15"
    pg_ctlcluster 15 main start
  fi
else
  log "pg_ctlcluster not found: install PostgreSQL 15 (apt-get install -y postgresql)"
  exit 1
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -tAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
if ! su postgres -c "psql -tAc \"select 1 from pg_database where datname = '${DB_NAME}'\"" | grep -q 1; then
  log "creating database ${DB_NAME}"
  su postgres -c "psql -q -c 'CREATE DATABASE ${DB_NAME}'"
fi

# Redis: not installed on these machines.
if ! command -v redis-server >/dev/null 2>&1; then
  log "installing redis-server"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.2
  done
fi

echo "export TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/${DB_NAME}"
echo "export TEST_REDIS_URL=redis://127.0.0.1:6379"
