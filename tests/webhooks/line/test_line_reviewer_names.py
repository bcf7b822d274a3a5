"""Reviewers named in the LINE group by their LINE name (the group member profile), asked once
a week, never by their id; the id stays in the audit trail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import ManualClock
from core.requests.reviewer_names import known_names
from core.storage.db import make_sessions
from core.storage.models import AuditEvent
from tests.webhooks.line import test_line_review as review_tests
from tests.webhooks.line.test_line_review import (
    APPLICANT,
    GROUP,
    REVIEWER,
    SECOND,
    press,
    submitted,
)
from tests.webhooks.line_world import LineWorld
from webhooks.appkeys import SERVICES

world = review_tests.world  # the review group with two reviewers, as the review tests have


def group_texts(world: LineWorld) -> list[str]:
    return world.emulator.texts(GROUP)


def profile_calls(world: LineWorld, reviewer: str = REVIEWER) -> int:
    path = f"/v2/bot/group/{GROUP}/member/{reviewer}"
    return world.emulator.calls.count(("GET", path))


async def in_group(world: LineWorld, user: str, text: str) -> None:
    status, _ = await world.emulator.send_text(user, text, group_id=GROUP)
    assert status == 200
    await world.settle()


async def stored_name(world: LineWorld, reviewer: str = REVIEWER) -> str | None:
    services = world.app[SERVICES]
    async with services.sessions() as session:
        known = await known_names(session, services.vault, [f"line:{reviewer}"])
    found = known.get(f"line:{reviewer}")
    return None if found is None else found.name


async def test_the_group_reads_the_reviewers_line_name(
    world: LineWorld, engine: AsyncEngine
) -> None:
    world.emulator.profiles[REVIEWER] = "สมศรี ใจงาม"
    await submitted(world)

    await press(world, REVIEWER, "rv:a:1")
    await world.settle()

    assert "ผู้ตรวจ สมศรี ใจงาม อนุมัติคำขอ A69-00001 แล้วค่ะ" in group_texts(world)
    assert profile_calls(world) == 1  # the group member profile of the group pressed in
    said = "\n".join(group_texts(world) + world.emulator.texts(APPLICANT))
    assert REVIEWER not in said
    assert REVIEWER[-4:] not in said  # not even the tail of the id
    async with make_sessions(engine)() as session:
        actor = await session.scalar(
            select(AuditEvent.actor).where(AuditEvent.action == "application.approve")
        )
    assert actor == f"line:{REVIEWER}"  # the id only in the audit trail


async def test_a_reviewer_line_will_not_name_is_named_politely_without_the_id(
    world: LineWorld,
) -> None:
    await submitted(world)  # no profile: LINE answers 404 (left the group, not a friend)

    await press(world, REVIEWER, "rv:a:1")
    await world.settle()

    assert "ผู้ตรวจท่านหนึ่ง อนุมัติคำขอ A69-00001 แล้วค่ะ" in group_texts(world)
    assert REVIEWER[-4:] not in "\n".join(group_texts(world))


async def test_the_second_reviewer_is_told_by_name_who_decided_first(world: LineWorld) -> None:
    world.emulator.profiles |= {REVIEWER: "สมศรี ใจงาม", SECOND: "มานะ รักงาน"}
    await submitted(world)
    await press(world, REVIEWER, "rv:a:1")
    await world.settle()

    await press(world, SECOND, "rv:a:1")
    await world.settle()

    late = group_texts(world)[-1]
    assert late.startswith("คำขอ A69-00001 ได้รับการอนุมัติไปแล้วโดยผู้ตรวจ สมศรี ใจงาม เมื่อ ")
    assert profile_calls(world, SECOND) == 1


async def test_the_name_is_asked_once_and_kept_for_a_week(
    world: LineWorld, clock: ManualClock
) -> None:
    world.emulator.profiles[REVIEWER] = "สมศรี ใจงาม"
    await submitted(world)
    await press(world, REVIEWER, "rv:r:1")  # opens the reasons
    await press(world, REVIEWER, "rv:a:1")
    await world.settle()
    await in_group(world, REVIEWER, "/pending")
    assert profile_calls(world) == 1

    world.emulator.profiles[REVIEWER] = "สมศรี ใจงาม (กองคอมฯ)"
    clock.advance(days=6)
    await in_group(world, REVIEWER, "/pending")
    assert (profile_calls(world), await stored_name(world)) == (1, "สมศรี ใจงาม")

    clock.advance(days=1)
    await in_group(world, REVIEWER, "/pending")
    assert (profile_calls(world), await stored_name(world)) == (2, "สมศรี ใจงาม (กองคอมฯ)")


async def test_a_profile_line_would_not_give_is_asked_again_later_not_at_every_event(
    world: LineWorld, clock: ManualClock
) -> None:
    await in_group(world, REVIEWER, "/pending")
    await in_group(world, REVIEWER, "/pending")
    assert (profile_calls(world), await stored_name(world)) == (1, None)

    world.emulator.profiles[REVIEWER] = "สมศรี ใจงาม"
    clock.advance(minutes=10)
    await in_group(world, REVIEWER, "/pending")
    assert (profile_calls(world), await stored_name(world)) == (2, "สมศรี ใจงาม")


async def test_group_members_who_are_not_reviewers_are_not_looked_up(world: LineWorld) -> None:
    outsider = "U" + "c3" * 16
    world.emulator.profiles[outsider] = "คนอื่น"

    await in_group(world, outsider, "สวัสดีค่ะ")

    assert profile_calls(world, outsider) == 0
    assert await stored_name(world, outsider) is None


async def test_a_name_is_kept_without_invisible_characters_and_within_40_letters(
    world: LineWorld,
) -> None:
    world.emulator.profiles[REVIEWER] = "\u200bสมศรี\u202e  ใจงาม\n" + "ก" * 60

    await in_group(world, REVIEWER, "/pending")

    assert await stored_name(world) == ("สมศรี ใจงาม " + "ก" * 60)[:40]
