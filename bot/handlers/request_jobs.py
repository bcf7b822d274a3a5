"""The jobs an approved short request sets going: a unit mailbox's new responsible person
(handover.apply) and an e-GP / Web Portal right (rights.grant).

Each may run again: setting the same responsible person or group membership twice changes
nothing, and the request is marked completed only once (core.requests.fulfilment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.flows import handover, rights
from bot.flows.outgoing import Text
from bot.handlers.kinds import KindUnit, register
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core.delivery.jobs import ClaimedJob, PermanentJobError
from core.directory.port import Directory, DirectoryError
from core.requests.fulfilment import complete_request, grant_right
from core.requests.retention import documents_decided
from core.settings import Settings
from core.storage.db import Session
from core.storage.models import Application, ApplicationStatus


class RequestJob:
    """Carry out an approved request in the directory, then mark it done and tell everyone."""

    action = ""  # the audit action of a request carried out

    def __init__(self, services: Services, directory: Directory) -> None:
        self.services = services
        self.directory = directory

    async def __call__(self, job: ClaimedJob) -> None:
        async with self.services.sessions() as session:
            application = await session.get(Application, int(job.payload["application_id"]))
        if application is None or application.status != ApplicationStatus.APPROVED:
            return  # already done, or no longer approved
        try:
            detail = await self.carry_out(application.form)
        except DirectoryError as error:
            raise PermanentJobError(type(error).__name__) from None
        await self._complete(application, detail)

    async def carry_out(self, form: Mapping[str, Any]) -> dict[str, str]:
        raise NotImplementedError

    async def record(self, session: Session, application: Application) -> None:
        """What else to keep in the same transaction as "completed"."""

    def news(self, reference: str, detail: Mapping[str, str]) -> tuple[Text, Text]:
        """What the applicant is told, and what the review group is told."""
        raise NotImplementedError

    async def _complete(self, application: Application, detail: dict[str, str]) -> None:
        services, now = self.services, self.services.clock.now()
        async with services.sessions.begin() as session:
            done = await complete_request(
                session, application.id, action=self.action, detail=detail, now=now
            )
            if not done:
                return  # an earlier run said so already
            await self.record(session, application)
            await documents_decided(
                session, services.documents, services.retention, application.id, now
            )
            told, noted = self.news(application.reference, detail)
            await tell(session, services, application.channel, application.user_id, [told])
            chat = services.policy.chat_for(application.channel, application.kind)
            if chat:
                await tell(session, services, application.channel, chat, [noted])


class HandoverJob(RequestJob):
    """handover.apply: the unit mailbox's `manager` becomes the new responsible person."""

    action = handover.KIND.done

    async def carry_out(self, form: Mapping[str, Any]) -> dict[str, str]:
        mailbox, person = str(form["mailbox_name"]), str(form["responsible_username"])
        await self.directory.set_responsible(mailbox, person)
        return {"mailbox": mailbox, "responsible": person}

    def news(self, reference: str, detail: Mapping[str, str]) -> tuple[Text, Text]:
        params = {"reference": reference, **detail}
        return Text("request.done.handover", params), Text(
            "request.done_in_group.handover", params
        )


class RightsJob(RequestJob):
    """rights.grant: the right is recorded, and the account joins its directory group if any."""

    action = rights.KIND.done

    def __init__(
        self, services: Services, directory: Directory, groups: Mapping[str, str]
    ) -> None:
        super().__init__(services, directory)
        self.groups = groups  # BMABOT_RIGHTS_GROUPS: right -> group DN

    async def carry_out(self, form: Mapping[str, Any]) -> dict[str, str]:
        uid, right = str(form["user_name"]), str(form["right"])
        group = self.groups.get(right)
        if group:
            await self.directory.add_to_group(uid, group)
        return {"uid": uid, "right": right, "group": group or ""}

    async def record(self, session: Session, application: Application) -> None:
        form = application.form
        await grant_right(
            session,
            application.id,
            uid=str(form["user_name"]),
            right=str(form["right"]),
            group_dn=self.groups.get(str(form["right"])),
            now=self.services.clock.now(),
        )

    def news(self, reference: str, detail: Mapping[str, str]) -> tuple[Text, Text]:
        params = {"reference": reference, "uid": detail["uid"]}
        right = detail["right"]
        return (
            Text(f"request.done.rights.{right}", params),
            Text(f"request.done_in_group.rights.{right}", params),
        )


def _handover_job(services: Services, directory: Directory, settings: Settings) -> HandoverJob:
    return HandoverJob(services, directory)


def _rights_job(services: Services, directory: Directory, settings: Settings) -> RightsJob:
    groups = {str(right): group for right, group in settings.rights_groups.items()}
    return RightsJob(services, directory, groups)


register(KindUnit(handover.KIND, _handover_job))
register(KindUnit(rights.KIND, _rights_job))
