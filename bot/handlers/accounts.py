"""The account job: approval becomes a directory entry, a temporary password by SMS, and news.

One job does it all and may run again: the directory entry is found again by the
application reference, and each run makes a new password, so an SMS that was already
sent only carries a password that no longer works. The password is never stored.
"""

from __future__ import annotations

import logging

from bot.flows.apply_summary import joined
from bot.flows.outgoing import Text
from bot.flows.unit import unit_path_text
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core.delivery.jobs import ClaimedJob, PermanentJobError
from core.directory.port import AccountRequest, Directory, DirectoryError
from core.requests.applications import national_id_of
from core.requests.fulfilment import mark_account_created
from core.requests.retention import documents_decided
from core.rules.passwords import generate_temporary_password
from core.rules.validation import mask_mobile
from core.sms.budget import SmsBudgetExceededError
from core.sms.port import SmsGateway, SmsPermanentError, credential_sms
from core.storage.models import Application, ApplicationKind

logger = logging.getLogger(__name__)


SMS_TEMPLATE = "account.sms_credentials"  # {user_name} and {password}, each on its own line


class AccountMaker:
    def __init__(self, services: Services, directory: Directory, sms: SmsGateway) -> None:
        self.services = services
        self.directory = directory
        self.sms = sms
        self._told_waiting: set[str] = set()  # references told their SMS waits (this process)

    async def __call__(self, job: ClaimedJob) -> None:
        application = await self._approved(int(job.payload["application_id"]))
        if application is None:
            return  # already done, or no longer approved: nothing to create
        if await self._has_other_account(application):
            # Rule 2.1, last look: marked from a roster after the approval, or the directory
            # was down at approval. A reviewer sees the failed job and decides.
            raise PermanentJobError("ExistingAccount")
        try:
            account = await self.directory.create_account(self._request(application))
            password = generate_temporary_password()
            await self.directory.set_temporary_password(account.uid, password)
            await self.sms.send(
                application.form["mobile"],
                credential_sms(
                    self.services.catalog.messages[SMS_TEMPLATE], account.uid, password
                ),
                idempotency_key=f"credentials:{application.reference}:{job.attempt}",
            )
        except (DirectoryError, SmsPermanentError) as error:
            raise PermanentJobError(type(error).__name__) from None
        except SmsBudgetExceededError:
            await self._tell_sms_waits(application)
            raise  # tried again after a back-off, when the hour's budget has room
        self._told_waiting.discard(application.reference)
        await self._done(application, account.uid)

    async def _tell_sms_waits(self, application: Application) -> None:
        """The applicant hears once that the SMS comes later, not at each attempt."""
        if application.reference in self._told_waiting:
            return
        self._told_waiting.add(application.reference)
        services = self.services
        waits = Text("account.sms_waits", {"reference": application.reference})
        async with services.sessions.begin() as session:
            await tell(session, services, application.channel, application.user_id, [waits])

    async def _approved(self, application_id: int) -> Application | None:
        async with self.services.sessions() as session:
            application = await session.get(Application, application_id)
        return application if application and application.status == "approved" else None

    async def _has_other_account(self, application: Application) -> bool:
        national_id = national_id_of(application, self.services.vault)
        if national_id is None:
            return False
        digests = self.services.vault.national_id_digests(national_id)
        try:
            found = await self.directory.find_by_national_id_digest(digests)
        except DirectoryError as error:
            raise PermanentJobError(type(error).__name__) from None
        # The entry an earlier run of this job made carries the digest too: that is this one.
        return found is not None and found.application_reference != application.reference

    def _request(self, application: Application) -> AccountRequest:
        form, org = application.form, self.services.organisation
        return AccountRequest(
            application_reference=application.reference,
            kind=ApplicationKind(application.kind),
            first_name_en=str(form.get("first_name_en") or form.get("mailbox_name") or ""),
            last_name_en=str(form.get("last_name_en") or ""),
            first_name_th=str(form.get("first_name_th", "")),
            last_name_th=str(form.get("last_name_th", "")),
            display_name_th=joined(form, "title_th", "first_name_th", "last_name_th"),
            mobile_e164=str(form["mobile"]),
            position=str(form.get("position", "")),
            unit=unit_path_text(org, form),
            mailbox_name=form.get("mailbox_name"),
            responsible_uid=form.get("responsible_username"),
            national_id_digest=application.national_id_digest,  # rule 2.1 finds it again
        )

    async def _done(self, application: Application, uid: str) -> None:
        services, now = self.services, self.services.clock.now()
        async with services.sessions.begin() as session:
            if not await mark_account_created(session, application.id, uid=uid, now=now):
                return  # an earlier run said so already
            await documents_decided(
                session, services.documents, services.retention, application.id, now
            )
            ready = Text(
                "account.ready",
                {
                    "reference": application.reference,
                    "mobile": mask_mobile(str(application.form["mobile"])),
                },
            )
            await tell(session, services, application.channel, application.user_id, [ready])
            chat = services.policy.review_chats.get(application.channel)
            if chat:
                note = Text(
                    "account.created_in_group", {"uid": uid, "reference": application.reference}
                )
                await tell(session, services, application.channel, chat, [note])
