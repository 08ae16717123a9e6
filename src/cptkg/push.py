"""Load the graph into a SPARQL store, replacing one named graph in a single request.

Two methods, both atomic on a transactional store (one HTTP request = one transaction), so a
failure leaves the previous content of the graph whole:

* ``gsp`` — SPARQL 1.1 Graph Store Protocol: ``PUT <store>?graph=<IRI>`` with the graph as
  Turtle or N-Triples; a PUT replaces the graph's content.
* ``update`` — SPARQL 1.1 Update: one request ``DROP SILENT GRAPH <g> ; INSERT DATA { GRAPH
  <g> { … } }`` for stores without the Graph Store Protocol.

``auto`` (the default) uses ``gsp`` when a store URL is known and falls back to ``update``
only when the store answers that it has no Graph Store Protocol (HTTP 404, 405 or 501) — that
PUT changed nothing, so the fallback cannot mix old and new triples.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from dataclasses import dataclass

from rdflib import Graph, URIRef

from cptkg.engines.remote import EndpointLayout, describe_failure, redact_url, scrub
from cptkg.engines.settings import Credentials, env_timeout
from cptkg.errors import EndpointError, InputError
from cptkg.export import export
from cptkg.formats import PUSH_BODY_FORMATS

METHODS = ("auto", "gsp", "update")
#: Status codes meaning "this URL has no Graph Store Protocol", which allow the fallback.
_NO_GSP = {404, 405, 501}


@dataclass(frozen=True)
class PushResult:
    """What a push did: the method used, the URL written (credential-free), the triple count."""

    method: str
    url: str
    graph: str
    triples: int
    status: int


class _HTTPFailure(EndpointError):
    """An EndpointError that remembers the HTTP status (for the auto fallback)."""

    def __init__(self, message: str, hint: str | None, status: int | None) -> None:
        super().__init__(message, hint)
        self.status = status


def push_graph(
    graph: Graph,
    layout: EndpointLayout,
    graph_iri: str,
    *,
    method: str = "auto",
    body_format: str = "nt",
    timeout: float | None = None,
    credentials: Credentials | None = None,
    use_env_credentials: bool = True,
) -> PushResult:
    """Replace named graph ``graph_iri`` at the endpoint with ``graph``, in one request.

    Raises :class:`~cptkg.errors.EndpointError` (naming the URL and what failed) on any
    failure; the graph at the endpoint is then unchanged on a transactional store.
    """
    if method not in METHODS:
        raise InputError(f"unknown push method {method!r}", hint="use auto, gsp or update")
    if body_format not in PUSH_BODY_FORMATS:
        raise InputError(f"unknown push format {body_format!r}", hint="use nt or ttl")
    if credentials is None and use_env_credentials:
        credentials = Credentials.from_env()
    seconds = env_timeout() if timeout is None else float(timeout)
    if method == "auto":
        if layout.store:
            try:
                return _push_gsp(graph, layout, graph_iri, body_format, seconds, credentials)
            except _HTTPFailure as err:
                if err.status not in _NO_GSP or not layout.update:
                    raise
        elif not layout.update:
            raise _no_target(layout)
        return _push_update(graph, layout, graph_iri, seconds, credentials)
    if method == "gsp":
        if not layout.store:
            raise EndpointError(
                f"no Graph Store Protocol URL known for {redact_url(layout.query)}",
                hint="pass --store-endpoint URL (or set CPTKG_STORE_ENDPOINT)",
            )
        return _push_gsp(graph, layout, graph_iri, body_format, seconds, credentials)
    if not layout.update:
        raise EndpointError(
            f"no SPARQL Update URL known for {redact_url(layout.query)}",
            hint="pass --update-endpoint URL (or set CPTKG_UPDATE_ENDPOINT)",
        )
    return _push_update(graph, layout, graph_iri, seconds, credentials)


def _no_target(layout: EndpointLayout) -> EndpointError:
    return EndpointError(
        f"cannot tell where to write for {redact_url(layout.query)}: no Graph Store or "
        "SPARQL Update URL known for this URL layout",
        hint="pass --store-endpoint URL or --update-endpoint URL "
        "(or set CPTKG_STORE_ENDPOINT / CPTKG_UPDATE_ENDPOINT)",
    )


def serialize_body(graph: Graph, body_format: str) -> bytes:
    """The graph as deterministic N-Triples or Turtle bytes (see :mod:`cptkg.export`)."""
    return export(graph, body_format)


def update_request(graph: Graph, graph_iri: str) -> str:
    """The one SPARQL Update request that replaces ``graph_iri`` with ``graph``."""
    g = URIRef(graph_iri).n3()
    triples = serialize_body(graph, "nt").decode("utf-8")
    return f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{triples}}} }}\n"


def _push_gsp(
    graph: Graph,
    layout: EndpointLayout,
    graph_iri: str,
    body_format: str,
    timeout: float,
    credentials: Credentials | None,
) -> PushResult:
    url = layout.store_url(graph_iri)
    body = serialize_body(graph, body_format)
    media = PUSH_BODY_FORMATS[body_format]
    status = send("PUT", url, body, media, timeout, credentials, what="Graph Store Protocol PUT")
    return PushResult("gsp", redact_url(url), graph_iri, len(graph), status)


def _push_update(
    graph: Graph,
    layout: EndpointLayout,
    graph_iri: str,
    timeout: float,
    credentials: Credentials | None,
) -> PushResult:
    assert layout.update is not None
    body = update_request(graph, graph_iri).encode("utf-8")
    status = send(
        "POST",
        layout.update,
        body,
        "application/sparql-update",
        timeout,
        credentials,
        what="SPARQL Update",
    )
    return PushResult("update", redact_url(layout.update), graph_iri, len(graph), status)


def send(
    method: str,
    url: str,
    body: bytes,
    content_type: str,
    timeout: float,
    credentials: Credentials | None,
    *,
    what: str,
) -> int:
    """Send one HTTP request; return its 2xx status or raise an EndpointError (no retries:
    a write is sent exactly once)."""
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", content_type)
    request.add_header("User-Agent", "cptkg")
    handlers: list[urllib.request.BaseHandler] = []
    digest: urllib.request.HTTPDigestAuthHandler | None = None
    if credentials is not None:
        if credentials.scheme == "digest":
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, url, credentials.user, credentials.password)
            digest = urllib.request.HTTPDigestAuthHandler(manager)
            handlers.append(digest)
        else:
            token = base64.b64encode(f"{credentials.user}:{credentials.password}".encode()).decode(
                "ascii"
            )
            request.add_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener(*handlers)
    shown = redact_url(url)
    try:
        if digest is not None:
            authorize_digest(request, digest, timeout)
        with opener.open(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except Exception as exc:  # noqa: BLE001 - every transport failure is mapped
        status_code = exc.code if isinstance(exc, urllib.error.HTTPError) else None
        detail = describe_failure(exc, timeout)
        refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
        outcome = (
            "nothing was changed"
            if status_code is not None or refused
            else "the store applies the single request whole or not at all"
        )
        raise _HTTPFailure(
            scrub(f"{what} to {shown} failed: {detail}; {outcome}", credentials),
            hint="check the URL (--endpoint / --store-endpoint / --update-endpoint), that the "
            "server is running and accepts writes, and the credentials in "
            "CPTKG_ENDPOINT_USER / CPTKG_ENDPOINT_PASSWORD",
            status=status_code,
        ) from None
    if not 200 <= status < 300:
        raise _HTTPFailure(
            f"{what} to {shown} failed: unexpected HTTP {status}; nothing was changed",
            hint=None,
            status=status,
        )
    return status


def authorize_digest(
    request: urllib.request.Request, handler: urllib.request.HTTPDigestAuthHandler, timeout: float
) -> None:
    """Add the digest ``Authorization`` header to ``request`` from the challenge a body-less
    HEAD gets, so that the body is sent once, with credentials. (Sent bare, a large body
    meets Virtuoso's 401, which closes the connection while the body is still being written:
    the client sees a reset instead of the challenge.) Without a digest challenge the request
    is left as it is."""
    probe = urllib.request.Request(request.full_url, method="HEAD")
    probe.add_header("User-Agent", "cptkg")
    try:
        with urllib.request.urlopen(probe, timeout=timeout):
            return  # no authentication asked for
    except urllib.error.HTTPError as exc:
        challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
    if not challenge.lower().startswith("digest "):
        return
    fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(challenge[7:]))
    authorization = handler.get_authorization(request, fields)
    if authorization:
        request.add_unredirected_header("Authorization", f"Digest {authorization}")
