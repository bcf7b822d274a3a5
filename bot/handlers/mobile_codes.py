"""The mobile_code.sms job: one SMS with a one-time code, in the catalog's Thai words.

The code and number come encrypted from the code's row and are emptied from it once the
gateway has the message. The idempotency key is the issue's own: a retried job (the worker
died after sending) sends nothing new where the gateway can tell, and never a new code.
"""

from __future__ import annotations

from bot.handlers.services import Services
from core.delivery.jobs import ClaimedJob, PermanentJobError
from core.requests.mobile_codes import SMS_JOB, code_sent, code_to_send
from core.sms.port import SmsGateway, SmsPermanentError, sms_parts

KIND = SMS_JOB
SMS_KEY = "apply.sms_code"


def code_sms(services: Services, code: str) -> str:
    """The Thai SMS with the code; one part, as gateways bill Thai per part."""
    text = services.catalog.text(SMS_KEY, {"code": code})
    if sms_parts(text) > 1:
        raise ValueError(f"{SMS_KEY} would not fit one Thai SMS part")
    return text


class MobileCodeSender:
    kind = KIND

    def __init__(self, services: Services, sms: SmsGateway) -> None:
        self.services = services
        self.sms = sms

    async def __call__(self, job: ClaimedJob) -> None:
        services, code_id = self.services, int(job.payload["code_id"])
        async with services.sessions.begin() as session:
            message = await code_to_send(session, services.vault, code_id, services.clock.now())
        if message is None:
            return  # sent already, replaced by a newer code, used or expired
        try:
            await self.sms.send(
                message.to_e164,
                code_sms(services, message.code),
                idempotency_key=f"mobile_code:{message.issue_key}",
            )
        except SmsPermanentError as error:
            raise PermanentJobError(type(error).__name__) from None
        async with services.sessions.begin() as session:
            await code_sent(session, code_id)
