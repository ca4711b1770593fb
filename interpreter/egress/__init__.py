"""The SSRF guard for outbound HTTP.

Which destinations may be reached, and a transport that only ever connects
to a destination it has checked.

Refusals raise :class:`interpreter.errors.EgressDenied` (not retryable).
"""

from __future__ import annotations

from interpreter.egress.policy import EgressPolicy, check_scheme, embedded_ipv4, refusal_reason
from interpreter.egress.resolve import Resolver, canonical_ipv4_url, numeric_ipv4, system_resolve
from interpreter.egress.transport import GuardedBackend, GuardedTransport

__all__ = [
    "EgressPolicy",
    "GuardedBackend",
    "GuardedTransport",
    "Resolver",
    "canonical_ipv4_url",
    "check_scheme",
    "embedded_ipv4",
    "numeric_ipv4",
    "refusal_reason",
    "system_resolve",
]
