"""A global SMS budget: at most so many SMS an hour leave this process, whoever asks.

It guards against SMS pumping (many requests made only to send SMS) and a runaway job. An
SMS over the budget is not sent: SmsBudgetExceededError (a kind of SmsUnavailableError) makes
its job try again after a back-off, when the hour has room again. The first refusal of each
hour is one line in the security log.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from core.audit.security_log import Event, security_event
from core.clock import Clock
from core.sms.port import SmsGateway, SmsReceipt, SmsUnavailableError

HOUR = 3600.0


class SmsBudgetExceededError(SmsUnavailableError):
    """The hour's SMS budget is spent: this SMS waits for its job's next attempt."""


@dataclass(slots=True)
class BudgetedSms:
    """An SmsGateway that lets at most `per_hour` SMS through `gateway` in any hour."""

    gateway: SmsGateway
    per_hour: int
    clock: Clock
    _sent: deque[float] = field(default_factory=deque)  # times of the hour's SMS, oldest first
    _quiet_until: float = float("-inf")
    _refused: int = 0  # since the last line in the security log

    async def send(self, to_e164: str, message: str, *, idempotency_key: str) -> SmsReceipt:
        now = self.clock.now().timestamp()
        while self._sent and self._sent[0] <= now - HOUR:
            self._sent.popleft()
        if len(self._sent) >= self.per_hour:
            self._refuse(now)
            raise SmsBudgetExceededError(f"more than {self.per_hour} SMS this hour")
        self._sent.append(now)  # counted before sending: a slow gateway is no way around it
        return await self.gateway.send(to_e164, message, idempotency_key=idempotency_key)

    def _refuse(self, now: float) -> None:
        if now < self._quiet_until:
            self._refused += 1
            return
        security_event(
            Event.RATE_LIMITED,
            limit="sms",
            most=self.per_hour,
            per=f"{HOUR:.0f}s",
            refused_before=self._refused,
        )
        self._quiet_until, self._refused = self._sent[0] + HOUR, 0


def with_budget(gateway: SmsGateway, per_hour: int, clock: Clock) -> SmsGateway:
    """The gateway behind a budget of per_hour SMS (0: no budget)."""
    return gateway if per_hour <= 0 else BudgetedSms(gateway, per_hour, clock)
