#!/bin/sh
# One-shot: create the namespace (with its retention) and register the custom search
# attributes a case workflow upserts (standards/visibility.py; the tests check
# that this list matches it). A workflow that upserts an unregistered attribute fails
# its workflow tasks in a loop, so the worker waits for this job.
set -eu
: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
NAMESPACE="${TEMPORAL_NAMESPACE:-pledge}"
RETENTION="${TEMPORAL_RETENTION:-720h}"
ATTEMPTS=60

attempt=1
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "the Temporal server at $TEMPORAL_ADDRESS is not healthy after $ATTEMPTS attempts"
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create -n "$NAMESPACE" --retention "$RETENTION" \
    --address "$TEMPORAL_ADDRESS"
fi

# name type - one per line, as in standards/visibility.py.
while read -r name type; do
  [ -n "$name" ] || continue
  if temporal operator search-attribute create -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
      --name "$name" --type "$type" 2>/tmp/search-attribute.err; then
    echo "search attribute $name registered"
  elif grep -qi "already" /tmp/search-attribute.err; then
    echo "search attribute $name exists"
  else
    cat /tmp/search-attribute.err
    exit 1
  fi
done <<'ATTRIBUTES'
PledgeBorough Keyword
PledgeCategory Keyword
PledgeCaseStatus Keyword
PledgeNextDeadline Datetime
PledgeBreachedCount Int
ATTRIBUTES
echo "namespace $NAMESPACE ready"
