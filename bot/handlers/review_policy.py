"""Who may review, and where: the configured review group of each channel and the allow-list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.flows.incoming import Incoming


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    review_chats: Mapping[str, str] = field(default_factory=dict)  # channel -> group chat id
    reviewers: frozenset[str] = frozenset()  # "line:U123"; empty: every member of the group

    @classmethod
    def from_settings(cls, review_chats: Mapping[str, str | None], reviewers: str) -> ReviewPolicy:
        chats = {channel: chat for channel, chat in review_chats.items() if chat}
        allowed = frozenset(item.strip() for item in reviewers.split(",") if item.strip())
        return cls(chats, allowed)

    def is_review_chat(self, incoming: Incoming) -> bool:
        return incoming.in_group and self.review_chats.get(incoming.channel) == incoming.chat_id

    def may_decide(self, incoming: Incoming) -> bool:
        if not self.is_review_chat(incoming):
            return False
        return not self.reviewers or f"{incoming.channel}:{incoming.user_id}" in self.reviewers
