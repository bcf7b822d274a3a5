"""`bmabot --help`: every command and sub-command says what it does and shows examples."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

import pytest

from webhooks.cli import parser

Command = tuple[tuple[str, ...], argparse.ArgumentParser]


def every_command(
    command: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[Command]:
    """The whole tree: bmabot itself, then each (sub-)command, depth first."""
    yield path, command
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from every_command(sub, (*path, name))


def summaries(command: argparse.ArgumentParser) -> dict[str, str | None]:
    """Each sub-command's line in the parent's list."""
    return {
        listed.dest: listed.help
        for action in command._actions
        if isinstance(action, argparse._SubParsersAction)
        for listed in action._choices_actions
    }


def examples(command: argparse.ArgumentParser) -> list[str]:
    heading, *lines = (command.epilog or "").splitlines()
    assert heading == "examples:", command.prog
    return [line.strip() for line in lines]


def typed(example: str) -> list[str]:
    """The words after "bmabot", without the comment and any VARIABLE=value before it."""
    words = shlex.split(example, comments=True)
    assert "bmabot" in words, example
    return words[words.index("bmabot") + 1 :]


COMMANDS = list(every_command(parser()))
NAMES = [" ".join(("bmabot", *path)) for path, _ in COMMANDS]


def test_the_tree_reaches_the_nested_commands() -> None:
    assert {"bmabot worker", "bmabot line richmenu", "bmabot telegram poll"} <= set(NAMES)
    assert {"bmabot db upgrade", "bmabot privacy erase", "bmabot faq test"} <= set(NAMES)
    assert len(NAMES) > 30


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=NAMES)
def test_every_command_has_a_description(
    path: tuple[str, ...], command: argparse.ArgumentParser
) -> None:
    assert command.description, f"bmabot {' '.join(path)} has no description"
    assert len(command.description.split()) >= 5  # a sentence, not a word
    assert all(summaries(command).values()), "a sub-command without its line in the list"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=NAMES)
def test_every_command_shows_examples_of_itself(
    path: tuple[str, ...], command: argparse.ArgumentParser
) -> None:
    shown = examples(command)
    assert shown, f"bmabot {' '.join(path)} has no example"
    for example in shown:
        assert typed(example)[: len(path)] == list(path), example


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=NAMES)
def test_every_example_is_a_command_line_bmabot_accepts(
    path: tuple[str, ...], command: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    for example in examples(command):
        parser().parse_args(typed(example))  # argparse exits 2 on a wrong one
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=NAMES)
def test_help_keeps_the_examples_one_a_line(
    path: tuple[str, ...], command: argparse.ArgumentParser
) -> None:
    shown = command.format_help()
    assert "examples:\n" in shown
    for example in examples(command):
        assert f"\n  {example}\n" in f"{shown}\n"


def test_help_of_a_nested_command_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["line", "richmenu", "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert "rich menu" in shown
    assert "examples:\n  bmabot line richmenu\n" in shown
