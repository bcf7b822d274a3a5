"""Suspending an account that puts the system at risk (rule 2.9), and lifting it."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.outgoing import Text
from bot.handlers.notify import tell
from bot.handlers.services import Services
from core import audit
from core.models import Application
from core.sms import SmsGateway, SmsUnavailableError

logger = logging.getLogger(__name__)


async def suspend(
    session: AsyncSession,
    services: Services,
    sms: SmsGateway | None,
    uid: str,
    reason: str,
    *,
    actor: str,
    lift: bool = False,
) -> str:
    """Lock or unlock the account in the caller's transaction; the key of the answer."""
    directory = services.directory
    person = None if directory is None else await directory.find_user(uid)
    if directory is None or person is None:
        return "suspend.unknown"
    await (directory.unlock(uid) if lift else directory.lock(uid, reason))
    now, action = services.clock.now(), "unsuspended" if lift else "suspended"
    application = await session.scalar(
        select(Application).where(Application.reference == person.application_reference)
    )
    audit.record(
        session,
        f"account.{action}",
        actor=actor,
        at=now,
        application_id=application.id if application else None,
        detail={"uid": uid, "reason": reason[:200]},
    )
    if application is not None:
        said = [Text(f"suspend.user_{action}", {"uid": uid, "reason": reason})]
        await tell(session, services, application.channel, application.user_id, said)
    if sms is not None and person.mobile:
        await _sms(sms, person.mobile, uid, lift, now.isoformat())
    return f"suspend.done_{action}"


async def _sms(sms: SmsGateway, mobile: str, uid: str, lift: bool, stamp: str) -> None:
    text = (
        f"BMA account {uid} is active again."
        if lift
        else f"BMA account {uid} is suspended. Call 02 203 2751 for details."
    )
    try:
        await sms.send(mobile, text, idempotency_key=f"suspend:{uid}:{stamp}")
    except SmsUnavailableError:
        logger.warning("suspension SMS for %s not sent; the chat message was", uid)
