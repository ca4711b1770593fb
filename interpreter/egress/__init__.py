"""The SSRF guard for outbound HTTP.

Which destinations may be reached, and a transport that only ever connects
to a destination it has checked, never to the FlowForge stack itself.

Refusals raise :class:`interpreter.errors.EgressDenied` (not retryable).
"""

from __future__ import annotations

from interpreter.egress.policy import (
    EgressPolicy,
    Endpoint,
    StackAddress,
    carried_ipv4,
    check_scheme,
    embedded_ipv4,
    join_host_port,
    parse_endpoint,
    refusal_reason,
)
from interpreter.egress.resolve import Resolver, canonical_ipv4_url, numeric_ipv4, system_resolve
from interpreter.egress.stack import (
    Resolved,
    labelled,
    resolve_endpoints,
    resolve_stack,
    url_endpoints,
)
from interpreter.egress.transport import GuardedBackend, GuardedTransport

__all__ = [
    "EgressPolicy",
    "Endpoint",
    "GuardedBackend",
    "GuardedTransport",
    "Resolved",
    "Resolver",
    "StackAddress",
    "canonical_ipv4_url",
    "carried_ipv4",
    "check_scheme",
    "embedded_ipv4",
    "join_host_port",
    "labelled",
    "numeric_ipv4",
    "parse_endpoint",
    "refusal_reason",
    "resolve_endpoints",
    "resolve_stack",
    "system_resolve",
    "url_endpoints",
]
