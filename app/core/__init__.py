"""Cross-cutting pieces of the API: security, logging, metrics, the Temporal client."""
