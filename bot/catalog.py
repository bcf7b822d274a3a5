"""The Thai catalog: every word a user reads, looked up by key from gettext .po files."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from core.rules.plain_text import escape_hidden

LANGUAGE = "th"


class CatalogError(Exception):
    """A message key is missing, defined twice, or asks for a value nobody gives."""


def catalog_dir() -> Path:
    """locale/ sits at the top of a checkout; a wheel carries it inside the bot package."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "locale", here.parent / "locale"):
        if (candidate / LANGUAGE / "LC_MESSAGES").is_dir():
            return candidate
    raise CatalogError(f"no locale/{LANGUAGE}/LC_MESSAGES next to {here}")


@dataclass(frozen=True, slots=True)
class Catalog:
    messages: Mapping[str, str]

    @classmethod
    def load(cls, root: Path | None = None, language: str = LANGUAGE) -> Catalog:
        folder = (root or catalog_dir()) / language / "LC_MESSAGES"
        messages: dict[str, str] = {}
        for po_file in sorted(folder.glob("*.po")):
            with po_file.open("rb") as handle:
                for entry in read_po(handle, locale=language):
                    if not entry.id or not isinstance(entry.id, str):
                        continue
                    if entry.id in messages:
                        raise CatalogError(
                            f"{entry.id} is defined twice (again in {po_file.name})"
                        )
                    messages[entry.id] = str(entry.string)
        return cls(messages)

    def text(self, key: str, params: Mapping[str, str] | None = None) -> str:
        template = self.messages.get(key)
        if not template:
            raise CatalogError(f"no Thai text for {key!r}")
        try:
            return template.format_map(_shown(params or {}))
        except (KeyError, IndexError, ValueError) as error:
            raise CatalogError(f"{key!r} needs {error} to be given") from None

    def placeholders(self, key: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.messages[key]) if name}


def _shown(params: Mapping[str, str]) -> dict[str, str]:
    # An answer stored before answers were checked may hold ESC or a bidi override: a card
    # or a terminal shows it escaped instead of obeying it. Some values are lists, one per line.
    return {
        name: escape_hidden(value, keep="\n") if isinstance(value, str) else value
        for name, value in params.items()
    }
