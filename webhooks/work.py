"""A job that failed for good is shown to the reviewers, with a button to try it again."""

from __future__ import annotations

from bot.flows.outgoing import Text
from bot.flows.review_buttons import Action, Press
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core.delivery.jobs import ClaimedJob
from core.storage.models import Application


async def tell_failed(services: Services, job: ClaimedJob, error: str) -> None:
    """In the review chat of the job's request, else in every review chat."""
    said = [
        Text(
            "account.job_failed",
            {"kind": job.kind, "key": job.key, "error": error.split(":")[0], "job": str(job.id)},
            (Press(Action.RETRY_JOB, job.id).choice("account.retry"),),
        )
    ]
    async with services.sessions.begin() as session:
        policy = services.policy
        chats = list(policy.review_chats.items())
        application_id = job.payload.get("application_id")
        if application_id is not None:
            application = await session.get(Application, int(application_id))
            if application is not None:
                chat_for = policy.chat_for(application.channel, application.kind)
                chats = [(application.channel, chat_for)] if chat_for else []
        for channel, chat in chats:
            if chat:
                await tell(session, services, channel, chat, said)
