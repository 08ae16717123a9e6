"""Aligned plain-text tables, the one way cptkg lays out columns for people.

A table given a ``max_width`` fits it: when the columns side by side are wider, the widest
columns are narrowed first and their cells wrapped within the column (a word is split only
when longer than :data:`MAX_UNBROKEN`; no column is narrower than :data:`MIN_COLUMN`); when
even that cannot fit, each row becomes a block of "column  value" lines (one record per
block, blocks separated by a blank line). Without ``max_width`` the cells stay whole.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from cptkg.textsafe import printable

#: Columns are never narrowed below this many characters.
MIN_COLUMN = 8
#: Words up to this long are never split when a column is narrowed.
MAX_UNBROKEN = 20
#: The narrowest table width accepted (``--max-width``).
MIN_TABLE_WIDTH = 20
#: Spaces between two columns.
GAP = 2


def cell_text(value: str) -> str:
    """A cell's text as printed on one line: line breaks become spaces, and control, bidi and
    zero-width characters are escaped (:func:`cptkg.textsafe.printable`)."""
    return printable(value.replace("\n", " "))


def text_table(
    rows: Sequence[Sequence[str]],
    header: Sequence[str] | None = None,
    *,
    right: Sequence[int] = (),
    max_width: int | None = None,
) -> list[str]:
    """Lines of ``rows`` in columns two spaces apart, under ``header`` and a dashed rule when
    given; columns whose index is in ``right`` are right-aligned; no trailing spaces.

    With ``max_width``, no line is longer than ``max_width`` characters (at least
    :data:`MIN_TABLE_WIDTH`): long cells wrap within narrowed columns, or, when the columns
    cannot be narrowed enough, every row is printed as a block of "column  value" lines."""
    cells = [[cell_text(c) for c in row] for row in rows]
    head = None if header is None else [cell_text(h) for h in header]
    all_rows = cells if head is None else [head, *cells]
    if not all_rows:
        return []
    natural = [max(len(row[i]) for row in all_rows) for i in range(len(all_rows[0]))]
    if max_width is None:
        return _grid(cells, head, natural, right)
    limit = max(max_width, MIN_TABLE_WIDTH)
    minimum = [min_width([row[i] for row in all_rows]) for i in range(len(natural))]
    widths = fit_widths(natural, minimum, limit)
    if widths is None:
        labels = head if head is not None else [str(i + 1) for i in range(len(natural))]
        return _records(cells, labels, limit)
    return _grid(cells, head, widths, right)


def table_width(widths: Sequence[int]) -> int:
    """The width of a line of columns ``widths`` wide, :data:`GAP` spaces apart."""
    return sum(widths) + GAP * (len(widths) - 1)


def fit_widths(natural: Sequence[int], minimum: Sequence[int], limit: int) -> list[int] | None:
    """Column widths between ``minimum`` and ``natural`` whose line fits ``limit``: the widest
    columns are narrowed first, to a common cap. None when even ``minimum`` does not fit."""
    if table_width(natural) <= limit:
        return list(natural)
    if table_width(minimum) > limit:
        return None
    lo, hi = 0, max(natural)  # the largest cap that fits lies in [lo, hi)
    while hi - lo > 1:
        cap = (lo + hi) // 2
        if (
            table_width([max(m, min(n, cap)) for n, m in zip(natural, minimum, strict=True)])
            <= limit
        ):
            lo = cap
        else:
            hi = cap
    return [max(m, min(n, lo)) for n, m in zip(natural, minimum, strict=True)]


def min_width(texts: Sequence[str]) -> int:
    """The narrowest a column of ``texts`` may get: its longest word (words longer than
    :data:`MAX_UNBROKEN` may be split), at least :data:`MIN_COLUMN`, at most its widest text."""
    longest = max((len(word) for text in texts for word in text.split()), default=0)
    natural = max((len(text) for text in texts), default=0)
    return min(natural, max(MIN_COLUMN, min(longest, MAX_UNBROKEN)))


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters (long words split)."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True) or [""]


def _grid(
    cells: list[list[str]], head: list[str] | None, widths: Sequence[int], right: Sequence[int]
) -> list[str]:
    def lines_of(row: Sequence[str]) -> list[str]:
        parts = [_wrap(c, w) for c, w in zip(row, widths, strict=True)]
        height = max((len(p) for p in parts), default=1)
        out = []
        for k in range(height):
            texts = [p[k] if k < len(p) else "" for p in parts]
            out.append(
                (" " * GAP)
                .join(
                    t.rjust(w) if i in right else t.ljust(w)
                    for i, (t, w) in enumerate(zip(texts, widths, strict=True))
                )
                .rstrip()
            )
        return out

    lines: list[str] = []
    if head is not None:
        lines += lines_of(head)
        lines.append((" " * GAP).join("-" * w for w in widths))
    for row in cells:
        lines += lines_of(row)
    return lines


def _records(cells: list[list[str]], labels: list[str], limit: int) -> list[str]:
    """Each row as a block of "label  value" lines within ``limit``; blank line between."""
    label_width = min(max(len(label) for label in labels), limit // 3)
    widths = [label_width, limit - label_width - GAP]
    lines: list[str] = []
    for n, row in enumerate(cells):
        if n:
            lines.append("")
        for label, value in zip(labels, row, strict=True):
            lines += _grid([[label, value]], None, widths, ())
    return lines
