"""Remote SPARQL endpoints: connection settings, URL layouts, and the :class:`RemoteEngine`.

:class:`RemoteEngine` implements :class:`~cptkg.engines.base.Engine` over the SPARQL 1.1
Protocol through SPARQLWrapper: SELECT / ASK ask for SPARQL JSON results and parse them into
rdflib terms (``rdflib.query.Result.parse``), CONSTRUCT / DESCRIBE ask for Turtle. Parameters
are bound with :func:`~cptkg.engines.base.inject_values` (a ``VALUES`` block of ``n3()``-serialised
terms), never pasted into the query text as strings.

Every failure (connection refused, timeout, HTTP 4xx / 5xx, a body that does not parse, a wrong
content type) becomes an :class:`~cptkg.errors.EndpointError` whose message names the endpoint
(with any credentials removed from the URL) and what failed. Credentials come only from the
environment (``CPTKG_ENDPOINT_USER`` / ``CPTKG_ENDPOINT_PASSWORD``) and never appear in a message.

Environment variables (all optional; command-line options win):

``CPTKG_ENDPOINT``            SPARQL query URL
``CPTKG_UPDATE_ENDPOINT``     SPARQL Update URL (derived from the query URL for known layouts)
``CPTKG_STORE_ENDPOINT``      Graph Store Protocol URL (derived likewise)
``CPTKG_GRAPH``               named graph to push to and to query as the default graph
``CPTKG_ENDPOINT_USER``       HTTP user name
``CPTKG_ENDPOINT_PASSWORD``   HTTP password
``CPTKG_ENDPOINT_AUTH``       ``basic`` (default) or ``digest`` (Virtuoso's ``-auth`` URLs)
``CPTKG_ENDPOINT_TIMEOUT``    seconds per request (default 30)
"""

from __future__ import annotations

import ast
import base64
import http.client
import io
import os
import re
import socket
import urllib.error
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph
from rdflib.query import Result
from rdflib.term import Identifier

from cptkg.engines.base import (
    QueryOutcome,
    SelectResult,
    bind_query,
    mask_comments_and_strings,
)
from cptkg.engines.settings import (
    ENV_PASSWORD,
    ENV_USER,
    Credentials,
    env_timeout,
)
from cptkg.engines.sparql_validation import SparqlOnly
from cptkg.errors import EndpointError
from cptkg.export import export
from cptkg.shacl.compiler import DIALECT_LATERAL, DIALECT_STANDARD, DIALECTS

_SELECT_TYPES = ("application/sparql-results+json", "application/json")
_GRAPH_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "nt",
    "text/plain": "nt",  # N-Triples' historical media type
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
_MAX_DETAIL = 300


# --------------------------------------------------------------------------- URLs


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part (safe to print)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scrub(text: str, credentials: Credentials | None = None) -> str:
    """``text`` with the password (if any) and URL credentials replaced by ``***``."""
    text = re.sub(r"(?i)\b(https?://)[^/@\s]+@", r"\1", text)
    user = credentials.user if credentials else os.environ.get(ENV_USER, "")
    secret = credentials.password if credentials else os.environ.get(ENV_PASSWORD, "")
    if secret:
        token = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
        text = text.replace(token, "***").replace(secret, "***")
    return text


def check_url(url: str, what: str = "endpoint") -> str:
    """Validate an endpoint URL (http/https, a host, no credentials); return it unchanged."""
    shown = redact_url(url)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise EndpointError(
            f"{what} URL {shown!r} is not a valid URL", hint="give an http:// or https:// URL"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(
            f"{what} URL {shown!r} is not an http(s) URL",
            hint="give the full URL, e.g. http://127.0.0.1:7878/query",
        )
    if parts.username is not None or parts.password is not None:
        raise EndpointError(
            f"{what} URL {shown} contains credentials; they are not accepted in URLs",
            hint=f"put them in the environment: {ENV_USER} and {ENV_PASSWORD}",
        )
    return url


# --------------------------------------------------------------------------- URL layouts


@dataclass(frozen=True)
class EndpointLayout:
    """The URLs of one SPARQL service: query, update and Graph Store Protocol endpoints."""

    query: str
    update: str | None = None
    store: str | None = None
    #: Which server layout the URLs were derived from ("oxigraph", "fuseki", ...), or "custom".
    kind: str = "custom"
    #: Name of the Graph Store Protocol graph parameter (Virtuoso's older CRUD uses graph-uri).
    graph_param: str = "graph"

    def store_url(self, graph: str | None) -> str:
        """The Graph Store URL addressing ``graph`` (None: the default graph)."""
        if self.store is None:
            raise EndpointError(f"no Graph Store endpoint known for {redact_url(self.query)}")
        sep = "&" if "?" in self.store else "?"
        if graph is None:
            return f"{self.store}{sep}default"
        return f"{self.store}{sep}{self.graph_param}={urllib.parse.quote(graph, safe='')}"


_LAYOUTS: list[tuple[str, re.Pattern[str], str | None, str | None, str]] = [
    # kind, pattern on the path, update suffix, store suffix, graph parameter
    ("oxigraph", re.compile(r"^(?P<base>)/query$"), "/update", "/store", "graph"),
    (
        "virtuoso",
        re.compile(r"^(?P<base>)/sparql(-auth)?$"),
        "/sparql-auth",
        "/sparql-graph-crud-auth",
        "graph-uri",
    ),
    ("fuseki", re.compile(r"^(?P<base>/[^/]+)/(sparql|query)$"), "/update", "/data", "graph"),
    # an Oxigraph behind a path prefix (/prefix/a/query)
    ("oxigraph", re.compile(r"^(?P<base>.*)/query$"), "/update", "/store", "graph"),
    (
        "graphdb",
        re.compile(r"^(?P<base>.*/repositories/[^/]+)$"),
        "/statements",
        "/rdf-graphs/service",
        "graph",
    ),
]


def derive_layout(
    query: str, update: str | None = None, store: str | None = None
) -> EndpointLayout:
    """The endpoint layout for a query URL: explicit update / store URLs win, otherwise they
    are derived for the known layouts (Oxigraph ``/query`` ``/update`` ``/store``; Fuseki
    ``/ds/sparql`` ``/ds/update`` ``/ds/data``; GraphDB ``/repositories/R``
    ``…/statements`` ``…/rdf-graphs/service``; Virtuoso ``/sparql`` ``/sparql-auth``
    ``/sparql-graph-crud-auth``)."""
    check_url(query, "query endpoint")
    if update:
        check_url(update, "update endpoint")
    if store:
        check_url(store, "store endpoint")
    parts = urllib.parse.urlsplit(query)
    path = parts.path.rstrip("/") if parts.path != "/" else parts.path
    for kind, pattern, upd, sto, param in _LAYOUTS:
        m = pattern.match(path)
        if not m:
            continue
        base = m.group("base")

        def at(suffix: str | None, base: str = base) -> str | None:
            if suffix is None:
                return None
            return urllib.parse.urlunsplit((parts.scheme, parts.netloc, base + suffix, "", ""))

        return EndpointLayout(
            query=query,
            update=update or at(upd),
            store=store or at(sto),
            kind=kind,
            graph_param=param if not store else "graph",
        )
    return EndpointLayout(query=query, update=update, store=store)


# --------------------------------------------------------------------------- failures


def describe_failure(exc: BaseException, timeout: float) -> str:
    """A short, credential-free phrase saying what went wrong with an HTTP request."""
    from SPARQLWrapper import SPARQLExceptions as SE

    statuses = {
        SE.QueryBadFormed: 400,
        SE.Unauthorized: 401,
        SE.EndPointNotFound: 404,
        SE.URITooLong: 414,
        SE.EndPointInternalError: 500,
    }
    if isinstance(exc, urllib.error.HTTPError):
        return http_status_phrase(exc.code, exc.reason, _read_error_body(exc))
    for cls, code in statuses.items():
        if isinstance(exc, cls):
            body = _sparqlwrapper_body(exc)
            return http_status_phrase(code, http.client.responses.get(code, ""), body)
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, BaseException):
            return describe_failure(reason, timeout)
        return f"cannot connect ({reason})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running and the port right?)"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror or exc})"
    if isinstance(exc, (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        return "the server closed the connection without an answer"
    if isinstance(exc, http.client.HTTPException):
        return f"malformed HTTP response ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"network error ({exc.strerror or exc})"
    return f"{type(exc).__name__}: {exc}"


def http_status_phrase(code: int, reason: str | None, body: str) -> str:
    """``HTTP 500 Internal Server Error: <first line of the body>``."""
    reason = reason or http.client.responses.get(code, "")
    phrase = f"HTTP {code} {reason}".rstrip()
    if body:
        phrase += f": {body}"
    return phrase


def _short(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _read_error_body(exc: urllib.error.HTTPError) -> str:
    try:
        data = exc.read(4096)
    except Exception:  # noqa: BLE001 - the body is only a detail of the message
        return ""
    return _short(data.decode("utf-8", "replace")) if data else ""


def _sparqlwrapper_body(exc: BaseException) -> str:
    """The response body SPARQLWrapper's exceptions carry only inside their message."""
    m = re.search(r"Response:\n(b?(['\"]).*\2)\s*$", str(exc), re.DOTALL)
    if not m:
        return ""
    try:
        raw = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return _short(str(raw))


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# --------------------------------------------------------------------------- the engine


class RemoteEngine(SparqlOnly):
    """The :class:`~cptkg.engines.base.Engine` protocol over a SPARQL 1.1 Protocol endpoint.

    ``default_graph``: a graph IRI sent as the protocol's ``default-graph-uri`` parameter, so
    that queries written against the default graph see a pushed named graph (portable across
    servers; Oxigraph's default graph is not the union of the named graphs). None sends none.
    ``dialect``: the SPARQL the compiled shapes are sent in (:data:`cptkg.shacl.compiler.DIALECTS`);
    None asks the server once whether it evaluates ``LATERAL`` (Oxigraph does; Virtuoso,
    Fuseki and GraphDB answer with a syntax error) and uses standard SPARQL 1.1 otherwise.
    """

    name = "remote"

    def __init__(
        self,
        endpoint: str,
        *,
        default_graph: str | None = None,
        timeout: float | None = None,
        credentials: Credentials | None = None,
        use_env_credentials: bool = True,
        dialect: str | None = None,
    ) -> None:
        if dialect is not None and dialect not in DIALECTS:
            raise EndpointError(
                f"unknown SPARQL dialect {dialect!r}", hint=f"use one of {', '.join(DIALECTS)}"
            )
        self._dialect = dialect
        self.endpoint = check_url(endpoint, "query endpoint")
        self.default_graph = default_graph
        self.timeout = env_timeout() if timeout is None else float(timeout)
        if credentials is None and use_env_credentials:
            credentials = Credentials.from_env()
        self._credentials = credentials

    @property
    def display_url(self) -> str:
        """The endpoint URL as shown in messages (never with credentials)."""
        return redact_url(self.endpoint)

    def __repr__(self) -> str:
        return f"RemoteEngine({self.display_url!r}, default_graph={self.default_graph!r})"

    def query(self, sparql: str, bindings: dict[str, Identifier] | None = None) -> QueryOutcome:
        """Run ``sparql`` on the endpoint with ``bindings`` injected as a VALUES block."""
        text = bind_query(sparql, bindings)
        kind = query_form(text)
        if kind in ("SELECT", "ASK"):
            body, ctype = self._request(text, "json")
            return self._parse_results(body, ctype, kind)
        body, ctype = self._request(text, "turtle")
        return self._parse_graph(body, ctype)

    def sparql_dialect(self) -> str:
        """:data:`~cptkg.shacl.compiler.DIALECT_LATERAL` when the server evaluates Oxigraph's
        ``LATERAL`` (asked once, with a one-row probe query), else standard SPARQL 1.1. A server
        that cannot be reached raises EndpointError."""
        if self._dialect is None:
            self._dialect = DIALECT_LATERAL if self._answers_lateral() else DIALECT_STANDARD
        return self._dialect

    def _answers_lateral(self) -> bool:
        try:
            result = self.query(LATERAL_PROBE)
        except EndpointError as err:
            if re.search(r"\bHTTP (400|406|415|422|500|501)\b", str(err)):
                return False  # the server refuses the query: no LATERAL there
            raise
        return isinstance(result, SelectResult) and len(result.rows) == 1

    def load(self, paths: Iterable[Path | str]) -> None:
        """Not offered: a remote graph is replaced as a whole with ``cptkg push``."""
        raise EndpointError(
            f"SPARQL endpoint {self.display_url}: adding files through the query endpoint is "
            "not supported",
            hint="load the graph into the store with `cptkg push PATH ... --endpoint URL`",
        )

    def export(self, fmt: str) -> bytes:
        """The endpoint's (default) graph, fetched with one CONSTRUCT, in ``fmt``; TriG and
        N-Quads put it in the default graph."""
        graph = self.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        assert isinstance(graph, Graph)
        return export(graph, fmt)

    # -- HTTP

    def _wrapper(self, text: str, fmt: str):  # noqa: ANN202 - SPARQLWrapper has no stubs
        from SPARQLWrapper import BASIC, DIGEST, JSON, POST, TURTLE, SPARQLWrapper

        sw = SPARQLWrapper(self.endpoint, agent="cptkg (SPARQLWrapper)")
        sw.setQuery(text)
        sw.setMethod(POST)
        sw.setReturnFormat(JSON if fmt == "json" else TURTLE)
        sw.timeout = self.timeout  # not setTimeout(): it truncates to int (0.5 s -> no timeout)
        if self.default_graph:
            sw.addDefaultGraph(self.default_graph)
        if self._credentials is not None:
            sw.setHTTPAuth(DIGEST if self._credentials.scheme == "digest" else BASIC)
            sw.setCredentials(self._credentials.user, self._credentials.password)
        if fmt == "json":
            sw.addCustomHttpHeader("Accept", "application/sparql-results+json")
        else:
            sw.addCustomHttpHeader("Accept", "text/turtle, application/n-triples;q=0.9")
        return sw

    def _fail(self, what: str) -> EndpointError:
        return EndpointError(
            scrub(f"SPARQL endpoint {self.display_url}: {what}", self._credentials),
            hint="check the endpoint URL (--endpoint or $CPTKG_ENDPOINT), that the server is "
            "running, and the query",
        )

    def _request(self, text: str, fmt: str) -> tuple[bytes, str]:
        try:
            sw = self._wrapper(text, fmt)
            result = sw.query()
            response = result.response
            ctype = response.info().get("Content-Type", "")
            body = response.read()
        except EndpointError:
            raise
        except Exception as exc:  # noqa: BLE001 - every transport failure is mapped
            raise self._fail(describe_failure(exc, self.timeout)) from None
        return body, ctype

    # -- parsing

    def _parse_results(self, body: bytes, ctype: str, kind: str) -> SelectResult | bool:
        media = _media_type(ctype)
        if media not in _SELECT_TYPES:
            raise self._fail(
                f"answered a {kind} query with content type {media or '(none)'!r}, expected "
                "application/sparql-results+json"
            )
        try:
            result = Result.parse(io.BytesIO(body), format="json")
        except Exception as exc:  # noqa: BLE001 - any parser failure means a bad body
            raise self._fail(
                f"malformed SPARQL JSON results ({type(exc).__name__}: {_short(str(exc))})"
            ) from None
        if kind == "ASK":
            if result.type != "ASK" or not isinstance(result.askAnswer, bool):
                raise self._fail("malformed SPARQL JSON results: an ASK query got no boolean")
            return result.askAnswer
        if result.type != "SELECT" or result.vars is None:
            raise self._fail("malformed SPARQL JSON results: a SELECT query got no variables")
        variables = [str(v) for v in result.vars]
        rows = [tuple(row) for row in result]  # a ResultRow holds its terms in variable order
        return SelectResult(variables, rows)  # type: ignore[arg-type]

    def _parse_graph(self, body: bytes, ctype: str) -> Graph:
        media = _media_type(ctype)
        fmt = _GRAPH_TYPES.get(media)
        if fmt is None:
            raise self._fail(
                f"answered a graph query with content type {media or '(none)'!r}, expected "
                "text/turtle or application/n-triples"
            )
        g = Graph()
        try:
            g.parse(data=body.decode("utf-8"), format=fmt)
        except Exception as exc:  # noqa: BLE001
            raise self._fail(
                f"malformed {fmt} graph in the answer ({type(exc).__name__}: {_short(str(exc))})"
            ) from None
        return g


#: A query only a server evaluating Oxigraph's LATERAL answers (with one row).
LATERAL_PROBE = "SELECT ?x WHERE { LATERAL { BIND (1 AS ?x) } }"

_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(sparql: str) -> str:
    """The query form of ``sparql``: SELECT, ASK, CONSTRUCT or DESCRIBE (comments, strings
    and IRIs ignored; PREFIX / BASE declarations skipped)."""
    m = _FORM.search(mask_comments_and_strings(sparql))
    if m is None:
        raise EndpointError(
            "not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)",
            hint="SPARQL Update is not run through the query endpoint",
        )
    return m.group(1).upper()
