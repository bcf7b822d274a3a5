"""The job queue: side effects are stored with the decision, run once, retried, failed visibly."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.delivery.job_kinds import ACCOUNT_CREATE, job_kind
from core.delivery.jobs import (
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    ClaimedJob,
    JobView,
    PermanentJobError,
    claim,
    enqueue,
    fail,
    list_jobs,
    retry,
)
from core.delivery.worker import FailedHook, JobHandler, Worker
from core.storage.db import make_engine, make_sessions

Sessions = async_sessionmaker[AsyncSession]
EVERY_STATUS = (PENDING, RUNNING, DONE, FAILED)
KIND = ACCOUNT_CREATE


class RolledBackError(Exception):
    pass


@pytest.fixture
async def other_sessions(database_url: str, engine: AsyncEngine) -> AsyncIterator[Sessions]:
    """Sessions on an engine of their own, as a second worker process would have."""
    other_engine = make_engine(database_url)
    yield make_sessions(other_engine)
    await other_engine.dispose()


async def add_job(
    sessions: Sessions, clock: ManualClock, key: str, *, max_attempts: int | None = None
) -> int:
    async with sessions.begin() as session:
        job_id = await enqueue(
            session,
            kind=KIND,
            key=key,
            payload={"reference": key},
            now=clock.now(),
            max_attempts=max_attempts,
        )
    assert job_id is not None
    return job_id


async def jobs(sessions: Sessions) -> list[JobView]:
    async with sessions() as session:
        return await list_jobs(session, EVERY_STATUS)


async def only_job(sessions: Sessions) -> JobView:
    [job] = await jobs(sessions)
    return job


def worker(
    sessions: Sessions,
    clock: ManualClock,
    handler: JobHandler,
    name: str = "w1",
    *,
    on_failed: FailedHook | None = None,
    idle_wait: float = 1.0,
) -> Worker:
    handlers = {KIND: handler}
    return Worker(
        sessions, handlers, clock, worker_id=name, on_failed=on_failed, idle_wait=idle_wait
    )


async def succeed(job: ClaimedJob) -> None:
    pass


async def break_down(job: ClaimedJob) -> None:
    raise ConnectionError("directory unavailable")


async def test_enqueueing_the_same_key_twice_gives_one_job(
    sessions: Sessions, clock: ManualClock
) -> None:
    first = await add_job(sessions, clock, "account.create:A69-00042")
    async with sessions.begin() as session:
        second = await enqueue(
            session, kind=KIND, key="account.create:A69-00042", payload={}, now=clock.now()
        )

    assert second is None
    assert [job.id for job in await jobs(sessions)] == [first]


async def test_a_job_enqueued_in_a_transaction_that_rolls_back_does_not_exist(
    sessions: Sessions, clock: ManualClock
) -> None:
    async def decide_then_break() -> None:
        async with sessions.begin() as session:
            await enqueue(session, kind=KIND, key="k", payload={}, now=clock.now())
            raise RolledBackError

    with pytest.raises(RolledBackError):
        await decide_then_break()

    assert await jobs(sessions) == []


@pytest.mark.parametrize("name", ["temporary_password", "national_id"])
async def test_a_payload_holding_a_secret_is_refused(
    sessions: Sessions, clock: ManualClock, name: str
) -> None:
    async with sessions.begin() as session:
        with pytest.raises(ValueError, match="secrets"):
            await enqueue(session, kind=KIND, key="k", payload={name: "x"}, now=clock.now())


async def test_claim_takes_the_oldest_due_job_and_not_a_future_one(
    sessions: Sessions, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        later = clock.now() + timedelta(minutes=1)
        await enqueue(session, kind=KIND, key="future", payload={}, now=clock.now(), run_at=later)
    oldest = await add_job(sessions, clock, "oldest")
    await add_job(sessions, clock, "newer")

    first = await claim(sessions, clock.now(), worker_id="w1")
    second = await claim(sessions, clock.now(), worker_id="w1")
    third = await claim(sessions, clock.now(), worker_id="w1")

    assert first is not None
    assert (first.id, first.attempt) == (oldest, 1)
    assert second is not None
    assert second.key == "newer"
    assert third is None


async def test_a_completed_job_is_done_and_not_run_again(
    sessions: Sessions, clock: ManualClock
) -> None:
    await add_job(sessions, clock, "k")
    runner = worker(sessions, clock, succeed)

    assert await runner.drain() == 1
    clock.advance(days=1)
    assert await runner.drain() == 0

    job = await only_job(sessions)
    assert (job.status, job.attempts, job.done_at) == (DONE, 1, clock.now() - timedelta(days=1))


async def test_failures_are_retried_later_with_exponentially_growing_delays(
    sessions: Sessions, clock: ManualClock
) -> None:
    await add_job(sessions, clock, "k", max_attempts=6)
    runner = worker(sessions, clock, break_down)
    delays = []
    for _ in range(5):
        assert await runner.drain() == 1
        job = await only_job(sessions)
        delays.append((job.run_at - clock.now()).total_seconds())
        assert await runner.drain() == 0  # not due before its back-off is over
        clock.current = job.run_at

    for attempt, delay in enumerate(delays):
        assert 10 * 2**attempt <= delay <= 10 * 2**attempt * 1.2  # base 10 s, jitter <= 20 %
    assert job.last_error == "ConnectionError: directory unavailable"


async def test_after_max_attempts_the_job_is_failed_and_on_failed_called_once(
    sessions: Sessions, clock: ManualClock
) -> None:
    await add_job(sessions, clock, "k", max_attempts=3)
    told: list[tuple[str, str]] = []

    async def tell_reviewers(job: ClaimedJob, error: str) -> None:
        told.append((job.key, error))

    runner = worker(sessions, clock, break_down, on_failed=tell_reviewers)
    for _ in range(5):
        await runner.drain()
        clock.advance(hours=2)

    job = await only_job(sessions)
    assert (job.status, job.attempts) == (FAILED, 3)
    assert told == [("k", "ConnectionError: directory unavailable")]


async def test_permanent_job_error_fails_the_job_at_once(
    sessions: Sessions, clock: ManualClock
) -> None:
    await add_job(sessions, clock, "k")

    async def refused(job: ClaimedJob) -> None:
        raise PermanentJobError("SMS gateway answered 400")

    await worker(sessions, clock, refused).drain()

    job = await only_job(sessions)
    assert (job.status, job.attempts) == (FAILED, 1)
    assert job.last_error == "PermanentJobError: SMS gateway answered 400"


async def test_a_running_job_whose_lease_expired_is_claimed_again(
    sessions: Sessions, clock: ManualClock
) -> None:
    job_id = await add_job(sessions, clock, "k")
    lease = timedelta(minutes=5)
    assert await claim(sessions, clock.now(), worker_id="died", lease=lease) is not None

    clock.advance(minutes=4)
    assert await claim(sessions, clock.now(), worker_id="w2", lease=lease) is None
    clock.advance(minutes=1)
    again = await claim(sessions, clock.now(), worker_id="w2", lease=lease)

    assert again is not None
    assert (again.id, again.attempt) == (job_id, 2)


async def test_a_job_whose_worker_died_in_the_last_attempt_is_failed(
    sessions: Sessions, clock: ManualClock
) -> None:
    await add_job(sessions, clock, "k", max_attempts=1)
    await claim(sessions, clock.now(), worker_id="died")
    clock.advance(minutes=10)
    ran: list[int] = []

    async def record(job: ClaimedJob) -> None:
        ran.append(job.id)

    await worker(sessions, clock, record).drain()

    assert ran == []
    assert (await only_job(sessions)).status == FAILED


async def test_a_worker_that_lost_its_lease_cannot_fail_the_job_of_another(
    sessions: Sessions, clock: ManualClock
) -> None:
    await add_job(sessions, clock, "k")
    stale = await claim(sessions, clock.now(), worker_id="slow")
    clock.advance(minutes=6)
    assert await claim(sessions, clock.now(), worker_id="w2") is not None
    assert stale is not None

    state = await fail(sessions, stale, clock.now(), "TimeoutError")

    assert state.status == RUNNING
    assert (await only_job(sessions)).status == RUNNING


async def test_manual_retry_runs_a_failed_job_again_with_the_same_key(
    sessions: Sessions, clock: ManualClock
) -> None:
    job_id = await add_job(sessions, clock, "account.create:A69-00042", max_attempts=1)
    await worker(sessions, clock, break_down).drain()
    assert (await only_job(sessions)).status == FAILED

    async with sessions.begin() as session:
        assert await retry(session, job_id, clock.now())
    job = await only_job(sessions)
    assert (job.status, job.attempts, job.key) == (PENDING, 0, "account.create:A69-00042")

    await worker(sessions, clock, succeed).drain()
    assert (await only_job(sessions)).status == DONE


async def test_manual_retry_leaves_a_done_job_alone(
    sessions: Sessions, clock: ManualClock
) -> None:
    job_id = await add_job(sessions, clock, "k")
    await worker(sessions, clock, succeed).drain()

    async with sessions.begin() as session:
        assert not await retry(session, job_id, clock.now())


async def test_a_worker_claims_only_kinds_it_has_a_handler_for(
    sessions: Sessions, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        await enqueue(
            session, kind=job_kind("sms.credentials"), key="sms", payload={}, now=clock.now()
        )

    assert await worker(sessions, clock, succeed).drain() == 0
    assert (await only_job(sessions)).status == PENDING


async def test_two_workers_drain_200_jobs_and_no_job_runs_twice(
    sessions: Sessions, other_sessions: Sessions, clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        for number in range(200):
            await enqueue(session, kind=KIND, key=f"k{number}", payload={}, now=clock.now())
    ran: list[tuple[str, int]] = []

    def recorder(name: str) -> JobHandler:
        async def record(job: ClaimedJob) -> None:
            ran.append((name, job.id))

        return record

    first = worker(sessions, clock, recorder("w1"), "w1")
    second = worker(other_sessions, clock, recorder("w2"), "w2")
    started = time.perf_counter()
    await asyncio.gather(first.drain(), second.drain())
    seconds = time.perf_counter() - started

    runs = Counter(job_id for _, job_id in ran)
    assert len(runs) == 200
    assert set(runs.values()) == {1}
    assert {job.status for job in await jobs(sessions)} == {DONE}
    by_worker = Counter(name for name, _ in ran)
    print(f"200 jobs in {seconds:.2f} s, shared {dict(by_worker)}")
    assert set(by_worker) == {"w1", "w2"}  # both took part: the queue was really shared


async def test_a_slow_handler_does_not_block_another_worker_from_claiming(
    sessions: Sessions, other_sessions: Sessions, clock: ManualClock
) -> None:
    await add_job(sessions, clock, "slow")
    await add_job(sessions, clock, "quick")
    slow_started, release = asyncio.Event(), asyncio.Event()

    async def hold(job: ClaimedJob) -> None:
        slow_started.set()
        await release.wait()

    slow_run = asyncio.create_task(worker(sessions, clock, hold, "w1").run_once())
    await slow_started.wait()
    quick_ran = await worker(other_sessions, clock, succeed, "w2").drain()
    release.set()
    await slow_run

    assert quick_ran == 1
    assert {job.key: job.status for job in await jobs(sessions)} == {"slow": DONE, "quick": DONE}


async def test_run_works_until_stopped(sessions: Sessions, clock: ManualClock) -> None:
    await add_job(sessions, clock, "k")
    ran = asyncio.Event()

    async def record(job: ClaimedJob) -> None:
        ran.set()

    runner = worker(sessions, clock, record, idle_wait=60.0)
    running = asyncio.create_task(runner.run())
    await ran.wait()
    await runner.stop()
    await running

    assert (await only_job(sessions)).status == DONE


async def test_a_worker_runs_up_to_at_once_jobs_at_the_same_time_each_once(
    sessions: Sessions, clock: ManualClock
) -> None:
    for number in range(7):
        await add_job(sessions, clock, f"k{number}")
    running: set[int] = set()
    ran: Counter[int] = Counter()
    most = 0
    three_running, release, all_ran = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def hold(job: ClaimedJob) -> None:
        nonlocal most
        running.add(job.id)
        ran[job.id] += 1
        most = max(most, len(running))
        if len(running) == 3:
            three_running.set()
        await release.wait()  # the first three wait here together
        running.discard(job.id)
        if len(ran) == 7:
            all_ran.set()

    runner = Worker(sessions, {KIND: hold}, clock, worker_id="w1", idle_wait=60.0, at_once=3)
    running_jobs = asyncio.create_task(runner.run())
    await asyncio.wait_for(three_running.wait(), timeout=30)
    release.set()
    await asyncio.wait_for(all_ran.wait(), timeout=30)
    await runner.stop()
    await running_jobs

    assert most == 3
    assert set(ran.values()) == {1}
    assert {job.status for job in await jobs(sessions)} == {DONE}


def test_a_worker_runs_at_least_one_job_at_a_time(sessions: Sessions, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="at least one"):
        Worker(sessions, {KIND: succeed}, clock, worker_id="w1", at_once=0)


async def test_logs_name_the_job_but_never_show_its_payload(
    sessions: Sessions, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with sessions.begin() as session:
        payload = {"mobile": "0812345678"}
        await enqueue(session, kind=KIND, key="k", payload=payload, now=clock.now())

    async def leak(job: ClaimedJob) -> None:
        raise PermanentJobError(f"gateway refused {job.payload['mobile']}")

    with caplog.at_level(logging.DEBUG, logger="core"):
        await worker(sessions, clock, leak).drain()

    assert "PermanentJobError" in caplog.text
    assert "0812345678" not in caplog.text
