"""A request kind as one unit: its dialogue side (bot.flows.kinds) and the job its approval
sets going, registered together (request_jobs.py registers the circular's kinds).

The worker runs the job of every registered kind (build_worker in webhooks/compose.py reads
JOBS); the review handler enqueues it on approval (RequestKind.approval_job).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.flows.kinds import KINDS, RequestKind
from bot.handlers.services import Services
from core.delivery.job_kinds import JobKind
from core.delivery.worker import JobHandler
from core.directory.port import Directory
from core.settings import Settings

JobFactory = Callable[[Services, Directory, Settings], JobHandler]


@dataclass(frozen=True, slots=True)
class KindUnit:
    request: RequestKind
    job: JobFactory  # makes the handler of request.approval_job


JOBS: dict[JobKind, JobFactory] = {}  # approval job -> its handler's factory


def register(unit: KindUnit) -> KindUnit:
    KINDS.register(unit.request)
    JOBS[unit.request.approval_job] = unit.job
    return unit


@contextmanager
def registered(unit: KindUnit) -> Iterator[KindUnit]:
    """A kind registered for a while (a test's own kind)."""
    with KINDS.registered(unit.request):
        JOBS[unit.request.approval_job] = unit.job
        try:
            yield unit
        finally:
            JOBS.pop(unit.request.approval_job, None)


def kind_jobs(
    services: Services, directory: Directory, settings: Settings
) -> dict[JobKind, JobHandler]:
    """The job of every registered request kind, for the worker."""
    return {name: make(services, directory, settings) for name, make in JOBS.items()}
