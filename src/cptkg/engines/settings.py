"""Which graph to open and how: :class:`GraphSettings` (engine kind, data files, on-disk store,
SPARQL endpoint, named graph, timeout, credentials), plus the names and defaults of the endpoint
environment variables.

Kept free of heavy imports (no rdflib, pyoxigraph or SPARQLWrapper): the command line reads the
defaults for its ``--help`` texts whenever it builds its parsers.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cptkg.errors import EndpointError

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
#: Environment variable choosing the embedded engine when ``--engine`` is not given.
ENV_ENGINE = "CPTKG_ENGINE"

EngineKind = Literal["rdflib", "oxigraph", "remote"]
#: The embedded engines (``--engine`` choices); "remote" is chosen by giving an endpoint.
EMBEDDED_ENGINES: tuple[EngineKind, ...] = ("rdflib", "oxigraph")


def endpoint_from_env() -> str | None:
    """``$CPTKG_ENDPOINT`` or None."""
    return os.environ.get(ENV_ENDPOINT) or None


@dataclass(frozen=True)
class Credentials:
    """HTTP credentials from the environment. ``repr`` never shows the password."""

    user: str
    password: str
    scheme: str = "basic"  # or "digest"

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password='***', scheme={self.scheme!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials | None:
        """Credentials from ``CPTKG_ENDPOINT_USER`` / ``_PASSWORD`` / ``_AUTH``, or None."""
        env = os.environ if environ is None else environ
        user = env.get(ENV_USER, "")
        password = env.get(ENV_PASSWORD, "")
        if not user and not password:
            return None
        if not user:
            raise EndpointError(
                f"{ENV_PASSWORD} is set but {ENV_USER} is not",
                hint=f"set {ENV_USER} to the endpoint's user name",
            )
        scheme = env.get(ENV_AUTH, "basic").strip().lower() or "basic"
        if scheme not in ("basic", "digest"):
            raise EndpointError(
                f"{ENV_AUTH}={scheme!r} is not an HTTP authentication scheme cptkg knows",
                hint="use basic or digest",
            )
        return cls(user, password, scheme)


def env_timeout(environ: Mapping[str, str] | None = None) -> float:
    """``CPTKG_ENDPOINT_TIMEOUT`` in seconds, or :data:`DEFAULT_TIMEOUT`."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_TIMEOUT, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise EndpointError(f"{ENV_TIMEOUT}={raw!r} is not a positive number of seconds")
    return value


def resolve_graph(graph: str | None) -> str | None:
    """The named graph to use: ``graph``, else ``$CPTKG_GRAPH``, else :data:`DEFAULT_GRAPH_IRI`;
    ``"default"`` (or an empty value) means the endpoint's own default graph (None)."""
    value = graph if graph is not None else os.environ.get(ENV_GRAPH) or DEFAULT_GRAPH_IRI
    value = value.strip()
    if not value or value == ENDPOINT_DEFAULT_GRAPH:
        return None
    parts = urllib.parse.urlsplit(value)
    if not parts.scheme or re.search(r"[\s<>\"{}|\\^`]", value):
        raise EndpointError(
            f"graph {value!r} is not an absolute IRI",
            hint=f"give an IRI such as {DEFAULT_GRAPH_IRI}, or 'default' for the default graph",
        )
    return value


@dataclass(frozen=True)
class GraphSettings:
    """Which graph to open (see :func:`cptkg.engines.open_graph`).

    ``paths`` empty means the shipped graph (ontology, optionally the shapes, and
    ``data/**/*.ttl``); given paths are opened with the shipped ontology (and shapes) when
    ``include_ontology`` (``include_shapes``) is set. ``store`` keeps an Oxigraph store on
    disk, used as it is while loaded from the same files; one loaded from other files is
    refused unless ``rebuild_store``, which clears and reloads it. A remote engine reads
    ``endpoint`` with ``graph`` as its default graph (None: the endpoint's own default
    graph), ``timeout`` seconds per request (None: ``$CPTKG_ENDPOINT_TIMEOUT`` or 30) and
    ``credentials``.
    """

    engine: EngineKind = "rdflib"
    paths: tuple[Path, ...] = ()
    include_ontology: bool = True
    include_shapes: bool = False
    store: Path | None = None
    rebuild_store: bool = False
    endpoint: str | None = None
    graph: str | None = DEFAULT_GRAPH_IRI
    timeout: float | None = None
    credentials: Credentials | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.engine not in (*EMBEDDED_ENGINES, "remote"):
            raise ValueError(f"unknown engine {self.engine!r}")
        if self.engine == "remote" and not self.endpoint:
            raise EndpointError("the remote engine needs an endpoint URL")
        if self.timeout is not None and not self.timeout > 0:
            raise EndpointError(f"--timeout {self.timeout:g}: must be a positive number of seconds")

    @classmethod
    def remote(
        cls,
        endpoint: str,
        *,
        graph: str | None = None,
        timeout: float | None = None,
    ) -> GraphSettings:
        """Settings for a SPARQL endpoint: ``graph`` resolved with :func:`resolve_graph`,
        credentials from the environment."""
        return cls(
            engine="remote",
            endpoint=endpoint,
            graph=resolve_graph(graph),
            timeout=timeout,
            credentials=Credentials.from_env(),
        )
