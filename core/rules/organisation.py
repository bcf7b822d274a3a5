"""The BMA organisation tree (core/rules/bma-org.yaml) and finding a unit by what a user types."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pythainlp.util import collate, normalize
from rapidfuzz import fuzz, process

MAX_ID_LENGTH = 56  # button data is at most 64 bytes and needs room for a prefix
MAX_DEPTH = 4  # the application form has four levels of affiliation
_ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PACKAGED_FILE = "bma-org.yaml"

# Words that carry no meaning for matching: users type them or leave them out at will.
# Longest first, so that สำนักงานเขต wins over สำนักงาน and เขต.
_PREFIXES = tuple(
    sorted(("สำนักงานเขต", "เขต", "สำนักงาน", "สำนัก", "กอง", "ฝ่าย", "กลุ่มงาน"), key=len)[::-1]
)
_PARTICLES = tuple(
    sorted(("ครับผม", "นะครับ", "นะคะ", "ครับ", "คับ", "ค่ะ", "คะ", "จ้า", "จ้ะ"), key=len)[::-1]
)

# Letters that Thai writers swap because they sound alike (สาธร for สาทร, บางลัก for บางรัก,
# ราษฏร์ for ราษฎร์), and marks that are often misplaced or left out. A second comparison
# runs on keys folded this way, at a small penalty, so that the true spelling still wins.
_SOUND_ALIKE = str.maketrans(
    "ธฑฒถฐฎฏศษซณญฬรฅฆฌใ",
    "ทททททดดสสสนยลลคคชไ",
    "\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c",  # maitaikhu, the four tone marks, thanthakhat
)

# Scores are 0-100. WRatio, measured against partial_ratio and token_set_ratio on the
# queries in the tests, ranked best: it scores an exact name 100 and a name that merely
# contains the query 90 (partial_ratio gives both 100), and it damps short names found
# inside long queries. Real queries' right answers scored 84 or more, nonsense at most 77.
_SCORER = fuzz.WRatio
CUTOFF = 80.0
SOUND_ALIKE_PENALTY = 5.0
CLEAR_LEAD = 10.0  # exact (100) over containment (90): offer only the exact match
MIN_QUERY_LENGTH = 2  # a single letter is found inside almost every name
SEARCHES_KEPT = 2048  # results of recent searches, for the next person who types the same


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    name_th: str
    kind: str
    parent_id: str | None  # None for top-level units: the root 'bma' itself is not a Unit
    depth: int  # 1 for top-level units
    name_en: str | None = None
    # aliases, abbr_th, district_th and district_en: used for matching, never shown as names
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    unit: Unit
    score: float


class OrganisationError(Exception):
    """The organisation file is unreadable or broken; the message says what and where."""


class Organisation:
    """The unit tree with Thai-aware search. Build it with Organisation.load()."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self._units = {unit.id: unit for unit in units}
        self._order = {unit.id: index for index, unit in enumerate(units)}
        self._children = _sorted_children(units)
        self._top_level_scope = _Scope.of(_top_level_searchable(units))
        # The tree never changes once loaded, and on a busy day many people type the same
        # few names: a search's result is kept (the fuzzy scoring is a turn's dearest part).
        self._found: OrderedDict[tuple[str, str | None, int], tuple[Match, ...]] = OrderedDict()

    @classmethod
    def load(cls, path: Path | None = None) -> Organisation:
        """Read and validate the file at path, or the packaged bma-org.yaml if None."""
        source, text = _read(path)
        document = _parse(text, source)
        builder = _TreeBuilder(document, source)
        builder.add_units(_list_field(document, "units", source), parent=None)
        return cls(builder.units)

    def unit(self, unit_id: str) -> Unit:
        return self._units[unit_id]

    def get(self, unit_id: str) -> Unit | None:
        return self._units.get(unit_id)

    def children(self, unit_id: str | None) -> list[Unit]:
        """Top level in file order (offices, departments, districts), below it Thai order."""
        if unit_id is not None:
            self.unit(unit_id)  # unknown ids are a caller's bug: raise KeyError
        return list(self._children.get(unit_id, ()))

    def path(self, unit_id: str) -> list[Unit]:
        units = [self.unit(unit_id)]
        while (parent_id := units[-1].parent_id) is not None:
            units.append(self.unit(parent_id))
        return units[::-1]

    def find(self, query: str, *, under: str | None = None, limit: int = 3) -> list[Match]:
        """Best matches for what a user typed, best first; only one if it clearly wins.

        under=None searches top-level units plus deeper units whose name is unique in the
        tree (ฝ่ายทะเบียน, shared by 50 districts, would only mislead there);
        under=unit_id searches that unit's descendants (KeyError if it is unknown).
        """
        asked = (query, under, limit)
        if (found := self._found.get(asked)) is not None:
            self._found.move_to_end(asked)
            return list(found)
        result = self._search(query, under, limit)
        self._found[asked] = tuple(result)
        if len(self._found) > SEARCHES_KEPT:
            self._found.popitem(last=False)
        return result

    def _search(self, query: str, under: str | None, limit: int) -> list[Match]:
        typed = _strip_particles(_clean(query))
        needle = _strip_prefix(typed)
        if len(needle) < MIN_QUERY_LENGTH or limit < 1:
            return []
        scope = self._top_level_scope if under is None else self._descendant_scope(under)
        scores = scope.best_scores(needle)
        ranked = sorted((Match(self._units[i], s) for i, s in scores.items()), key=self._rank)
        # Prefixes are stripped to compare, so สำนักงานเลขานุการผู้ว่าฯ and กลุ่มงานเลขานุการ
        # ผู้ว่าฯ look the same; a full official name, as typed, settles it.
        full_name = [match for match in ranked if _clean_name(match.unit.name_th) == typed]
        return full_name if len(full_name) == 1 else _decisive(ranked, limit)

    def _rank(self, match: Match) -> tuple[float, int, int]:
        # Ties go to the shallower unit, then to the file's order, so results are stable.
        return (-match.score, match.unit.depth, self._order[match.unit.id])

    def _descendant_scope(self, unit_id: str) -> _Scope:
        pending = self.children(unit_id)
        descendants: list[Unit] = []
        while pending:
            unit = pending.pop()
            descendants.append(unit)
            pending.extend(self._children.get(unit.id, ()))
        return _Scope.of(descendants)


@dataclass(frozen=True, slots=True)
class _Scope:
    """The match keys of some units, as parallel lists: rapidfuzz scores plain strings."""

    keys: list[str]
    folded_keys: list[str]
    owners: list[str]

    @classmethod
    def of(cls, units: Sequence[Unit]) -> _Scope:
        pairs = [(key, unit.id) for unit in units for key in _match_keys(unit)]
        keys = [key for key, _ in pairs]
        return cls(keys, [_fold(key) for key in keys], [unit_id for _, unit_id in pairs])

    def best_scores(self, needle: str) -> dict[str, float]:
        """Each matching unit's id and its best score over its keys, folded or not."""
        scores: dict[str, float] = {}
        for query, keys, penalty in (
            (needle, self.keys, 0.0),
            (_fold(needle), self.folded_keys, SOUND_ALIKE_PENALTY),
        ):
            for _key, score, index in process.extract(
                query, keys, scorer=_SCORER, score_cutoff=CUTOFF + penalty, limit=None
            ):
                owner = self.owners[index]
                scores[owner] = max(scores.get(owner, 0.0), score - penalty)
        return scores


def _clean(text: str) -> str:
    # normalize removes zero-width spaces and repairs ำ and doubled เ (never NFKC: it
    # splits ำ). Spaces and punctuation go too: สยป. = สยป, Bang Rak = bangrak.
    text = normalize(unicodedata.normalize("NFC", text)).lower()
    return "".join(char for char in text if unicodedata.category(char)[0] in "LMN")


@lru_cache(maxsize=4096)  # pythainlp's normalize is slow and the 50 districts share names
def _clean_name(name: str) -> str:
    return _clean(name)


def _strip_particles(text: str) -> str:
    # Users end a message politely (บางรักค่ะ, บางรัก นะครับ); a particle alone is kept.
    while particle := next((p for p in _PARTICLES if text.endswith(p) and text != p), ""):
        text = text[: -len(particle)]
    return text


def _strip_prefix(text: str) -> str:
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _match_keys(unit: Unit) -> tuple[str, ...]:
    names = (unit.name_th, *unit.aliases, *([unit.name_en] if unit.name_en else []))
    keys = (_strip_prefix(_clean_name(name)) for name in names)
    return tuple(dict.fromkeys(key for key in keys if key))


def _fold(key: str) -> str:
    return key.translate(_SOUND_ALIKE)


def _decisive(ranked: list[Match], limit: int) -> list[Match]:
    # One clear winner needs no buttons to choose from; close scores mean the user must.
    if len(ranked) > 1 and ranked[0].score - ranked[1].score >= CLEAR_LEAD:
        return ranked[:1]
    return ranked[:limit]


def _sorted_children(units: Sequence[Unit]) -> dict[str | None, list[Unit]]:
    # The top level keeps the file's order: offices, departments, then districts by DOPA
    # code, as official BMA lists show them. Below it, Thai dictionary order (collate):
    # sorted() would put names starting with เ แ โ ใ ไ last.
    names = collate(sorted({unit.name_th for unit in units}))  # sorted: ties stay stable
    position = {name: index for index, name in enumerate(names)}
    children: dict[str | None, list[Unit]] = {None: []}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    for parent_id, siblings in children.items():
        if parent_id is not None:
            siblings.sort(key=lambda unit: position[unit.name_th])
    return children


def _top_level_searchable(units: Sequence[Unit]) -> list[Unit]:
    counts = Counter(_clean_name(unit.name_th) for unit in units)
    return [unit for unit in units if unit.depth == 1 or counts[_clean_name(unit.name_th)] == 1]


# ------------------------------------------------------------------------ loading


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers its line, so that errors can point at it."""

    line = 0


class _LineLoader(yaml.SafeLoader):
    """A safe loader whose mappings are _Mapping."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_Mapping]:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    yield mapping  # yielding first is how PyYAML constructors allow nested nodes
    mapping.update(loader.construct_mapping(node))


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read(path: Path | None) -> tuple[str, str]:
    # The packaged file is read through importlib.resources, so it works from a wheel too.
    source = f"core/{_PACKAGED_FILE}" if path is None else str(path)
    try:
        if path is None:
            return source, (resources.files("core.rules") / _PACKAGED_FILE).read_text("utf-8")
        return source, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise OrganisationError(f"{source}: cannot read: {error}") from error


def _parse(text: str, source: str) -> _Mapping:
    try:
        document = yaml.load(text, Loader=_LineLoader)  # safe: a SafeLoader subclass
    except yaml.YAMLError as error:
        raise OrganisationError(f"{source}: not valid YAML: {error}") from error
    if not isinstance(document, _Mapping):
        raise OrganisationError(f"{source}: expected a mapping with 'units' at the top")
    return document


def _list_field(entry: _Mapping, name: str, where: str) -> list[Any]:
    value = entry.get(name)
    if not isinstance(value, list):
        raise OrganisationError(f"{where}: '{name}' must be a list")
    return value


def _optional_text(entry: _Mapping, name: str, where: str) -> str | None:
    value = entry.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise OrganisationError(f"{where}: '{name}' must be non-empty text")
    return unicodedata.normalize("NFC", value.strip())


def _required_text(entry: _Mapping, name: str, where: str) -> str:
    value = _optional_text(entry, name, where)
    if value is None:
        raise OrganisationError(f"{where}: '{name}' is missing")
    return value


@dataclass(slots=True)
class _TreeBuilder:
    """Walks the YAML units depth first, validating, into Units in file order."""

    document: _Mapping
    source: str
    units: list[Unit] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    def add_units(self, entries: list[Any], parent: Unit | None) -> None:
        for entry in entries:
            if not isinstance(entry, _Mapping):
                raise OrganisationError(f"{self.where(parent)}: a unit must be a mapping")
            unit = self.make_unit(entry, parent)
            self.units.append(unit)
            self.lines[unit.id] = entry.line
            self.add_units(self.children_entries(entry, unit), parent=unit)

    def make_unit(self, entry: _Mapping, parent: Unit | None) -> Unit:
        unit_id = _required_text(entry, "id", f"{self.source}, line {entry.line}")
        where = f"{self.source}, line {entry.line}, unit {unit_id!r}"
        self.check_id(unit_id, where)
        depth = 1 if parent is None else parent.depth + 1
        if depth > MAX_DEPTH:
            raise OrganisationError(f"{where}: deeper than {MAX_DEPTH} levels")
        return Unit(
            id=unit_id,
            name_th=_required_text(entry, "name_th", where),
            kind=_required_text(entry, "kind", where),
            parent_id=None if parent is None else parent.id,
            depth=depth,
            name_en=_optional_text(entry, "name_en", where),
            aliases=_aliases(entry, where),
        )

    def check_id(self, unit_id: str, where: str) -> None:
        if unit_id in self.lines:
            raise OrganisationError(f"{where}: duplicate id (also at line {self.lines[unit_id]})")
        if len(unit_id) > MAX_ID_LENGTH:
            raise OrganisationError(f"{where}: id longer than {MAX_ID_LENGTH} characters")
        if not _ID_PATTERN.fullmatch(unit_id):
            raise OrganisationError(f"{where}: id must be lower-case ASCII words joined by -")

    def children_entries(self, entry: _Mapping, unit: Unit) -> list[Any]:
        where = f"{self.source}, line {entry.line}, unit {unit.id!r}"
        templates = self.templates(entry, where)
        if "children" in entry:  # a unit's own children win over a shared template
            return _list_field(entry, "children", where) if entry["children"] else []
        return [_from_template(template, unit.id, where) for template in templates]

    def templates(self, entry: _Mapping, where: str) -> list[Any]:
        name = entry.get("children_from")
        if name is None:
            return []
        value = self.document.get(name) if isinstance(name, str) else None
        if not isinstance(value, list):
            raise OrganisationError(f"{where}: unknown children_from {name!r}")
        return value

    def where(self, parent: Unit | None) -> str:
        return self.source if parent is None else f"{self.source}, under unit {parent.id!r}"


def _from_template(template: Any, parent_id: str, where: str) -> _Mapping:
    suffix = template.get("suffix") if isinstance(template, _Mapping) else None
    if not isinstance(suffix, str) or not suffix:
        raise OrganisationError(f"{where}: a children_from template has no suffix")
    entry = _Mapping({key: value for key, value in template.items() if key != "suffix"})
    entry["id"] = f"{parent_id}-{suffix}"
    entry.line = template.line
    return entry


def _aliases(entry: _Mapping, where: str) -> tuple[str, ...]:
    aliases = entry.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise OrganisationError(f"{where}: 'aliases' must be a list of text")
    extra = (entry.get(name) for name in ("abbr_th", "district_th", "district_en"))
    names = (*aliases, *(name for name in extra if isinstance(name, str)))
    return tuple(dict.fromkeys(unicodedata.normalize("NFC", name.strip()) for name in names))
