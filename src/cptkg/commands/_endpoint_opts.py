"""``--endpoint URL``, ``--graph IRI`` and ``--timeout S``: shared by the commands that can run
against a SPARQL endpoint (kept free of heavy imports: :mod:`cptkg.engines.remote` and SPARQLWrapper
are imported only when an endpoint is actually used, see :func:`cptkg.engines.get_engine`)."""

from __future__ import annotations

from cptkg.engines.settings import (
    DEFAULT_GRAPH_IRI,
    DEFAULT_TIMEOUT,
    ENV_ENDPOINT,
    ENV_GRAPH,
    ENV_PASSWORD,
    ENV_TIMEOUT,
    ENV_USER,
)


def add_endpoint_arguments(parser: object, *, graph_help: str | None = None) -> None:
    """Add ``--endpoint URL``, ``--graph IRI`` and ``--timeout S`` to a command's parser."""
    parser.add_argument(  # type: ignore[attr-defined]
        "--endpoint",
        metavar="URL",
        default=None,
        help=f"SPARQL 1.1 query endpoint to run against instead of the embedded graph "
        f"(default: ${ENV_ENDPOINT} if set). Credentials: ${ENV_USER} / ${ENV_PASSWORD}",
    )
    parser.add_argument(  # type: ignore[attr-defined]
        "--graph",
        metavar="IRI",
        default=None,
        help=graph_help
        or f"named graph queried as the default graph on the endpoint (default: ${ENV_GRAPH} "
        f"or {DEFAULT_GRAPH_IRI}, where 'cptkg push' writes; 'default' = the endpoint's own "
        "default graph)",
    )
    parser.add_argument(  # type: ignore[attr-defined]
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help=f"seconds per HTTP request (default: ${ENV_TIMEOUT} or {DEFAULT_TIMEOUT:g})",
    )
