"""Every kind of job, declared once: the name stored in jobs.kind, and how its keys read.

A kind is a typed value (JobKind), never a string spelled again where a job is queued or
run: `enqueue` and the worker's handlers take JobKind. It equals its stored name, so rows
written before it existed still run. The kinds of the bot's own jobs are below; a request
kind declares the job its approval sets going beside its dialogue (bot/flows/handover.py).
"""

from __future__ import annotations

import re

NAME = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)+")  # "card.post": what it concerns, then what
MAX_NAME = 48  # the column's width (jobs.kind)


class JobKind(str):
    """A kind of job: equal to, hashed as and stored as its name ("card.post")."""

    __slots__ = ()

    def key(self, *parts: object) -> str:
        """The idempotency key of one job of this kind: "<kind>:<part>:<part>..."."""
        return ":".join([str(self), *(str(part) for part in parts)])

    @staticmethod
    def stored(name: str) -> JobKind:
        """The kind a stored row names: the declared one (a kind no code here declares any
        more comes back all the same: no handler matches it, the row stays as it is)."""
        return _DECLARED.get(name) or JobKind(name)


_DECLARED: dict[str, JobKind] = {}


def job_kind(name: str) -> JobKind:
    """Declare a kind of job by the name it is stored under; the same name, the same kind."""
    if not NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise ValueError(
            f"a job kind is like 'card.post', at most {MAX_NAME} characters: {name!r}"
        )
    return _DECLARED.setdefault(name, JobKind(name))


CARD_POST = job_kind("card.post")  # a submitted request's card, to its reviewers' chat
ACCOUNT_CREATE = job_kind("account.create")  # an approved application's account, and its SMS
MORNING_ROUND = job_kind("morning.round")  # the reviewers' morning reminder and expiries
ACCOUNT_LOCK = job_kind("account.lock")  # a suspension carried out in the directory
ACCOUNT_UNLOCK = job_kind("account.unlock")  # a suspension lifted in the directory
SUSPENSION_SMS = job_kind("sms.suspension")  # the person told of either, by SMS
