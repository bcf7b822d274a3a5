"""Text that shows only what it says: hidden characters refused on the way in, escaped out."""

from __future__ import annotations

import re
import unicodedata

# Zero-width characters that copied or IME-typed Thai text carries. Thai writes no spaces
# between words, so ZWSP marks a word break (some Thai keyboards and word processors insert
# it, web pages copy it along); WJ and BOM (ZWNBSP) forbid a break; ZWNJ and ZWJ shape
# nothing in Thai script. Removing them changes nothing a reader sees, so answers lose them
# quietly. Every other hidden character changes what is shown (bidi overrides reorder text,
# controls drive terminals, tags and private-use glyphs hide text): those are refused.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Control, format (bidi, zero-width, tags, soft hyphen), private use, lone surrogates, and
# the line and paragraph separators a terminal or a chat app may break a line at.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})
# An HTML or XML tag ("<script", "</b", "<!--", "<?xml") or a character reference ("&lt;").
_MARKUP = re.compile(r"<\s*[/!?A-Za-z]|&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]{1,31});")


def is_hidden(char: str) -> bool:
    """A character that is not shown as itself: control, format, private use and the like."""
    code = ord(char)
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return True  # noncharacters: XML (an xlsx file) may not hold them
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def has_hidden(text: str) -> bool:
    """True when an answer holds a hidden character that normalising would not remove.

    Whitespace of every kind (tab, newline, line separator...) becomes one space, and the
    zero-width characters above are dropped: neither counts.
    """
    if text.isprintable():
        return False  # the usual case, checked in C: no C*, Zl or Zp character at all
    return any(is_hidden(c) and not c.isspace() and c not in ZERO_WIDTH for c in text)


def has_markup(text: str) -> bool:
    """True when text holds an HTML/XML tag or character reference: "<script>", "&lt;"."""
    return _MARKUP.search(text) is not None


def escape_hidden(text: str, *, keep: str = "") -> str:
    """Each hidden character written out as a visible escape (ESC as \\x1b, RLO as \\u202e).

    What a terminal, a spreadsheet or a chat card then shows is what was stored, harmless
    and plain to see. `keep` names characters left as they are (a card keeps its newlines).
    """
    if text.isprintable() or not any(is_hidden(char) for char in text):
        return text  # the usual case: nothing to copy
    return "".join(_escape(c) if is_hidden(c) and c not in keep else c for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
