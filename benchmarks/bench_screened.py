"""Benchmark: the default engine's validation (pySHACL run only on the focus nodes the compiled
shapes flag, :mod:`cptkg.shacl.screened`) against pySHACL on the whole graph.

``python benchmarks/bench_screened.py [--sizes 10k 100k] [--rate 0.01] [--repeat 3]`` generates
each graph once (seed 1, a share ``--rate`` of its policies and codes broken), loads it with the
shipped graph into one rdflib Graph, and runs ``--repeat`` paired rounds of both validations
on it, checking every round that the findings are the same, every field. It prints the median
of each, their ratio, and how many focus nodes pySHACL validated. Run by hand; nothing here is
a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cptkg.generate import generate, parse_size
from cptkg.load import load_dataset, load_ontology, load_shapes, shipped_files, union_graph
from cptkg.shacl.pyshacl_runner import validate
from cptkg.shacl.screened import flagged_focus_nodes, validate_screened


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", default=["10k", "100k"], metavar="SIZE")
    p.add_argument("--rate", type=float, default=0.01, help="share of broken policies and codes")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    shapes, ontology = load_shapes(), load_ontology()
    print(
        "| size (triples) | flagged focus nodes | results | pySHACL, whole graph | "
        "pySHACL screened | ratio |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            codes, payers, versions = parse_size(size)
            path = Path(tmp) / f"g{size}.nt"
            generate(
                path, codes=codes, payers=payers, versions=versions, seed=1, invalid_rate=args.rate
            )
            data = union_graph(load_dataset([*shipped_files(), path], include_ontology=True))
            flagged = flagged_focus_nodes([data], shapes, ontology)
            whole: list[float] = []
            screened: list[float] = []
            count = 0
            for _ in range(args.repeat):
                t = time.perf_counter()
                reference = validate(data, shapes=shapes, ontology=ontology)
                whole.append(time.perf_counter() - t)
                t = time.perf_counter()
                found = validate_screened(data, shapes, ontology)
                screened.append(time.perf_counter() - t)
                if [f.statement() for f in found.results] != [
                    f.statement() for f in reference.results
                ]:
                    print(f"{size}: the findings differ", file=sys.stderr)
                    return 1
                count = len(found.results)
            a, b = statistics.median(whole), statistics.median(screened)
            print(
                f"| {size} ({len(data):,}) | {len(flagged) if flagged is not None else 'all'} "
                f"| {count} | {a:.2f} s | {b:.2f} s | {a / b:.1f}x |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
