"""The Directory port (accounts in LDAP) and MemoryDirectory, its in-process twin."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from core.rules.usernames import RESERVED
from core.storage.models import ApplicationKind

logger = logging.getLogger(__name__)

DEFAULT_USERS_DN = "ou=people,dc=bangkok,dc=go,dc=th"
# Names a person never gets: unit mailboxes and system accounts mail servers expect.
RESERVED_USER_NAMES = RESERVED | {"mailer-daemon", "nobody", "daemon", "system", "ldap", "guest"}
MAX_FIRST_PART = 20  # with "." and the last-name part a user name stays within 32 characters
MAX_USER_NAME = 32
MIN_PASSWORD_LENGTH = 8  # the same rule as the test slapd's ppolicy (pwdMinLength)
CREATE_ATTEMPTS = 5  # add retries when another process takes the chosen name meanwhile
# The keyed national-ID digest (HMAC-SHA256 from the Vault, never the ID) that lets rule 2.1
# find accounts made before the bot. x500UniqueIdentifier (RFC 4519) is the identifier
# inetOrgPerson already allows for "which person is this", multi-valued, with an equality
# rule: the 256 digest bits go in as an LDAP bit string '0101...'B.
NATIONAL_ID_ATTRIBUTE = "x500UniqueIdentifier"


class DirectoryError(Exception):
    """A permanent failure: retrying the same call will not help."""


class DirectoryUnavailableError(Exception):
    """The server is down, unreachable or too slow: retry later (deliberately not a
    DirectoryError, so an `except DirectoryError` never swallows a retryable failure)."""


class UserNamesBusyError(Exception):
    """Each free user name tried was taken meanwhile by another entry made at the same time
    (another process approving people of similar names): retry later, when the names they
    took are seen (not a DirectoryError: retrying does help)."""


class UnknownUserError(DirectoryError):
    """No entry with that user name."""


class UnknownGroupError(DirectoryError):
    """No group entry with that DN (BMABOT_RIGHTS_GROUPS names one that is not there)."""


class NotAMailboxError(DirectoryError):
    """A responsible person can only be set on a unit mailbox."""


class UserNameTakenError(DirectoryError):
    """A unit mailbox name that belongs to another entry or is reserved."""


class PasswordChangeError(DirectoryError):
    """The old password is wrong or locked, or the new one fails the password policy."""


class PasswordCheck(StrEnum):
    OK = "ok"
    MUST_CHANGE = "must_change"  # right temporary password: only a password change is allowed
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    uid: str
    display_name: str
    employee_type: str | None
    mail: str | None
    locked: bool
    mobile: str | None = None
    application_reference: str | None = None
    responsible_uid: str | None = None  # unit mailboxes: the person who answers for it


@dataclass(frozen=True, slots=True)
class AccountRequest:
    """What an approved application puts in the directory; deliberately no national ID."""

    application_reference: str  # "A69-00042", also the idempotency key of the creation
    kind: ApplicationKind
    first_name_en: str
    last_name_en: str
    first_name_th: str
    last_name_th: str
    display_name_th: str  # with the Thai title: "นายสมชาย ใจดี"
    mobile_e164: str
    position: str
    unit: str
    mailbox_name: str | None = None  # agency only: the wanted user name
    responsible_uid: str | None = None  # agency only: an existing person's user name
    national_id_digest: str | None = None  # the Vault's keyed hex digest; the ID never


@dataclass(frozen=True, slots=True)
class Account:
    uid: str
    mail: str
    application_reference: str
    created: bool  # False when a retry found the entry an earlier attempt made


class Directory(Protocol):
    async def find_user(self, uid: str) -> DirectoryUser | None: ...

    async def free_user_name(self, first_name_en: str, last_name_en: str) -> str: ...

    async def create_account(self, request: AccountRequest) -> Account: ...

    async def set_temporary_password(self, uid: str, password: str) -> None: ...

    async def check_password(self, uid: str, password: str) -> PasswordCheck: ...

    async def change_password(self, uid: str, old_password: str, new_password: str) -> None: ...

    async def lock(self, uid: str, reason: str) -> None: ...

    async def unlock(self, uid: str) -> None: ...

    async def set_responsible(self, mailbox_uid: str, responsible_uid: str) -> None: ...

    async def add_to_group(self, uid: str, group_dn: str) -> None: ...

    async def find_by_national_id_digest(self, digests: Collection[str]) -> DirectoryUser | None:
        """The entry carrying one of these digests (the current key's and older keys')."""
        ...

    async def set_national_id_digest(self, uid: str, digest: str) -> None:
        """Mark an existing entry with its person's digest (replacing an older one)."""
        ...

    async def close(self) -> None:
        """Let go of what the directory holds open (connections); later calls reopen."""
        ...


def digest_bits(digest: str) -> str:
    """A hex digest as the LDAP bit string x500UniqueIdentifier holds ('0101...'B)."""
    if not digest:
        return ""
    bits = bin(int(digest, 16))[2:].zfill(len(digest) * 4)
    return f"'{bits}'B"


def user_name_candidates(first_name_en: str, last_name_en: str) -> Iterator[str]:
    """somchai.j, somchai.ja, somchai.jai, ... then somchai.j2, somchai.j3, ... (endless)."""
    first = _ascii_letters(first_name_en)[:MAX_FIRST_PART]
    last = _ascii_letters(last_name_en)
    if not first:
        raise DirectoryError("no ASCII letter in the English first name")
    stem = f"{first}.{last[:1]}" if last else first
    yield stem
    for end in range(2, len(last) + 1):
        if len(first) + 1 + end > MAX_USER_NAME:
            break
        yield f"{first}.{last[:end]}"
    number = 2
    while True:
        yield f"{stem}{number}"
        number += 1


def first_free(
    candidates: Iterator[str], taken: Collection[str], reserved: Collection[str]
) -> str:
    return next(name for name in candidates if name not in taken and name not in reserved)


def _ascii_letters(name: str) -> str:
    # "Thanawat-Ng'am" -> "thanawatngam"; accents fall off ("José" -> "jose").
    decomposed = unicodedata.normalize("NFKD", name).lower()
    return re.sub(r"[^a-z]", "", decomposed)


def account_entry(
    request: AccountRequest, uid: str, *, mail_domain: str, manager_dn: str | None
) -> dict[str, list[str]]:
    """The LDAP attributes of the entry (objectClass inetOrgPerson), empty ones left out."""
    if request.kind == ApplicationKind.AGENCY:
        names = {"cn": [uid], "sn": [uid], "displayName": [request.unit]}
    else:
        names = _person_names(request)
    links = {
        "uid": [uid],
        "mail": [f"{uid}@{mail_domain}"],
        "mobile": [request.mobile_e164],
        "title": [request.position],
        "ou": [request.unit],
        "employeeType": [request.kind.value],
        "employeeNumber": [request.application_reference],
        "manager": [manager_dn or ""],
        NATIONAL_ID_ATTRIBUTE: [digest_bits(request.national_id_digest or "")],
    }
    entry = names | links
    return {name: values for name, values in entry.items() if all(values)}


def _person_names(request: AccountRequest) -> dict[str, list[str]]:
    return {
        "cn": [f"{request.first_name_en} {request.last_name_en}"],
        "sn": [request.last_name_en],
        "givenName": [request.first_name_en],
        # RFC 3866 language tags keep the Thai name searchable beside the English one.
        "cn;lang-th": [f"{request.first_name_th} {request.last_name_th}"],
        "sn;lang-th": [request.last_name_th],
        "givenName;lang-th": [request.first_name_th],
        "displayName": [request.display_name_th],
    }


@dataclass(slots=True)
class _MemoryEntry:
    attributes: dict[str, list[str]]
    password_digest: bytes | None = None
    must_change: bool = False
    locked: bool = False


@dataclass(slots=True)
class MemoryDirectory:
    """The directory in a dict: the demo's default and the tests' fake, with LDAP's rules.

    Set `available = False` to play a server that is down.
    """

    mail_domain: str = "bangkok.go.th"
    users_dn: str = DEFAULT_USERS_DN
    reserved: Collection[str] = RESERVED_USER_NAMES
    available: bool = True
    _entries: dict[str, _MemoryEntry] = field(default_factory=dict)
    groups: dict[str, set[str]] = field(default_factory=dict)  # group DN -> member uids
    _salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def entry(self, uid: str) -> dict[str, list[str]]:
        """A copy of an entry's attributes, as LDAP would return them (for tests)."""
        return {name: list(values) for name, values in self._entry(uid).attributes.items()}

    def users(self) -> list[DirectoryUser]:
        """Every entry, oldest first (the demo shows them; an entry holds no national ID)."""
        return [_memory_user(uid, entry) for uid, entry in self._entries.items()]

    async def find_user(self, uid: str) -> DirectoryUser | None:
        self._check_available()
        entry = self._entries.get(uid)
        return None if entry is None else _memory_user(uid, entry)

    async def free_user_name(self, first_name_en: str, last_name_en: str) -> str:
        self._check_available()
        candidates = user_name_candidates(first_name_en, last_name_en)
        return first_free(candidates, self._taken(), self.reserved)

    async def create_account(self, request: AccountRequest) -> Account:
        self._check_available()
        existing = self._by_reference(request.application_reference)
        if existing is not None:
            return self._account(existing, request, created=False)
        manager_dn = self._manager_dn(request)
        uid = await self._new_uid(request)
        attributes = account_entry(
            request, uid, mail_domain=self.mail_domain, manager_dn=manager_dn
        )
        self._entries[uid] = _MemoryEntry(attributes)
        logger.info("created directory entry %s for %s", uid, request.application_reference)
        return self._account(uid, request, created=True)

    async def set_temporary_password(self, uid: str, password: str) -> None:
        self._check_available()
        entry = self._entry(uid)
        entry.password_digest = self._digest(password)
        entry.must_change = True  # as ppolicy's pwdMustChange does on an admin reset

    async def check_password(self, uid: str, password: str) -> PasswordCheck:
        self._check_available()
        entry = self._entries.get(uid)
        if entry is None or not password or entry.password_digest is None:
            return PasswordCheck.WRONG
        if entry.locked:
            return PasswordCheck.LOCKED
        if not hmac.compare_digest(entry.password_digest, self._digest(password)):
            return PasswordCheck.WRONG
        return PasswordCheck.MUST_CHANGE if entry.must_change else PasswordCheck.OK

    async def change_password(self, uid: str, old_password: str, new_password: str) -> None:
        check = await self.check_password(uid, old_password)
        if check not in (PasswordCheck.OK, PasswordCheck.MUST_CHANGE):
            raise PasswordChangeError(f"old password refused: {check}")
        if len(new_password) < MIN_PASSWORD_LENGTH or new_password == old_password:
            raise PasswordChangeError("new password fails the password policy")
        entry = self._entry(uid)
        entry.password_digest = self._digest(new_password)
        entry.must_change = False

    async def lock(self, uid: str, reason: str) -> None:
        self._check_available()
        self._entry(uid).locked = True
        logger.info("locked directory entry %s: %r", uid, reason)

    async def unlock(self, uid: str) -> None:
        self._check_available()
        self._entry(uid).locked = False
        logger.info("unlocked directory entry %s", uid)

    async def set_responsible(self, mailbox_uid: str, responsible_uid: str) -> None:
        self._check_available()
        mailbox = self._entry(mailbox_uid)
        if mailbox.attributes.get("employeeType") != [ApplicationKind.AGENCY.value]:
            raise NotAMailboxError(f"{mailbox_uid!r} is not a unit mailbox")
        self._entry(responsible_uid)
        mailbox.attributes["manager"] = [f"uid={responsible_uid},{self.users_dn}"]
        logger.info("unit mailbox %s now answered for by %s", mailbox_uid, responsible_uid)

    async def add_to_group(self, uid: str, group_dn: str) -> None:
        self._check_available()
        self._entry(uid)
        members = self.groups.get(group_dn)
        if members is None:
            raise UnknownGroupError(f"no group {group_dn!r}")
        members.add(uid)
        logger.info("added %s to group %s", uid, group_dn)

    async def find_by_national_id_digest(self, digests: Collection[str]) -> DirectoryUser | None:
        self._check_available()
        wanted = {digest_bits(digest) for digest in digests}
        for uid, entry in self._entries.items():
            if wanted & set(entry.attributes.get(NATIONAL_ID_ATTRIBUTE, [])):
                return _memory_user(uid, entry)
        return None

    async def set_national_id_digest(self, uid: str, digest: str) -> None:
        self._check_available()
        self._entry(uid).attributes[NATIONAL_ID_ATTRIBUTE] = [digest_bits(digest)]

    async def close(self) -> None:
        return None  # nothing held open

    def _check_available(self) -> None:
        if not self.available:
            raise DirectoryUnavailableError("memory directory is set unavailable")

    def _entry(self, uid: str) -> _MemoryEntry:
        entry = self._entries.get(uid)
        if entry is None:
            raise UnknownUserError(f"no directory entry {uid!r}")
        return entry

    def _taken(self) -> set[str]:
        mails = (m for e in self._entries.values() for m in e.attributes.get("mail", []))
        return set(self._entries) | {mail.partition("@")[0] for mail in mails}

    def _by_reference(self, reference: str) -> str | None:
        for uid, entry in self._entries.items():
            if entry.attributes.get("employeeNumber") == [reference]:
                return uid
        return None

    def _manager_dn(self, request: AccountRequest) -> str | None:
        if request.kind != ApplicationKind.AGENCY:
            return None
        responsible = request.responsible_uid or ""
        self._entry(responsible)
        return f"uid={responsible},{self.users_dn}"

    async def _new_uid(self, request: AccountRequest) -> str:
        if request.kind != ApplicationKind.AGENCY:
            return await self.free_user_name(request.first_name_en, request.last_name_en)
        wanted = request.mailbox_name or ""
        if not wanted or wanted in self.reserved or wanted in self._taken():
            raise UserNameTakenError(f"unit mailbox name {wanted!r} is taken or reserved")
        return wanted

    def _account(self, uid: str, request: AccountRequest, *, created: bool) -> Account:
        mail = f"{uid}@{self.mail_domain}"
        return Account(uid, mail, request.application_reference, created)

    def _digest(self, password: str) -> bytes:
        return hashlib.sha256(self._salt + password.encode()).digest()


def _memory_user(uid: str, entry: _MemoryEntry) -> DirectoryUser:
    attributes = entry.attributes
    manager = attributes.get("manager", [""])[0]
    return DirectoryUser(
        uid=uid,
        display_name=attributes.get("displayName", attributes.get("cn", [uid]))[0],
        employee_type=attributes.get("employeeType", [None])[0],
        mail=attributes.get("mail", [None])[0],
        locked=entry.locked,
        mobile=attributes.get("mobile", [None])[0],
        application_reference=attributes.get("employeeNumber", [None])[0],
        responsible_uid=manager.partition(",")[0].removeprefix("uid=") or None,
    )
