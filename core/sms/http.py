"""HttpSms: the SmsGateway port over an SMS provider's HTTP API (generic JSON or ThaiBulkSMS)."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any, Literal

import aiohttp

from core.sms.port import SmsPermanentError, SmsReceipt, SmsUnavailableError, check_e164, masked

logger = logging.getLogger(__name__)

SmsProvider = Literal["json", "thaibulksms"]
# 4xx answers that mean "not now" rather than "never": retried like a 5xx.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


class HttpSms:
    """POSTs one SMS per call on the app's shared ClientSession.

    `json`: {"to", "sender", "message"} with `Authorization: Bearer <api_key>` and an
    `Idempotency-Key` header; `thaibulksms`: form `msisdn`, `message`, `sender` with HTTP
    Basic api_key:api_secret. Logs name the masked number and the idempotency key only:
    never the message, which carries a password, nor the API credentials.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        provider: SmsProvider,
        url: str,
        api_key: str,
        api_secret: str | None = None,
        sender: str = "BMA mail",
        timeout: float = 10.0,
    ) -> None:
        if provider == "thaibulksms" and not api_secret:
            raise ValueError("the thaibulksms provider needs an API secret")
        self._session = session
        self._provider = provider
        self._url = url
        self._api_key = api_key
        self._api_secret = api_secret or ""
        self._sender = sender
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, to_e164: str, message: str, *, idempotency_key: str) -> SmsReceipt:
        number = check_e164(to_e164)
        request = self._request(number, message, idempotency_key)
        try:
            async with self._session.post(
                self._url, timeout=self._timeout, allow_redirects=False, **request
            ) as response:
                status, body = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning(
                "sms to %s key %s: gateway unreachable (%s)",
                masked(to_e164),
                idempotency_key,
                type(error).__name__,
            )
            raise SmsUnavailableError(
                f"SMS gateway unreachable: {type(error).__name__}"
            ) from error
        return _receipt(status, body, masked(to_e164), idempotency_key)

    def _request(self, number: str, message: str, idempotency_key: str) -> dict[str, Any]:
        if self._provider == "thaibulksms":
            form = {"msisdn": number, "message": message, "sender": self._sender}
            return {"data": form, "headers": {"Authorization": self._basic_auth()}}
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": idempotency_key,
        }
        payload = {"to": number, "sender": self._sender, "message": message}
        return {"json": payload, "headers": headers}

    def _basic_auth(self) -> str:
        # Built by hand: aiohttp.BasicAuth is deprecated from aiohttp 3.14 on.
        pair = f"{self._api_key}:{self._api_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def _receipt(status: int, body: bytes, to_masked: str, idempotency_key: str) -> SmsReceipt:
    # The gateway's answer is never logged or quoted either: some echo the message.
    if 200 <= status < 300:
        logger.info("sms to %s key %s accepted (%s)", to_masked, idempotency_key, status)
        return SmsReceipt(message_id=_message_id(body))
    logger.warning("sms to %s key %s refused with HTTP %s", to_masked, idempotency_key, status)
    if status >= 500 or status in RETRYABLE_CLIENT_ERRORS:
        raise SmsUnavailableError(f"SMS gateway answered HTTP {status}")
    raise SmsPermanentError(f"SMS gateway refused the message: HTTP {status}")


def _message_id(body: bytes) -> str | None:
    """`id` or `message_id` at the top, or in ThaiBulkSMS's `phone_number_list[0]`."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    phones = answer.get("phone_number_list")
    if isinstance(phones, list) and phones and isinstance(phones[0], dict):
        answer = phones[0]
    found = answer.get("message_id", answer.get("id"))
    return None if found is None else str(found)
