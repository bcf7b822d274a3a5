"""Who may review, and where: the review group of each channel (and the rights group for
e-GP / Web Portal requests) and the allow-list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.flows.incoming import Incoming
from bot.flows.kinds import KINDS
from core.settings import ANY_MEMBER


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    review_chats: Mapping[str, str] = field(default_factory=dict)  # channel -> group chat id
    # "line:U123", or ANY_MEMBER for every member of the group; empty: nobody decides
    reviewers: frozenset[str] = frozenset()
    rights_chats: Mapping[str, str] = field(default_factory=dict)  # channel -> rights group

    @classmethod
    def from_settings(
        cls,
        review_chats: Mapping[str, str | None],
        reviewers: str,
        rights_chats: Mapping[str, str | None] | None = None,
    ) -> ReviewPolicy:
        chats = {channel: chat for channel, chat in review_chats.items() if chat}
        rights = {channel: chat for channel, chat in (rights_chats or {}).items() if chat}
        allowed = frozenset(item.strip() for item in reviewers.split(",") if item.strip())
        return cls(chats, allowed, rights)

    def chat_for(self, channel: str, kind: str) -> str | None:
        """Where a request of this kind is reviewed: rights in the rights group if any."""
        request = KINDS.named(kind)
        if request is not None and request.review_chat == "rights":
            return self.rights_chats.get(channel) or self.review_chats.get(channel)
        return self.review_chats.get(channel)

    def is_review_chat(self, incoming: Incoming) -> bool:
        chats = {self.review_chats.get(incoming.channel), self.rights_chats.get(incoming.channel)}
        return incoming.in_group and incoming.chat_id in chats - {None}

    def may_decide(self, incoming: Incoming) -> bool:
        if not self.is_review_chat(incoming):
            return False
        allowed = self.reviewers
        return ANY_MEMBER in allowed or f"{incoming.channel}:{incoming.user_id}" in allowed

    def decides_here(self, incoming: Incoming, kind: str) -> bool:
        """A request is decided only in the group it was posted to."""
        return incoming.chat_id == self.chat_for(incoming.channel, kind)
