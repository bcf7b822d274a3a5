"""Carrying out what a flow asked for, through core services; each gives back an outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.flows.incoming import Incoming
from bot.flows.outgoing import (
    ApplicationRefused,
    ApplicationSubmitted,
    CheckMobileCode,
    CheckNationalId,
    CheckUser,
    DocumentRefused,
    DocumentStored,
    Effect,
    LookUpApplication,
    LookUpApplications,
    MobileCodeChecked,
    MobileCodeSent,
    NationalIdChecked,
    Outcome,
    SendMobileCode,
    StoreDocument,
    SubmitApplication,
    UserChecked,
)
from bot.handlers.existing_accounts import has_account
from bot.handlers.lookups import application_looked_up, applications_found
from core.audit import trail as audit
from core.clock import Clock, thai_time
from core.delivery.job_kinds import CARD_POST
from core.delivery.jobs import enqueue
from core.directory.port import Directory, DirectoryUnavailableError
from core.requests import mobile_codes
from core.requests.applications import (
    ActiveHolders,
    AlreadyActive,
    ApplicationForm,
    Consent,
    active_holders,
    holder_of,
    submit_application,
)
from core.requests.corrections import resubmit_application
from core.requests.retention import remove_replaced_files
from core.storage.crypto import Vault
from core.storage.db import Session
from core.storage.documents import (
    DocumentStore,
    NewDocument,
    Photo,
    StagedImage,
    save_document,
    save_documents,
)
from core.storage.images import ImageRefused


@dataclass(frozen=True, slots=True)
class Ahead:
    """What a round's effects look up and write, done for all its turns at once before they
    run: in a round the effects run one after the other, each statement a round trip on the
    event loop (issue 13: 128 applicants at one step made a store of 0.25-1.2 s)."""

    national_id_holders: ActiveHolders | None = None
    documents: Mapping[str, int] = field(default_factory=dict)  # staged photo's name: its id


async def ahead_of(
    session: Session,
    vault: Vault,
    store: DocumentStore,
    turns: Sequence[tuple[Incoming, Photo, Sequence[Effect]]],
    now: datetime,
) -> Ahead:
    """The national IDs' holders read, the staged photos kept as documents: one statement
    each for the round. Each turn's effects then take their answers from this."""
    effects = [effect for _, _, turn_effects in turns for effect in turn_effects]
    national_ids = {e.national_id for e in effects if isinstance(e, CheckNationalId)}
    digests = [d for national_id in national_ids for d in vault.national_id_digests(national_id)]
    photos = [
        NewDocument(incoming.channel, incoming.user_id, effect.slot, photo)
        for incoming, photo, turn_effects in turns
        if isinstance(photo, StagedImage)
        for effect in turn_effects[:1]  # a turn's photo is stored by its first effect
        if isinstance(effect, StoreDocument)
    ]
    return Ahead(
        await active_holders(session, digests) if digests else None,
        await save_documents(session, store, photos, now),
    )


@dataclass(frozen=True, slots=True)
class Context:
    session: Session
    vault: Vault
    documents: DocumentStore
    clock: Clock
    incoming: Incoming
    photo: Photo  # fetched, checked and staged before the transaction
    directory: Directory
    terms_version: str | None = None  # of the terms and PDPA notice the catalog shows now
    civil_servant_type: str = "staff"  # the directory's employeeType of a civil servant
    verify_mobile: bool = True  # BMABOT_VERIFY_MOBILE: submit only a mobile proved by a code
    ahead: Ahead = Ahead()  # what the round looked up and wrote for all its turns at once

    @property
    def actor(self) -> str:
        return f"{self.incoming.channel}:{self.incoming.user_id}"


async def carry_out(effect: Effect, context: Context) -> Outcome | None:
    if isinstance(effect, StoreDocument):
        return await _store_document(effect, context)
    if isinstance(effect, SubmitApplication):
        return await _submit(effect, context)
    if isinstance(effect, LookUpApplications):
        return await applications_found(context.session, context.incoming, effect)
    if isinstance(effect, LookUpApplication):
        return await application_looked_up(context.session, context.incoming, effect)
    if isinstance(effect, CheckUser):
        return await check_user(context.directory, effect.uid, context.civil_servant_type)
    if isinstance(effect, CheckNationalId):
        return await _check_national_id(effect, context)
    if isinstance(effect, SendMobileCode):
        return await _send_mobile_code(effect, context)
    if isinstance(effect, CheckMobileCode):
        return await _check_mobile_code(effect, context)
    audit.record(
        context.session,
        effect.action,
        actor=context.actor,
        at=context.clock.now(),
        detail=effect.detail,
    )
    return None


async def _store_document(effect: StoreDocument, context: Context) -> Outcome:
    photo = context.photo
    if photo is None:
        return DocumentRefused(effect.slot, "unavailable")
    if isinstance(photo, ImageRefused):
        return DocumentRefused(effect.slot, photo.reason)
    if isinstance(photo, StagedImage) and photo.name in context.ahead.documents:
        return DocumentStored(effect.slot, context.ahead.documents[photo.name])
    document_id = await save_document(
        context.session,
        context.documents,
        channel=context.incoming.channel,
        user_id=context.incoming.user_id,
        slot=effect.slot,
        image=photo,
        now=context.clock.now(),
    )
    return DocumentStored(effect.slot, document_id)


async def _submit(effect: SubmitApplication, context: Context) -> Outcome:
    form = ApplicationForm(
        kind=effect.kind,
        fields=effect.answers,
        national_id=effect.national_id,
        document_ids=effect.document_ids,
        consent=_consent(effect, context),
    )
    incoming, now = context.incoming, context.clock.now()
    if context.verify_mobile and not await _mobile_verified(effect, context):
        return ApplicationRefused("mobile_unverified", "")
    if effect.resubmits is not None:
        return await _resubmit(effect.resubmits, form, context)
    if effect.national_id and await has_account(
        context.directory, context.vault.national_id_digests(effect.national_id)
    ):
        return ApplicationRefused("has_account", "")
    result = await submit_application(
        context.session,
        context.vault,
        channel=incoming.channel,
        user_id=incoming.user_id,
        form=form,
        now=now,
    )
    if isinstance(result, AlreadyActive):
        return _refused(result)
    await _post_card(context, result.application_id, (), 1)
    return ApplicationSubmitted(result.reference)


def _consent(effect: SubmitApplication, context: Context) -> Consent | None:
    """What the applicant accepted and when; None for requests that show no terms."""
    if effect.terms_accepted_at is None or context.terms_version is None:
        return None
    return Consent(context.terms_version, datetime.fromisoformat(effect.terms_accepted_at))


async def _resubmit(reference: str, form: ApplicationForm, context: Context) -> Outcome:
    incoming = context.incoming
    result = await resubmit_application(
        context.session,
        context.vault,
        reference=reference,
        channel=incoming.channel,
        user_id=incoming.user_id,
        form=form,
        now=context.clock.now(),
    )
    if result is None:
        return ApplicationRefused("not_returned", reference)
    if isinstance(result, AlreadyActive):
        return _refused(result)
    # The photos this round replaced: their rows are marked, their files go now (PDPA notice).
    await remove_replaced_files(context.session, context.documents, result.application_id)
    await _post_card(context, result.application_id, result.changed, None)
    return ApplicationSubmitted(result.reference)


def _refused(active: AlreadyActive) -> ApplicationRefused:
    """One person, one account: the reference is shown only to the chat that filed it, so a
    national ID typed by someone else reveals nobody's request (PDPA; issue 15)."""
    if active.owned:
        return ApplicationRefused("already_active", active.reference)
    return ApplicationRefused("already_held", "")


async def _post_card(
    context: Context, application_id: int, changed: tuple[str, ...], round_: int | None
) -> None:
    """The card goes to the reviewers as a job, written with the submission it shows."""
    await enqueue(
        context.session,
        kind=CARD_POST,
        key=CARD_POST.key(application_id, round_ or context.clock.now().isoformat()),
        payload={"application_id": application_id, "changed": list(changed)},
        now=context.clock.now(),
    )


async def _check_national_id(effect: CheckNationalId, context: Context) -> NationalIdChecked:
    """Held or free; the holder's reference is told only to the chat that filed it."""
    incoming = context.incoming
    holder = await holder_of(
        context.session,
        context.vault,
        effect.national_id,
        incoming.channel,
        incoming.user_id,
        known=context.ahead.national_id_holders,
    )
    if holder is None or holder.reference == effect.resubmits:
        # Unreachable (None) lets the applicant go on: the reviewer's card warns instead.
        digests = context.vault.national_id_digests(effect.national_id)
        found = await has_account(context.directory, digests)
        return NationalIdChecked(effect.national_id, has_account=found is True)
    own = holder.reference if holder.owned else None
    return NationalIdChecked(effect.national_id, held=True, own_reference=own)


async def _mobile_verified(effect: SubmitApplication, context: Context) -> bool:
    mobile = effect.answers.get("mobile")
    if mobile is None:
        return True  # a form without a mobile number (none asks for one today)
    return await mobile_codes.is_verified(
        context.session, context.vault, chat=context.actor, mobile=str(mobile)
    )


async def _send_mobile_code(effect: SendMobileCode, context: Context) -> MobileCodeSent:
    """A one-time code to the number, its SMS a job in this transaction; or why not."""
    issued = await mobile_codes.issue_code(
        context.session,
        context.vault,
        chat=context.actor,
        mobile=effect.mobile,
        now=context.clock.now(),
    )
    if isinstance(issued, mobile_codes.IssueRefused):
        return MobileCodeSent(effect.mobile, issued.reason.value, thai_time(issued.until))
    return MobileCodeSent(effect.mobile, resends_left=issued.resends_left)


async def _check_mobile_code(effect: CheckMobileCode, context: Context) -> MobileCodeChecked:
    checked = await mobile_codes.check_code(
        context.session,
        context.vault,
        chat=context.actor,
        mobile=effect.mobile,
        typed=effect.code,
        now=context.clock.now(),
    )
    until = thai_time(checked.until) if checked.until else ""
    return MobileCodeChecked(effect.mobile, checked.result.value, checked.tries_left, until)


async def check_user(
    directory: Directory, uid: str, civil_servant_type: str = "staff"
) -> UserChecked:
    """What the directory says of a user name; unreachable is said, never guessed."""
    try:
        user = await directory.find_user(uid)
    except DirectoryUnavailableError:
        return UserChecked(uid, reachable=False)
    if user is None:
        return UserChecked(uid)
    return UserChecked(
        uid,
        found=True,
        employee_type=user.employee_type,
        civil_servant=user.employee_type == civil_servant_type,
        display_name=user.display_name,
        locked=user.locked,
        responsible_uid=user.responsible_uid,
    )
