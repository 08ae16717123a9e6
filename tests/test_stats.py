"""Statistics: triples per named graph and instances per class."""

from rdflib import RDF, Dataset, URIRef

from cptkg.stats import compute_stats, instances_per_class, triples_per_graph

EX = "http://example.org/"


def small_dataset() -> Dataset:
    ds = Dataset(default_union=True)
    g1 = ds.graph(URIRef(EX + "g1"))
    g2 = ds.graph(URIRef(EX + "g2"))
    for name in ("a", "b"):
        g1.add((URIRef(EX + name), RDF.type, URIRef(EX + "Policy")))
    g2.add((URIRef(EX + "a"), RDF.type, URIRef(EX + "Policy")))  # same triple, other graph
    g2.add((URIRef(EX + "p"), RDF.type, URIRef(EX + "Payer")))
    return ds


def test_triples_per_graph_counts_each_graph():
    assert triples_per_graph(small_dataset()) == [(EX + "g1", 2), (EX + "g2", 2)]


def test_instances_per_class_counts_distinct_subjects():
    stats = compute_stats(small_dataset())
    assert stats.classes == [(EX + "Policy", 2), (EX + "Payer", 1)]
    assert (stats.total_triples, stats.distinct_triples) == (4, 3)


def test_instances_per_class_ties_sorted_by_iri(shipped_union):
    rows = instances_per_class(shipped_union)
    assert rows, "no typed resources in the shipped graph"
    assert rows == sorted(rows, key=lambda kv: (-kv[1], kv[0]))


def test_text_table_has_both_sections():
    text = compute_stats(small_dataset()).to_text()
    assert "graph (source file)" in text and "class" in text
    assert "total: 4 triples in 2 graphs (3 distinct)" in text
