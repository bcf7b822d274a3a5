"""The affiliation question: find a unit by typing or browse level by level, up to four levels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.flows.engine import Accept, FlowState, Reply, Retry, Stay, Step, paged
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Choice, Message, Text
from bot.flows.questions import NAVIGATION
from core.rules.organisation import Organisation, Unit
from core.rules.validation import Invalid, parse_free_text

MAX_LEVELS = 4
EXACT = 100.0  # a Match's score when the name typed is the unit's (prefixes aside)
BROWSE = Choice("apply.unit_browse", "unit:browse")
SKIP = Choice("apply.unit_skip", "unit:skip")
USE_TYPED = Choice("apply.unit_use_typed", "unit:typed")
# Shown, in place of "back", on the question after a unit taken on one exact match.
UNIT_NOT_THIS = Choice("apply.unit_not_this", "nav:back")


def unit_step(org: Organisation) -> Step:
    def ask(state: FlowState) -> list[Message]:
        chosen = _chosen(state.answers)
        unmatched = state.answers.get("unit_unmatched")
        if unmatched and state.mode != "browse":
            return [_not_found(org, chosen, str(unmatched))]
        if not chosen:
            return [_ask_first_level(org, state)]
        last = org.unit(chosen[-1])
        children = org.children(last.id)
        if children and len(chosen) < MAX_LEVELS:
            options = [_choice(unit) for unit in children]
            return [
                Text(
                    "apply.ask_subunit",
                    {"parent": last.name_th},
                    paged(options, state.page, (SKIP, *NAVIGATION)),
                )
            ]
        return [Text("apply.ask_unit_note", {"parent": last.name_th}, (SKIP, *NAVIGATION))]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        chosen = _chosen(state.answers)
        if incoming.data == USE_TYPED.data and state.answers.get("unit_unmatched"):
            return _typed(str(state.answers["unit_unmatched"]))
        if incoming.kind is Kind.BUTTON:
            return _on_button(org, chosen, incoming.data)
        if incoming.kind is not Kind.TEXT or not incoming.text.strip():
            return Retry((Text("apply.unit_type_name"),))
        if chosen and _at_note(org, chosen):
            return _on_note(incoming.text)
        return _search(org, chosen, incoming.text)

    return Step(ask, answer)


def unit_just_matched(state: FlowState) -> bool:
    """Whether the last answer was a unit taken on one exact match (so it may be undone)."""
    last = state.undo[-1] if state.undo else None
    return last is not None and "unit_matched" in (*last.previous, *last.absent)


def unit_path_text(org: Organisation, answers: Mapping[str, Any]) -> str:
    names = [org.unit(unit_id).name_th for unit_id in _chosen(answers) if org.get(unit_id)]
    if answers.get("unit_note"):
        names.append(str(answers["unit_note"]))
    return " › ".join(names)


def _chosen(answers: Mapping[str, Any]) -> list[str]:
    return list(answers.get("unit", []))


def _at_note(org: Organisation, chosen: Sequence[str]) -> bool:
    return len(chosen) >= MAX_LEVELS or not org.children(chosen[-1])


def _ask_first_level(org: Organisation, state: FlowState) -> Text:
    if state.mode != "browse":
        return Text("apply.ask_unit", choices=(BROWSE, *NAVIGATION))
    options = [_choice(unit) for unit in org.children(None)]
    return Text("apply.unit_list", choices=paged(options, state.page, NAVIGATION))


def _choice(unit: Unit) -> Choice:
    return Choice.literal(unit.name_th, f"unit:{unit.id}")


def _on_button(org: Organisation, chosen: list[str], data: str) -> Reply:
    if data == "unit:browse":
        return Stay(mode="browse", page=0, reask=True)
    if data == "unit:skip" and chosen:
        return _take({"unit_done": True, "unit_note": None})
    unit = org.get(data.removeprefix("unit:")) if data.startswith("unit:") else None
    if unit is None:
        return Retry((Text("apply.unit_pick_again"),))
    path = [u.id for u in org.path(unit.id)]
    if chosen and path[: len(chosen)] != chosen:
        return Retry((Text("apply.unit_pick_again"),))
    return _take(_path_answers(path))


def _path_answers(path: list[str]) -> dict[str, Any]:
    done = len(path) >= MAX_LEVELS
    return {"unit": path[:MAX_LEVELS], "unit_done": True} if done else {"unit": path}


def _take(values: dict[str, Any]) -> Accept:
    """An answer from the tree: what was typed and not found before is forgotten."""
    return Accept({**values, "unit_unmatched": None})


def _on_note(text: str) -> Reply:
    note = parse_free_text(text, min_length=2, max_length=100)
    if isinstance(note, Invalid):
        return Retry((Text(f"invalid.unit_note.{note.reason}"),))
    return _take({"unit_note": note, "unit_done": True})


def _typed(name: str) -> Reply:
    """A unit the tree does not have, as typed: the reviewers' card asks them to place it."""
    return Accept({"unit_note": name, "unit_typed": True, "unit_done": True})


def _not_found(org: Organisation, chosen: list[str], typed: str) -> Text:
    choices = (USE_TYPED, SKIP) if chosen else (USE_TYPED, BROWSE)
    where = org.unit(chosen[-1]).name_th if chosen else ""
    key = "apply.unit_not_found_under" if chosen else "apply.unit_not_found"
    return Text(key, {"typed": typed, "parent": where}, (*choices, *NAVIGATION))


def _search(org: Organisation, chosen: list[str], query: str) -> Reply:
    matches = org.find(query, under=chosen[-1] if chosen else None)
    if not matches:
        typed = parse_free_text(query, min_length=2, max_length=100)
        if isinstance(typed, Invalid):
            return Retry((Text(f"invalid.unit_note.{typed.reason}"),))
        return Accept({"unit_unmatched": typed})
    if len(matches) == 1 and matches[0].score >= EXACT:
        path = [unit.id for unit in org.path(matches[0].unit.id)]
        return _take({**_path_answers(path), "unit_matched": True})
    options = [_match_choice(org, match.unit, chosen) for match in matches]
    listing = "\n".join(f"• {_label(org, m.unit, chosen)}" for m in matches)
    question = Text("apply.unit_which", {"options": listing}, (*options, *NAVIGATION))
    return Stay(messages=(question,))


def _match_choice(org: Organisation, unit: Unit, chosen: list[str]) -> Choice:
    return Choice.literal(_label(org, unit, chosen), f"unit:{unit.id}")


def _label(org: Organisation, unit: Unit, chosen: list[str]) -> str:
    """A deep match names its parent too: 'ฝ่ายทะเบียน (สำนักงานเขตบางรัก)'."""
    parent_id = unit.parent_id
    if parent_id is None or (chosen and parent_id == chosen[-1]):
        return unit.name_th
    return f"{unit.name_th} ({org.unit(parent_id).name_th})"
