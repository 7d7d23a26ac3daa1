#!/bin/sh
# Runs once, when the PostgreSQL data directory is first created (docker-entrypoint-initdb.d).
# Two roles, so that neither application can read or drop the other's data:
#   temporal - owns the Temporal and visibility databases (created by temporal-schema)
#   pledge   - owns the Pledge Monitor database (migrated by pledge-migrate)
set -eu
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is required}"
: "${PLEDGE_DB_PASSWORD:?PLEDGE_DB_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" -v pledge_password="$PLEDGE_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE pledge LOGIN PASSWORD :'pledge_password';
CREATE DATABASE pledge OWNER pledge;
SQL
