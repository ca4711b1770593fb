#!/bin/sh
# Registers FlowForge's custom search attributes with a Temporal cluster, once,
# before the API and workers start (docker-compose's temporal-setup service).
# The list must equal interpreter/search_attributes.py (tests/test_compose.py
# checks it). Creating an attribute that exists with the same type is a no-op,
# so running this again is safe; a different type fails loudly.
set -eu

address="${TEMPORAL_ADDRESS:-temporal:7233}"
namespace="${TEMPORAL_NAMESPACE:-default}"
deadline=$(( $(date +%s) + ${SETUP_TIMEOUT_SECONDS:-300} ))

# auto-setup creates the schema and the namespace after the frontend is up:
# wait for the namespace, not just for the port.
until temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "Temporal at $address has no namespace $namespace after ${SETUP_TIMEOUT_SECONDS:-300} s" >&2
    exit 1
  fi
  sleep 2
done

register() {
  temporal operator search-attribute create --address "$address" --namespace "$namespace" \
    --name "$1" --type "$2"
}

register FlowForgeWorkflowId Keyword
register FlowForgeVersion Int
register FlowForgeOwner Keyword
register FlowForgeStatus Keyword
register FlowForgeTrigger Keyword

echo "search attributes registered in namespace $namespace"
