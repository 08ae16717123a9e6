"""One entry of a code-system release: a chapter, a block or a code, as the release's reader
(:mod:`cptkg.codes.build`) makes it and the index (:mod:`cptkg.codes.index`) returns it."""

from __future__ import annotations

from dataclasses import dataclass

#: Kinds of entry: chapters and blocks group codes; categories, subcategories and
#: extensions (codes made with a 7th character) are codes.
GROUP_KINDS = ("chapter", "block")


@dataclass(frozen=True)
class CodeEntry:
    """One chapter, block or code of a release."""

    notation: str
    kind: str
    label: str
    parent: str | None
    billable: bool

    @property
    def is_group(self) -> bool:
        """A chapter or block (not a code)."""
        return self.kind in GROUP_KINDS
