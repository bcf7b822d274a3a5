"""What a new organisation file changes: units added, removed, renamed or moved, by id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.rules.organisation import Organisation, Unit
from core.storage.models import Application


@dataclass(frozen=True, slots=True)
class OrganisationChanges:
    added: tuple[Unit, ...]
    removed: tuple[Unit, ...]
    renamed: tuple[tuple[Unit, Unit], ...]  # (before, after): same id, another Thai name
    moved: tuple[tuple[Unit, Unit], ...]  # (before, after): same id, another parent

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.moved)


def all_units(organisation: Organisation) -> Iterator[Unit]:
    """Every unit, each parent before its children."""
    pending = organisation.children(None)[::-1]
    while pending:
        unit = pending.pop()
        yield unit
        pending.extend(organisation.children(unit.id)[::-1])


def compare(current: Organisation, new: Organisation) -> OrganisationChanges:
    """Units are the same unit when their ids are equal: stored applications keep the ids."""
    before = {unit.id: unit for unit in all_units(current)}
    after = {unit.id: unit for unit in all_units(new)}
    kept = [(before[i], after[i]) for i in after if i in before]
    return OrganisationChanges(
        added=tuple(unit for i, unit in after.items() if i not in before),
        removed=tuple(unit for i, unit in before.items() if i not in after),
        renamed=tuple((was, now) for was, now in kept if was.name_th != now.name_th),
        moved=tuple((was, now) for was, now in kept if was.parent_id != now.parent_id),
    )


async def applications_in_units(session: AsyncSession, unit_ids: Iterable[str]) -> int:
    """How many applications name one of these units in their affiliation."""
    wanted = set(unit_ids)
    if not wanted:
        return 0
    # The affiliation is a JSON list inside the form: compared here, the same on every database.
    forms = await session.scalars(select(Application.form))
    return sum(1 for form in forms if wanted.intersection(form.get("unit") or ()))
