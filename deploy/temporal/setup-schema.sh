#!/bin/sh
# One-shot: create (if absent) and migrate the Temporal and visibility schemas.
# Safe to run on every start: `create` tolerates an existing database and
# `update-schema` applies only the versions not yet applied - which is also how a
# Temporal server upgrade brings its schemas forward (run this job with the new
# admin-tools image first).
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${SQL_USER:?SQL_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
PORT="${DB_PORT:-5432}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

nc -z -w 10 "$POSTGRES_SEEDS" "$PORT"

for database in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  name="${database%%:*}"
  schema="${database##*:}"
  echo "schema for $name ($schema)"
  sql() {
    temporal-sql-tool --plugin "$DB" --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$SQL_USER" \
      --db "$name" "$@"
  }
  sql create || echo "database $name exists"
  sql setup-schema -v 0.0 || echo "database $name already has a schema version"
  sql update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "Temporal schemas are up to date"
