"""Names and defaults of the SPARQL endpoint settings (environment variables, default graph,
timeout, ``cptkg serve``'s port), and which endpoint a command is configured to use.

Kept free of heavy imports: the command line needs these for its ``--help`` texts whenever it builds
its parsers, while :mod:`cptkg.engines.remote` (SPARQLWrapper, HTTP) and :mod:`cptkg.server` are
imported only when an endpoint is actually used. Both re-export what they use from here.
"""

from __future__ import annotations

import os

#: The named graph that ``cptkg push`` writes and remote queries read by default.
DEFAULT_GRAPH_IRI = "https://w3id.org/cptkg/graph/cptkg"
#: Value of ``--graph`` meaning "no named graph: use the endpoint's own default graph".
ENDPOINT_DEFAULT_GRAPH = "default"
#: Seconds allowed for one HTTP request unless configured otherwise.
DEFAULT_TIMEOUT = 30.0
#: ``cptkg serve``'s default port (Oxigraph's own default).
DEFAULT_PORT = 7878

ENV_ENDPOINT = "CPTKG_ENDPOINT"
ENV_UPDATE_ENDPOINT = "CPTKG_UPDATE_ENDPOINT"
ENV_STORE_ENDPOINT = "CPTKG_STORE_ENDPOINT"
ENV_GRAPH = "CPTKG_GRAPH"
ENV_USER = "CPTKG_ENDPOINT_USER"
ENV_PASSWORD = "CPTKG_ENDPOINT_PASSWORD"  # noqa: S105 - the variable's name, not a secret
ENV_AUTH = "CPTKG_ENDPOINT_AUTH"
ENV_TIMEOUT = "CPTKG_ENDPOINT_TIMEOUT"


def endpoint_from_env() -> str | None:
    """``$CPTKG_ENDPOINT`` or None."""
    return os.environ.get(ENV_ENDPOINT) or None


def endpoint_of(args: object) -> str | None:
    """The endpoint a command should use: ``--endpoint``, else ``$CPTKG_ENDPOINT`` when the
    command accepts ``--endpoint`` at all, else None (the embedded graph)."""
    if not hasattr(args, "endpoint"):
        return None
    return getattr(args, "endpoint", None) or endpoint_from_env()
