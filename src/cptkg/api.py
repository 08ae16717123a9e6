"""The public Python API: :class:`KnowledgeGraph`, one object for what the command line does.

Open the shipped graph (the default), files of your own, an Oxigraph store or a SPARQL
endpoint, then validate it, check new data in its context, run stored or ad-hoc queries,
export it, build a code's report or add a payer policy::

    from cptkg import KnowledgeGraph

    kg = KnowledgeGraph()                          # rdflib over ontology + data/
    print(kg.validate().conforms)
    print(kg.query("payers").as_dicts()[0]["payerName"])

Every method returns the typed result of the function it calls (:class:`SelectResult`,
:class:`ValidationResult`, :class:`IntakeReport`, :class:`Report`, :class:`AddPlan`).
Expected failures raise :class:`cptkg.errors.CptkgError` or a subclass, re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from rdflib.term import Identifier

from cptkg.catalog import QueryCatalogError, UnknownQueryError
from cptkg.codes.lookup import UnknownCodeError
from cptkg.engines import open_graph
from cptkg.engines.base import Engine, QueryError, QueryOutcome, SelectResult
from cptkg.engines.settings import EMBEDDED_ENGINES, EngineKind, GraphSettings
from cptkg.errors import CptkgError, EndpointError, InputError, ParseError
from cptkg.formats import normalize_format
from cptkg.intake.add import AddError, AddPlan, apply_add, plan_add
from cptkg.intake.csv_intake import CsvError
from cptkg.intake.reading import DEFAULT_MAX_BYTES
from cptkg.intake.report import IntakeReport
from cptkg.intake.validation import validate_files
from cptkg.query import FederationRefused, ParameterError, run_sparql, run_stored
from cptkg.report import Report, build_report, render
from cptkg.shacl.report import ValidationResult
from cptkg.workspace import using_workspace

__all__ = [
    "AddError",
    "AddPlan",
    "CptkgError",
    "CsvError",
    "EndpointError",
    "FederationRefused",
    "GraphSettings",
    "InputError",
    "IntakeReport",
    "KnowledgeGraph",
    "ParameterError",
    "ParseError",
    "QueryCatalogError",
    "QueryError",
    "Report",
    "SelectResult",
    "UnknownCodeError",
    "UnknownQueryError",
    "ValidationResult",
]


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _in_workspace(
    method: Callable[Concatenate[KnowledgeGraph, _P], _R],
) -> Callable[Concatenate[KnowledgeGraph, _P], _R]:
    """``method`` run with the graph's workspace (if any) as the active workspace."""

    @wraps(method)
    def run(self: KnowledgeGraph, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with using_workspace(self.workspace):
            return method(self, *args, **kwargs)

    return run


class KnowledgeGraph:
    """A cptkg graph opened on one engine: embedded rdflib (default), embedded Oxigraph or a
    SPARQL 1.1 endpoint. The graph is loaded on first use.

    ``KnowledgeGraph()`` is the shipped graph (ontology + ``data/``) on rdflib;
    :meth:`from_files`, :meth:`oxigraph` and :meth:`endpoint` open the others, and any
    :class:`~cptkg.engines.settings.GraphSettings` can be given directly.

    ``workspace`` (a directory made by ``cptkg init``) adds that workspace's policies and
    stored queries to the reference graph, and is where :meth:`add` writes; without it the
    workspace is found as on the command line (``$CPTKG_HOME``, else the current directory
    or one above it).
    """

    def __init__(
        self, settings: GraphSettings | None = None, *, workspace: Path | str | None = None
    ) -> None:
        self.settings = settings if settings is not None else GraphSettings(progress=False)
        self.workspace = Path(workspace).expanduser().resolve() if workspace is not None else None
        self._engine: Engine | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def from_files(
        cls,
        paths: Iterable[Path | str],
        *,
        engine: EngineKind = "rdflib",
        include_ontology: bool = True,
    ) -> KnowledgeGraph:
        """RDF files or directories of your own (with the shipped ontology unless
        ``include_ontology`` is False) on an embedded ``engine`` (rdflib or oxigraph)."""
        if engine not in EMBEDDED_ENGINES:
            raise InputError(
                f"engine {engine!r} is not an embedded engine",
                hint=f"use one of {', '.join(EMBEDDED_ENGINES)}, or KnowledgeGraph.endpoint(URL)",
            )
        files = tuple(Path(p) for p in paths)
        if not files:
            raise InputError("no files given", hint="KnowledgeGraph() opens the shipped graph")
        return cls(
            GraphSettings(
                engine=engine, paths=files, include_ontology=include_ontology, progress=False
            )
        )

    @classmethod
    def oxigraph(
        cls, store: Path | str | None = None, paths: Iterable[Path | str] = ()
    ) -> KnowledgeGraph:
        """``paths`` (default: the shipped graph) on embedded Oxigraph, kept on disk in the
        directory ``store`` when given (reused while the source files are unchanged)."""
        return cls(
            GraphSettings(
                engine="oxigraph",
                paths=tuple(Path(p) for p in paths),
                store=Path(store) if store is not None else None,
                progress=False,
            )
        )

    @classmethod
    def endpoint(
        cls, url: str, *, graph: str | None = None, timeout: float | None = None
    ) -> KnowledgeGraph:
        """The graph on a SPARQL 1.1 query endpoint: ``graph`` is the named graph read as
        the default graph (None: ``$CPTKG_GRAPH`` or where ``cptkg push`` writes;
        ``"default"``: the endpoint's own default graph), ``timeout`` seconds per request;
        credentials come from ``$CPTKG_ENDPOINT_USER`` / ``$CPTKG_ENDPOINT_PASSWORD``."""
        return cls(GraphSettings.remote(url, graph=graph, timeout=timeout))

    @property
    @_in_workspace
    def engine(self) -> Engine:
        """The engine holding the graph (opened and loaded on first use)."""
        if self._engine is None:
            self._engine = open_graph(self.settings)
        return self._engine

    def __repr__(self) -> str:
        s = self.settings
        where = s.endpoint if s.engine == "remote" else (", ".join(map(str, s.paths)) or "shipped")
        return f"KnowledgeGraph(engine={s.engine!r}, graph={where!r})"

    # ------------------------------------------------------------------ checking

    @_in_workspace
    def validate(self, *, shacl_only: bool = False) -> ValidationResult:
        """The whole graph against the shipped SHACL shapes, and every ICD-10-CM and
        place-of-service code against its release (what ``cptkg validate`` reports);
        ``shacl_only``: the shapes alone (``cptkg validate --shacl-only``)."""
        from cptkg.codes.checks import add_to_validation, check_engine_during

        if shacl_only:
            return self.engine.validate()
        result, problems = check_engine_during(self.engine, self.engine.validate)
        return add_to_validation(result, problems)

    @_in_workspace
    def validate_new(
        self, paths: Iterable[Path | str], *, max_bytes: int | None = DEFAULT_MAX_BYTES
    ) -> IntakeReport:
        """New RDF files (e.g. a payer policy) checked in the context of this graph: what
        they reference must exist here or in the same files, and only their own problems are
        reported (what ``cptkg validate FILE`` reports). Files larger than ``max_bytes`` are
        refused (None: no limit)."""
        return validate_files(list(paths), self.engine.context(), max_bytes=max_bytes)

    # ------------------------------------------------------------------ asking

    @_in_workspace
    def query(self, name: str, /, **params: str | Identifier) -> QueryOutcome:
        """Run stored query ``name`` (``cptkg queries`` lists them) with its parameters as
        keyword arguments, raw text or RDF terms: ``kg.query("payer-policy", payer="Aetna")``.
        SELECT gives a :class:`SelectResult`, ASK a bool, CONSTRUCT a Graph."""
        return run_stored(self.engine, name, params)

    @_in_workspace
    def sparql(
        self,
        text: str,
        params: Mapping[str, str | Identifier] | None = None,
        *,
        allow_service: bool = False,
    ) -> QueryOutcome:
        """Run an ad-hoc SPARQL query; ``params`` bind variables (a ``<…>`` value is an IRI,
        other text a plain literal). ``SERVICE`` is refused unless ``allow_service``."""
        return run_sparql(self.engine, text, params, allow_service=allow_service)

    @_in_workspace
    def export(self, fmt: str = "ttl") -> bytes:
        """The graph serialised as ``ttl``, ``nt``, ``jsonld``, ``trig`` or ``nq``
        (deterministic bytes on the rdflib engine)."""
        return self.engine.export(normalize_format(fmt))

    @_in_workspace
    def report(self, code: str = "64866") -> Report:
        """The overview of CPT ``code`` rebuilt from the graph (ParameterError if the graph
        has none); :meth:`report_text` renders it."""
        return build_report(self.engine, code)

    @_in_workspace
    def report_text(self, code: str = "64866", fmt: str = "md") -> str:
        """The overview of CPT ``code`` as Markdown (``md``) or one HTML page (``html``)."""
        if fmt not in ("md", "html"):
            raise InputError(f"unknown report format {fmt!r}", hint="use md or html")
        return render(self.report(code), fmt)

    # ------------------------------------------------------------------ adding

    @_in_workspace
    def add(
        self,
        paths: Iterable[Path | str],
        *,
        dry_run: bool = False,
        new_version: bool = False,
        allow_illustrative: bool = False,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
    ) -> AddPlan:
        """Add a payer policy file to the workspace's ``data/policies/`` as ``cptkg add``
        does: checked in the context of this graph, written atomically as a new file only if
        it conforms (CptkgError when there is no workspace: see ``cptkg init``).

        The returned plan says what happened: ``conforms`` and ``report`` (the findings),
        ``nothing_to_add`` (already in the graph), ``target`` (the file written, or that
        would be with ``dry_run``). A written file is loaded into this graph too.
        ``new_version`` turns a changed policy into a new dated version;
        ``allow_illustrative`` accepts records marked illustrative (demos and tests only).
        Not offered on an endpoint (InputError): a remote graph changes with ``cptkg push``."""
        if self.settings.engine == "remote":
            raise InputError(
                "add writes into data/policies/ of a workspace, not to a SPARQL endpoint",
                hint="add on an embedded graph (KnowledgeGraph()), then `cptkg push` it",
            )
        plan = plan_add(
            list(paths),
            context=self.engine.context(),
            new_version=new_version,
            max_bytes=max_bytes,
            allow_illustrative=allow_illustrative,
        )
        if dry_run or not plan.conforms or plan.nothing_to_add:
            return plan
        plan.target = apply_add(plan, plan.context)
        self.engine.load([plan.target])
        return plan
