"""A person's first and last name typed in one message ("สมชาย ใจดี"), each part checked."""

from __future__ import annotations

from collections.abc import Callable

from bot.flows.engine import Accept, FlowState, Reply, Retry, Step, is_text
from bot.flows.incoming import Incoming
from bot.flows.outgoing import Message, Text
from bot.flows.questions import NAVIGATION, invalid
from bot.flows.reading import clean
from core.rules.titles import starts_with_title
from core.rules.validation import Invalid

# Words that begin a surname of more than one word: "ณ อยุธยา", "Na Ayutthaya".
SURNAME_STARTS = frozenset({"ณ", "na"})
Split = tuple[str, str]


def split_full_name(text: str) -> Split | str:
    """(first, last) from "first last"; "first / last" when either has spaces.

    A surname with ณ (Na) in it takes every word after the first: "สนิทวงศ์ ณ อยุธยา".

    Otherwise the reason it cannot be split: `one_word` (only a first name, or only a
    last name), `many_words` (three words or more, and which of them is the surname is
    not clear).
    """
    typed = clean(text)
    if "/" in typed:
        first, _, last = (part.strip() for part in typed.partition("/"))
        return (first, last) if first and last and "/" not in last else "one_word"
    words = typed.split(" ")
    if len(words) < 2:
        return "one_word"
    # "สมชาย ใจดี", "สมชาย ณ อยุธยา", "สมชาย สนิทวงศ์ ณ อยุธยา": the first word is the name.
    if len(words) == 2 or SURNAME_STARTS.intersection(word.lower() for word in words[1:3]):
        return words[0], " ".join(words[1:])
    return "many_words"


def full_name_question(
    prompt: str,
    field: str,
    parse: Callable[[str], str | Invalid],
    *,
    title_key: str = "",
) -> Step:
    """Ask for "first last" in one message; answers first_<field> and last_<field>.

    `field` is name_th or name_en: hints for the whole name are invalid.<field>.*, for one
    part invalid.first_<field>.* or invalid.last_<field>.*, so each names its own part.
    With title_key, a name typed with the title picked before it is refused.
    """
    first_key, last_key = f"first_{field}", f"last_{field}"

    def ask(state: FlowState) -> list[Message]:
        return [Text(prompt, choices=NAVIGATION)]

    def answer(state: FlowState, incoming: Incoming) -> Reply:
        if not is_text(incoming):
            return Retry((Text(f"invalid.{field}.one_word"),))
        if title_key:
            rest = starts_with_title(clean(incoming.text), str(state.answers.get(title_key, "")))
            if rest is not None:
                return Retry(invalid(field, Invalid("has_title", rest)))
        split = split_full_name(incoming.text)
        if isinstance(split, str):
            return Retry((Text(f"invalid.{field}.{split}"),))
        values = {}
        for key, part in zip((first_key, last_key), split, strict=True):
            value = parse(part)
            if isinstance(value, Invalid):
                whole = Invalid(value.reason, _whole_suggestion(parse, split))
                return Retry(invalid(key, whole if value.suggestion else value))
            values[key] = value
        return Accept(values)

    return Step(ask, answer)


def _whole_suggestion(parse: Callable[[str], str | Invalid], split: Split) -> str | None:
    """A guess for the whole name ("did you mean Somchai Jaidee?"), not for one part of it."""
    fixed = []
    for part in split:
        value = parse(part)
        if isinstance(value, Invalid) and not value.suggestion:
            return None
        fixed.append(value.suggestion if isinstance(value, Invalid) else value)
    return " ".join(str(part) for part in fixed)
