"""Text that is safe to show on a terminal and to accept into the graph: control characters,
bidirectional overrides and isolates, zero-width and other invisible format characters are
*unsafe* (they can hide or reorder what a reader sees, or drive the terminal).

Unsafe, by Unicode general category: ``Cc`` (C0 and C1 controls, DEL, NUL, ESC), ``Cf``
(format characters: U+200B-U+200D zero-width, U+200E/U+200F and U+202A-U+202E bidi marks
and overrides, U+2066-U+2069 isolates, U+2060, U+FEFF...), ``Cs`` (lone surrogates), ``Zl``
and ``Zp`` (U+2028, U+2029). Tab, line feed and carriage return are controls too; whether a
text may hold them depends on the text (a long quote may, an identifier may not).
"""

from __future__ import annotations

import unicodedata

#: Unicode general categories of unsafe characters.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: The layout controls a multi-line text (a quote, a criteria text, a message) may hold.
LAYOUT = frozenset("\t\n\r")
#: ``str.translate`` table deleting the layout controls.
_NO_LAYOUT = str.maketrans("", "", "\t\n\r")
#: ``str.translate`` table deleting what a multi-line text keeps as it is (tab, line feed).
_NO_LINES = str.maketrans("", "", "\t\n")


def is_unsafe(char: str, *, allow_layout: bool = False) -> bool:
    """Is ``char`` (one character) unsafe? With ``allow_layout``, tab / LF / CR are not."""
    if allow_layout and char in LAYOUT:
        return False
    return unicodedata.category(char) in UNSAFE_CATEGORIES


def escape_char(char: str) -> str:
    """``\\uXXXX`` (``\\UXXXXXXXX`` beyond U+FFFF) for one character."""
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every unsafe character written as ``\\uXXXX``; with ``multiline``, tab and
    line feed are kept as they are (a multi-line message or report)."""
    if text.isprintable():  # no character of an "Other" or separator category
        return text
    if multiline and text.translate(_NO_LINES).isprintable():
        return text
    keep = "\t\n" if multiline else ""
    return "".join(escape_char(c) if c not in keep and is_unsafe(c) else c for c in text)


def unsafe_characters(text: str, *, allow_layout: bool = False) -> list[tuple[int, str]]:
    """(index, character) of each unsafe character of ``text``."""
    # every unsafe category is one that str.isprintable() rejects: a printable text is safe
    if text.isprintable():
        return []
    if allow_layout and text.translate(_NO_LAYOUT).isprintable():
        return []
    return [(i, c) for i, c in enumerate(text) if is_unsafe(c, allow_layout=allow_layout)]


def describe(char: str) -> str:
    """``\\u202e (RIGHT-TO-LEFT OVERRIDE)``: the escaped character and its Unicode name."""
    name = unicodedata.name(char, "")
    if not name and unicodedata.category(char) == "Cc":
        name = "control character"
    return escape_char(char) + (f" ({name})" if name else "")
