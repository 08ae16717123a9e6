"""Result formats: the W3C SPARQL 1.1 CSV / TSV / JSON formats, plain JSON, the table."""

from __future__ import annotations

import csv
import io
import json

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from cptkg.engines.base import SelectResult
from cptkg.results import format_result, parse_sparql_json

RESULT = SelectResult(
    ["s", "label", "n", "amount", "note"],
    [
        (
            URIRef("https://w3id.org/cptkg/id/payer-aetna"),
            Literal('Aetna, "the" payer', lang="en"),
            Literal("3", datatype=XSD.integer),
            Literal("1.30", datatype=XSD.decimal),
            Literal("line1\nline2\tTab"),
        ),
        (BNode("b0"), Literal("plain"), None, None, None),
    ],
)


def test_csv_is_w3c_sparql_csv():
    text = format_result(RESULT, "csv")
    assert text.startswith("s,label,n,amount,note\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1] == [
        "https://w3id.org/cptkg/id/payer-aetna",
        'Aetna, "the" payer',
        "3",
        "1.30",
        "line1\nline2\tTab",
    ]
    assert rows[2] == ["_:b0", "plain", "", "", ""]


def test_tsv_is_w3c_sparql_tsv():
    lines = format_result(RESULT, "tsv").split("\n")
    assert lines[0] == "?s\t?label\t?n\t?amount\t?note"
    cells = lines[1].split("\t")
    assert cells[0] == "<https://w3id.org/cptkg/id/payer-aetna>"
    assert cells[1] == '"Aetna, \\"the\\" payer"@en'
    assert cells[2] == '"3"^^<http://www.w3.org/2001/XMLSchema#integer>'
    assert cells[4] == '"line1\\nline2\\tTab"'
    assert lines[2].split("\t") == ["_:b0", '"plain"', "", "", ""]


def test_sparql_json_round_trips():
    data = json.loads(format_result(RESULT, "sparql-json"))
    assert data["head"]["vars"] == RESULT.variables
    first = data["results"]["bindings"][0]
    assert first["s"] == {"type": "uri", "value": "https://w3id.org/cptkg/id/payer-aetna"}
    assert first["label"] == {"type": "literal", "value": 'Aetna, "the" payer', "xml:lang": "en"}
    assert first["n"]["datatype"] == str(XSD.integer)
    assert "n" not in data["results"]["bindings"][1]  # unbound: left out
    assert parse_sparql_json(data).rows == RESULT.rows


def test_plain_json_values():
    rows = json.loads(format_result(RESULT, "json"))
    assert rows[0]["n"] == 3 and rows[0]["amount"] == 1.3
    assert rows[0]["s"] == "https://w3id.org/cptkg/id/payer-aetna"
    assert rows[1]["n"] is None


def test_table_uses_prefixed_names_and_aligns():
    lines = format_result(RESULT, "table").splitlines()
    assert lines[0].split() == RESULT.variables
    assert "kg:payer-aetna" in lines[2]
    assert lines[-1] == "(2 rows)"
    assert lines[2].index("Aetna") == lines[0].index("label")


def test_ask_results():
    assert format_result(True, "table") == "true\n"
    assert json.loads(format_result(False, "sparql-json")) == {"head": {}, "boolean": False}
