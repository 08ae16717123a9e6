"""Aligned plain-text tables, the one way cptkg lays out columns for people."""

from __future__ import annotations

from collections.abc import Sequence

from cptkg.textsafe import printable


def text_table(
    rows: Sequence[Sequence[str]],
    header: Sequence[str] | None = None,
    *,
    right: Sequence[int] = (),
    max_width: int | None = None,
) -> list[str]:
    """Lines of ``rows`` in columns two spaces apart, under ``header`` and a dashed rule when
    given. Columns whose index is in ``right`` are right-aligned; cells longer than
    ``max_width`` are cut with "…"; newlines in cells become spaces; no trailing spaces."""
    cells = [[printable(c.replace("\n", " ")) for c in row] for row in rows]
    if max_width and max_width > 1:
        cells = [
            [c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells
        ]
    width_rows = cells if header is None else [list(header), *cells]
    if not width_rows:
        return []
    widths = [max(len(row[i]) for row in width_rows) for i in range(len(width_rows[0]))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    lines = [] if header is None else [line(header), "  ".join("-" * w for w in widths)]
    return lines + [line(row) for row in cells]
