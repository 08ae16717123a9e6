"""The payer-policy schema is read from the policy shapes (sh:name, sh:order, rdfs:label,
sh:description), and the spreadsheet, the hints, ``diff`` and the generator follow it: a field
added to the shapes appears in all of them."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SH, XSD

from cptkg.generate import key_answers
from cptkg.intake.context import GraphContext
from cptkg.intake.csv_intake import cell_values, column_names, header, what
from cptkg.intake.diff import describe_changes
from cptkg.intake.hints import hint_for
from cptkg.intake.schema import policy_schema, read_schema
from cptkg.load import load_shapes
from cptkg.namespaces import CPTKG, KG
from cptkg.shacl.report import Finding
from intake_helpers import ROOT

SHAPE = "https://w3id.org/cptkg/shapes#"
TEMPLATE = ROOT / "data" / "templates" / "policy-template.csv"


def test_template_header_is_the_schema_columns_in_order():
    shapes = load_shapes()
    template = TEMPLATE.read_text(encoding="utf-8")
    assert template == header() + "\n"
    names = template.rstrip("\n").split(",")
    policy_shapes = set(shapes.subjects(SH.targetClass, CPTKG.PayerPolicy))
    ordered = []
    for name in names:
        [shape] = list(shapes.subjects(SH.name, Literal(name)))
        assert any((node, SH.property, shape) in shapes for node in policy_shapes), name
        ordered.append(float(shapes.value(shape, SH.order).toPython()))
    assert ordered == sorted(ordered)


def test_every_policy_property_shape_is_a_field():
    shapes = load_shapes()
    schema = policy_schema()
    own = set(shapes.objects(URIRef(SHAPE + "PayerPolicyShape"), SH.property))
    assert own <= {f.shape for f in schema.fields}
    names = [f.name for f in schema.fields if f.name]
    assert len(names) == len(set(names))
    assert all(f.label and f.description for f in schema.fields)


def test_fields_read_as_before():
    schema = policy_schema()
    assert [f.label for f in schema.fields] == [
        "identifier",
        "title",
        "payer",
        "procedure codes",
        "code-applicability basis",
        "version",
        "effective date",
        "effective date status",
        "end date",
        "last reviewed",
        "retrieved",
        "coverage",
        "prior authorization",
        "site-of-service restriction",
        "allowed places of service",
        "documentation required",
        "documentation text",
        "medical-necessity criteria",
        "criteria text",
        "supporting diagnoses",
        "supporting diagnosis categories",
        "modifiers",
        "policy document",
        "derived from",
        "supersedes",
        "evidence status",
        "status note",
        "quote",
    ]
    multi = {f.label for f in schema.fields if f.multi and f.datatype is None}
    assert {
        "procedure codes",
        "supporting diagnoses",
        "supporting diagnosis categories",
        "supersedes",
        "derived from",
    } <= multi
    codes = {f.name or f.label: f.code.prefix for f in schema.fields if f.code is not None}
    assert codes == {
        "supporting diagnosis categories": "icd10cm-",
        "cpt_codes": "cpt-",
        "allowed_places_of_service": "pos-",
        "supporting_diagnoses": "icd10cm-",
        "modifiers": "modifier-",
    }
    assert list(key_answers(schema)) == [
        "codeApplicabilityBasis",
        "coverage",
        "priorAuthorization",
        "siteOfServiceRestriction",
        "documentationRequired",
        "medicalNecessityCriteria",
    ]


def _with_new_field() -> Graph:
    """The shipped shapes plus one controlled-answer field and one date field."""
    shapes = load_shapes()
    extra = f"""
    @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix cptkg: <{CPTKG}> .
    @prefix shape: <{SHAPE}> . @prefix rdfs: <{RDFS}> . @prefix xsd: <{XSD}> .
    shape:PayerPolicyShape sh:property shape:PayerPolicyShape-appeal,
        shape:PayerPolicyShape-sunset .
    shape:PayerPolicyShape-appeal a sh:PropertyShape ;
        sh:path cptkg:appealAllowed ; sh:minCount 1 ; sh:maxCount 1 ;
        sh:in ( cptkg:appeal-yes cptkg:appeal-no cptkg:appeal-not-stated ) ;
        sh:name "appeal" ; sh:order 11.5 ; rdfs:label "appeal" ;
        sh:description "whether a denial can be appealed" ;
        sh:message "Answer appeal." .
    shape:PayerPolicyShape-sunset a sh:PropertyShape ;
        sh:path cptkg:sunsetDate ; sh:maxCount 1 ; sh:datatype xsd:date ;
        sh:name "sunset_date" ; sh:order 10.5 ; rdfs:label "sunset date" ;
        sh:description "YYYY-MM-DD" ; sh:message "One sunset date." .
    """
    shapes.parse(data=extra, format="turtle")
    return shapes


def test_a_field_added_to_the_shapes_reaches_spreadsheet_hints_diff_and_generator():
    schema = read_schema(_with_new_field(), CPTKG.PayerPolicy)
    names = column_names(schema)
    assert names.index("sunset_date") == names.index("retrieved") + 1
    assert names.index("appeal") == names.index("coverage") + 1
    appeal = schema.column("appeal")
    assert what(appeal) == "whether a denial can be appealed: yes | no | not-stated"
    errors: list[tuple[str, str, str]] = []
    vocab = {"yes": CPTKG["appeal-yes"], "no": CPTKG["appeal-no"]}
    assert cell_values(appeal, "yes", vocab, lambda *e: errors.append(e)) == [CPTKG["appeal-yes"]]
    assert (
        cell_values(schema.column("sunset_date"), "2025-02-30", None, lambda *e: errors.append(e))
        == []
    )
    assert errors == [
        ("sunset_date", "'2025-02-30' is not a date", "write it as YYYY-MM-DD, e.g. 2025-01-01")
    ]
    assert key_answers(schema)["appealAllowed"] == ("appeal-yes", "appeal-no", "appeal-not-stated")

    pol = KG["policy-x"]
    old, new = Graph(), Graph()
    old.add((pol, CPTKG.appealAllowed, CPTKG["appeal-not-stated"]))
    new.add((pol, CPTKG.appealAllowed, CPTKG["appeal-yes"]))
    assert describe_changes(old, pol, new, pol, schema=schema) == [
        "appeal: cptkg:appeal-not-stated → cptkg:appeal-yes"
    ]

    finding = Finding(
        focus_node=pol,
        path=CPTKG.appealAllowed,
        value=None,
        source_shape=URIRef(SHAPE + "PayerPolicyShape-appeal"),
        constraint_component=SH.MinCountConstraintComponent,
        severity="Violation",
        message="Answer appeal.",
    )
    ns = Graph()
    ns.bind("cptkg", CPTKG)
    assert hint_for(finding, GraphContext(Graph()), ns, schema) == (
        "state appeal with one of cptkg:appeal-yes, cptkg:appeal-no; use "
        "cptkg:appeal-not-stated when the source is silent"
    )
