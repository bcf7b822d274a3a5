"""One word for one thing: the catalog keeps to locale/th/GLOSSARY.md."""

from __future__ import annotations

import pytest

from bot.catalog import Catalog, catalog_dir

GLOSSARY = catalog_dir() / "th" / "GLOSSARY.md"
CATALOG = Catalog.load()


def avoided_words() -> list[tuple[str, str]]:
    """(word to avoid, word to say) from the glossary's table."""
    pairs = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("thing", "---"):
            continue
        pairs += [(avoided.strip(), cells[1]) for avoided in cells[2].split(",")]
    return pairs


def test_the_glossary_has_its_table() -> None:
    assert len(avoided_words()) >= 10


@pytest.mark.parametrize(("avoided", "say"), avoided_words())
def test_no_text_uses_an_avoided_word(avoided: str, say: str) -> None:
    using = sorted(key for key, text in CATALOG.messages.items() if avoided in text)
    assert using == [], f"say {say!r}, not {avoided!r}"
