"""A job that failed for good: the reviewers get a card with a button to try it again, and
the applicant of an approved request hears the truth instead of waiting on "approved"."""

from __future__ import annotations

from bot.flows.outgoing import Text
from bot.flows.review_buttons import Action, Press
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core.delivery.jobs import ClaimedJob
from core.requests.fulfilment import fulfilment_failed
from core.storage.models import Application

# What reviewers read for the causes the jobs name (PermanentJobError carries the class of
# the error that made the job hopeless); any other is "unknown", never its message.
CAUSES = {
    "UserNameTakenError": "account.job_cause.name_taken",
    "UnknownUserError": "account.job_cause.unknown_user",
    "NotAMailboxError": "account.job_cause.not_a_mailbox",
    "UnknownGroupError": "account.job_cause.unknown_group",
    "SmsPermanentError": "account.job_cause.sms_refused",
    "DirectoryUnavailableError": "account.job_cause.directory_down",
    "SmsUnavailableError": "account.job_cause.sms_down",
}


def cause_of(error: str) -> str:
    """The catalog key of a failed job's cause, from its last error ("Class: message")."""
    name, _, rest = error.partition(":")
    if name == "PermanentJobError":
        name = rest.strip()
    return CAUSES.get(name, "account.job_cause.unknown")


async def job_failed(services: Services, job: ClaimedJob, error: str) -> None:
    """The worker's on_failed: the card for the reviewers, the news for the applicant."""
    cause = services.catalog.text(cause_of(error))
    card = Text(
        "account.job_failed",
        {"kind": job.kind, "key": job.key, "cause": cause, "job": str(job.id)},
        (Press(Action.RETRY_JOB, job.id).choice("account.retry"),),
    )
    now = services.clock.now()
    async with services.sessions.begin() as session:
        chats = list(services.policy.review_chats.items())
        application_id = job.payload.get("application_id")
        application = None
        if application_id is not None:
            application = await session.get(Application, int(application_id))
        if application is not None:
            chat = services.policy.chat_for(application.channel, application.kind)
            chats = [(application.channel, chat)] if chat else []
            if await fulfilment_failed(session, application.id, job_kind=job.kind, now=now):
                news = Text("request.applicant.failed", {"reference": application.reference})
                await tell(session, services, application.channel, application.user_id, [news])
        for channel, chat in chats:
            if chat:
                await tell(session, services, channel, chat, [card])
