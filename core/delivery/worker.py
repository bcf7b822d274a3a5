"""The job worker: claims due jobs, runs their handlers, and records success or failure."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.delivery.job_kinds import JobKind
from core.delivery.jobs import (
    DEFAULT_BACKOFF,
    DEFAULT_LEASE,
    FAILED,
    Backoff,
    ClaimedJob,
    PermanentJobError,
    claim,
    complete,
    fail,
)

logger = logging.getLogger(__name__)

JobHandler = Callable[[ClaimedJob], Awaitable[None]]
FailedHook = Callable[[ClaimedJob, str], Awaitable[None]]


class Worker:
    """One worker; run as many as needed (processes or tasks), they never take the same job.

    run() keeps up to `at_once` jobs running: a job mostly waits (the directory, the SMS
    gateway, the database), and one at a time left a worker process idle 40 % of the time
    (issue 13: approvals on PostgreSQL 52 accounts/s one at a time, 66 two, 73-74 four).
    Logs name the job by kind, id, key and attempt, never its payload: it may name people.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Mapping[JobKind, JobHandler],
        clock: Clock,
        *,
        worker_id: str,
        idle_wait: float = 1.0,
        lease: timedelta = DEFAULT_LEASE,
        backoff: Backoff = DEFAULT_BACKOFF,
        on_failed: FailedHook | None = None,
        at_once: int = 1,
    ) -> None:
        if at_once < 1:
            raise ValueError("a worker runs at least one job at a time")
        self._sessions = sessions
        self._handlers = dict(handlers)
        self._clock = clock
        self.worker_id = worker_id
        self._idle_wait = idle_wait
        self._lease = lease
        self._backoff = backoff
        self._on_failed = on_failed
        self._at_once = at_once
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopped.set()

    async def run_once(self) -> bool:
        """Run one due job to its end; False when nothing was due."""
        job = await claim(
            self._sessions,
            self._clock.now(),
            worker_id=self.worker_id,
            lease=self._lease,
            kinds=self._handlers.keys(),  # leave kinds this worker cannot run to others
        )
        if job is None:
            return False
        await self._run(job)
        return True

    async def drain(self) -> int:
        """Run jobs until none is due now, without waiting for later ones; how many ran."""
        ran = 0
        while await self.run_once():
            ran += 1
        return ran

    async def run(self) -> None:
        """Run jobs until stop(), up to `at_once` at a time; a runner that finds nothing due
        waits idle_wait seconds before it looks again."""
        self._stopped.clear()
        try:
            async with asyncio.TaskGroup() as runners:
                for _ in range(self._at_once):
                    runners.create_task(self._run_jobs())
        finally:
            self._stopped.set()

    async def _run_jobs(self) -> None:
        while not self._stopping.is_set():
            if not await self._run_once_logged():
                await self._idle()

    async def stop(self) -> None:
        """Let the current jobs finish, then return from run(); a stopped worker stays stopped."""
        self._stopping.set()
        await self._stopped.wait()

    async def _run(self, job: ClaimedJob) -> None:
        if job.attempt > job.max_attempts:  # a worker died during the last attempt
            await self._fail(
                job, "LeaseExpired: a worker stopped in the last attempt", permanent=True
            )
            return
        logger.info("job %s #%d (%s) attempt %d", job.kind, job.id, job.key, job.attempt)
        try:
            # Past its lease the job may be claimed again: never let it run on beyond that.
            async with asyncio.timeout(self._lease.total_seconds()):
                await self._handlers[job.kind](job)
        except PermanentJobError as error:
            await self._fail(job, _describe(error), permanent=True)
        except Exception as error:
            await self._fail(job, _describe(error), permanent=False)
        else:
            await complete(self._sessions, job.id, self._clock.now())

    async def _fail(self, job: ClaimedJob, error: str, *, permanent: bool) -> None:
        state = await fail(
            self._sessions,
            job,
            self._clock.now(),
            error,
            permanent=permanent,
            backoff=self._backoff,
        )
        logger.warning(
            "job %s #%d (%s) attempt %d/%d failed with %s: now %s, next run at %s",
            job.kind,
            job.id,
            job.key,
            job.attempt,
            job.max_attempts,
            error.partition(":")[0],  # the class only: a message may quote personal data
            state.status,
            state.run_at,
        )
        if state.status == FAILED and self._on_failed is not None:
            await self._tell_failed(self._on_failed, job, error)

    async def _tell_failed(self, hook: FailedHook, job: ClaimedJob, error: str) -> None:
        try:
            await hook(job, error)
        except Exception as hook_error:
            # The job stays failed and listed; the worker must go on with the others.
            logger.error("on_failed for job #%d raised %s", job.id, type(hook_error).__name__)

    async def _run_once_logged(self) -> bool:
        try:
            return await self.run_once()
        except Exception as error:
            # The database may be away for a while; the class only: messages carry SQL values.
            logger.error("job worker %s: %s, trying again", self.worker_id, type(error).__name__)
            return False

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self._idle_wait)


def _describe(error: BaseException) -> str:
    """ "ClassName: message" for last_error; the worker logs only the class part."""
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
