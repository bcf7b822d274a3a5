"""Carrying out what a flow asked for, through core services; each gives back an outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
from core.delivery.jobs import enqueue, enqueue_many
from core.directory.port import Directory, DirectoryUnavailableError
from core.requests import mobile_codes
from core.requests.applications import (
    ActiveHolders,
    AlreadyActive,
    ApplicationForm,
    Consent,
    NewApplication,
    Submitted,
    active_holders,
    holder_of,
    submit_applications,
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
    submissions: Mapping[str, Outcome] = field(default_factory=dict)  # actor: filed or refused


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


async def ahead_of(turns: Sequence[tuple[Context, Sequence[Effect]]]) -> Ahead:
    """The national IDs' holders read, the staged photos kept as documents, the new
    applications filed: a few statements for the round. Each turn's first effect then
    takes its answer from this."""
    if not turns:
        return Ahead()
    first = turns[0][0]
    session, vault, now = first.session, first.vault, first.clock.now()
    effects = [effect for _, turn_effects in turns for effect in turn_effects]
    national_ids = {e.national_id for e in effects if isinstance(e, CheckNationalId)}
    digests = [d for national_id in national_ids for d in vault.national_id_digests(national_id)]
    photos = [
        NewDocument(context.incoming.channel, context.incoming.user_id, effect.slot, photo)
        for context, turn_effects in turns
        if isinstance(photo := context.photo, StagedImage)
        for effect in turn_effects[:1]  # a turn's photo is stored by its first effect
        if isinstance(effect, StoreDocument)
    ]
    submissions = [
        (effect, context)
        for context, turn_effects in turns
        for effect in turn_effects[:1]
        if isinstance(effect, SubmitApplication) and effect.resubmits is None
    ]
    return Ahead(
        await active_holders(session, digests) if digests else None,
        await save_documents(session, first.documents, photos, now),
        await _submit_new(submissions),
    )


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
    filed = context.ahead.submissions.get(context.actor)
    if filed is not None:  # filed with the round's other applicants (ahead_of)
        return filed
    if effect.resubmits is None:
        return (await _submit_new([(effect, context)]))[context.actor]
    if context.verify_mobile and not await _mobile_verified(effect, context):
        return ApplicationRefused("mobile_unverified", "")
    return await _resubmit(effect.resubmits, _form(effect, context), context)


async def _submit_new(
    submissions: Sequence[tuple[SubmitApplication, Context]],
) -> dict[str, Outcome]:
    """New applications, filed together with their reviewers' cards; or why not. By actor."""
    outcomes: dict[str, Outcome] = {}
    filing: list[tuple[SubmitApplication, Context]] = []
    for effect, context in submissions:
        if context.verify_mobile and not await _mobile_verified(effect, context):
            outcomes[context.actor] = ApplicationRefused("mobile_unverified", "")
        elif effect.national_id and await has_account(
            context.directory, context.vault.national_id_digests(effect.national_id)
        ):
            outcomes[context.actor] = ApplicationRefused("has_account", "")
        else:
            filing.append((effect, context))
    if not filing:
        return outcomes
    first = filing[0][1]
    new = [
        NewApplication(context.incoming.channel, context.incoming.user_id, _form(effect, context))
        for effect, context in filing
    ]
    now = first.clock.now()
    results = await submit_applications(first.session, first.vault, new, now)
    cards = [
        (CARD_POST.key(result.application_id, 1), _card(result.application_id, ()))
        for result in results
        if isinstance(result, Submitted)
    ]
    await enqueue_many(first.session, kind=CARD_POST, jobs=cards, now=now)
    for (_, context), result in zip(filing, results, strict=True):
        if isinstance(result, Submitted):
            outcomes[context.actor] = ApplicationSubmitted(result.reference)
        else:
            outcomes[context.actor] = _refused(result)
    return outcomes


def _form(effect: SubmitApplication, context: Context) -> ApplicationForm:
    return ApplicationForm(
        kind=effect.kind,
        fields=effect.answers,
        national_id=effect.national_id,
        document_ids=effect.document_ids,
        consent=_consent(effect, context),
    )


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
    await _post_corrected_card(context, result.application_id, result.changed)
    return ApplicationSubmitted(result.reference)


def _refused(active: AlreadyActive) -> ApplicationRefused:
    """One person, one account: the reference is shown only to the chat that filed it, so a
    national ID typed by someone else reveals nobody's request (PDPA; issue 15)."""
    if active.owned:
        return ApplicationRefused("already_active", active.reference)
    return ApplicationRefused("already_held", "")


async def _post_corrected_card(
    context: Context, application_id: int, changed: tuple[str, ...]
) -> None:
    """The card goes to the reviewers as a job, written with the correction it shows."""
    await enqueue(
        context.session,
        kind=CARD_POST,
        key=CARD_POST.key(application_id, context.clock.now().isoformat()),
        payload=_card(application_id, changed),
        now=context.clock.now(),
    )


def _card(application_id: int, changed: Sequence[str]) -> dict[str, Any]:
    """A reviewers' card job, written with the submission it shows."""
    return {"application_id": application_id, "changed": list(changed)}


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
