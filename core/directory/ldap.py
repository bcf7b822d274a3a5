"""LdapDirectory: the Directory port on a real LDAP server (OpenLDAP + ppolicy) with ldap3."""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Collection
from contextlib import suppress
from typing import Any, TypeVar

from ldap3 import (
    BASE,
    MODIFY_ADD,
    MODIFY_DELETE,
    MODIFY_REPLACE,
    NONE,
    SAFE_SYNC,
    SUBTREE,
    Connection,
    Server,
    Tls,
)
from ldap3.core.exceptions import LDAPCommunicationError, LDAPException, LDAPResponseTimeoutError
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn, parse_dn

from core.directory.port import (
    CREATE_ATTEMPTS,
    NATIONAL_ID_ATTRIBUTE,
    RESERVED_USER_NAMES,
    Account,
    AccountRequest,
    DirectoryError,
    DirectoryUnavailableError,
    DirectoryUser,
    NotAMailboxError,
    PasswordChangeError,
    PasswordCheck,
    UnknownGroupError,
    UnknownUserError,
    UserNamesBusyError,
    UserNameTakenError,
    account_entry,
    digest_bits,
    first_free,
    user_name_candidates,
)
from core.storage.models import ApplicationKind

logger = logging.getLogger(__name__)

T = TypeVar("T")
Entry = dict[str, Any]  # one searchResEntry of ldap3: "dn", "attributes", ...

PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"  # password policy control (draft-behera)
PPOLICY_ACCOUNT_LOCKED = 1
PPOLICY_CHANGE_AFTER_RESET = 2
LOCKED_FOR_GOOD = "000001010000Z"  # ppolicy: locked until an administrator unlocks
SUCCESS, NO_SUCH_ATTRIBUTE, ATTRIBUTE_OR_VALUE_EXISTS, NO_SUCH_OBJECT = 0, 16, 20, 32
INVALID_CREDENTIALS, INSUFFICIENT_ACCESS, ALREADY_EXISTS = 49, 50, 68
# busy, unavailable, unwillingToPerform is not here: it is a refusal, not a passing state
RETRYABLE_RESULTS = frozenset({3, 51, 52, 80, 81, 85})
POOL_SIZE = 4  # bound admin connections kept between calls (one per thread at a time)
POOL_IDLE_SECONDS = 60.0  # servers drop idle connections (olcIdleTimeout): ours go first
USER_ATTRIBUTES = ["uid", "cn", "displayName", "employeeType", "mail", "mobile"]
USER_ATTRIBUTES += ["employeeNumber", "manager", "pwdAccountLockedTime"]


class _VerifiedTls(Tls):  # type: ignore[misc]  # ldap3 has no type hints
    """ldaps:// that checks the certificate chain (ca_file, or the system's CAs) and name.

    ldap3's default Tls() checks nothing, and its own name check calls ssl.match_hostname,
    deprecated in Python 3.7 and gone in 3.12: OpenSSL does both checks here instead.
    """

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        context = ssl.create_default_context(cafile=self.ca_certs_file)
        connection.socket = context.wrap_socket(
            connection.socket, server_hostname=connection.server.host
        )


class LdapDirectory:
    """Each call runs in a thread (ldap3 blocks) on a bound admin connection from a pool.

    Opening and binding a connection for every call cost the account job three TCP
    handshakes and three binds an account, about a third of its LDAP time (issue 13). A
    connection is used by one thread at a time, goes back to the pool after a call, is
    closed after an error or POOL_IDLE_SECONDS unused, and a call that finds its reused
    connection dropped by the server runs once more on a new one (every operation here is
    idempotent: creation finds its own entry by the reference). People's own binds
    (password checks and changes) never share a connection.

    People and unit mailboxes are entries `uid=...` directly under `users_dn`; the
    application reference is kept in `employeeNumber`, which makes creation idempotent.
    """

    def __init__(
        self,
        url: str,
        bind_dn: str,
        password: str,
        users_dn: str,
        mail_domain: str,
        *,
        timeout: float = 5.0,
        ca_file: str | None = None,
        reserved: Collection[str] = RESERVED_USER_NAMES,
    ) -> None:
        tls = _VerifiedTls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)
        self._server = Server(url, get_info=NONE, connect_timeout=timeout, tls=tls)
        self._url = url
        self._bind_dn = bind_dn
        self._password = password
        self._users_dn = users_dn
        self._mail_domain = mail_domain
        self._timeout = timeout
        self._reserved = reserved
        self._pool: queue.SimpleQueue[tuple[Connection, float]] = queue.SimpleQueue()
        # One new entry at a time in this process: a name is chosen and taken before the
        # next is chosen. Otherwise jobs running at once all pick the same free name, all
        # but one lose it and choose again, and with enough of them some run out of
        # CREATE_ATTEMPTS (seen in the scale-out test, four account jobs a process).
        self._naming = threading.Lock()
        # Closes what the pool holds when the directory is dropped without close().
        self._finalizer = weakref.finalize(self, _close_pool, self._pool)

    async def close(self) -> None:
        """Unbinds the pooled connections; a later call opens new ones."""
        await asyncio.to_thread(_close_pool, self._pool)

    async def find_user(self, uid: str) -> DirectoryUser | None:
        entry = await self._as_admin(lambda c: self._find(c, "uid", uid))
        return None if entry is None else _user(entry)

    async def free_user_name(self, first_name_en: str, last_name_en: str) -> str:
        return await self._as_admin(lambda c: self._free_name(c, first_name_en, last_name_en))

    async def create_account(self, request: AccountRequest) -> Account:
        return await self._as_admin(lambda c: self._create(c, request))

    async def set_temporary_password(self, uid: str, password: str) -> None:
        # Password Modify (RFC 3062) as the admin: ppolicy then marks the entry pwdReset.
        await self._as_admin(lambda c: self._set_password(c, uid, password))

    async def check_password(self, uid: str, password: str) -> PasswordCheck:
        if not password:  # an empty simple bind is an anonymous bind: it would "succeed"
            return PasswordCheck.WRONG
        return await self._call(self._check_password, uid, password)

    async def change_password(self, uid: str, old_password: str, new_password: str) -> None:
        if not old_password:
            raise PasswordChangeError("old password refused (empty)")
        await self._call(self._change_password, uid, old_password, new_password)

    async def lock(self, uid: str, reason: str) -> None:
        change = {"pwdAccountLockedTime": [(MODIFY_REPLACE, [LOCKED_FOR_GOOD])]}
        await self._as_admin(lambda c: self._modify(c, uid, change))
        logger.info("locked directory entry %s: %r", uid, reason)

    async def unlock(self, uid: str) -> None:
        change: dict[str, Any] = {"pwdAccountLockedTime": [(MODIFY_DELETE, [])]}
        await self._as_admin(lambda c: self._modify(c, uid, change))
        logger.info("unlocked directory entry %s", uid)

    async def set_responsible(self, mailbox_uid: str, responsible_uid: str) -> None:
        await self._as_admin(lambda c: self._set_responsible(c, mailbox_uid, responsible_uid))
        logger.info("unit mailbox %s now answered for by %s", mailbox_uid, responsible_uid)

    async def add_to_group(self, uid: str, group_dn: str) -> None:
        await self._as_admin(lambda c: self._add_to_group(c, uid, group_dn))
        logger.info("added %s to group %s", uid, group_dn)

    async def find_by_national_id_digest(self, digests: Collection[str]) -> DirectoryUser | None:
        values = [escape_filter_chars(digest_bits(d)) for d in digests if d]
        if not values:
            return None
        query = "(|" + "".join(f"({NATIONAL_ID_ATTRIBUTE}={v})" for v in values) + ")"
        entries = await self._as_admin(lambda c: self._search(c, query, USER_ATTRIBUTES))
        return _user(entries[0]) if entries else None

    async def set_national_id_digest(self, uid: str, digest: str) -> None:
        change = {NATIONAL_ID_ATTRIBUTE: [(MODIFY_REPLACE, [digest_bits(digest)])]}
        await self._as_admin(lambda c: self._modify(c, uid, change))

    # --- connections -----------------------------------------------------------------

    async def _as_admin(self, operation: Callable[[Connection], T]) -> T:
        return await self._call(self._with_admin, operation)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(function, *args)
        except (LDAPCommunicationError, LDAPResponseTimeoutError, OSError) as error:
            raise DirectoryUnavailableError(f"LDAP {self._url}: {error}") from error
        except LDAPException as error:
            # The class name only: an ldap3 message may quote a request.
            raise DirectoryError(f"LDAP {self._url}: {type(error).__name__}") from error

    def _connection(self, user: str, password: str) -> Connection:
        return Connection(
            self._server,
            user,
            password,
            client_strategy=SAFE_SYNC,
            raise_exceptions=False,
            # ldap3 packs it into a whole-second timeval on Linux: a float fails there.
            receive_timeout=max(1, math.ceil(self._timeout)),
        )

    def _with_admin(self, operation: Callable[[Connection], T]) -> T:
        reused = self._pooled()
        if reused is not None:
            try:
                return self._run_and_keep(reused, operation)
            except (LDAPCommunicationError, LDAPResponseTimeoutError, OSError):
                logger.info("a pooled LDAP connection was dropped; trying a new one")
        connection = self._connection(self._bind_dn, self._password)
        try:
            _raise_for(connection.bind()[1], "admin bind")
        except BaseException:
            _close(connection)
            raise
        return self._run_and_keep(connection, operation)

    def _run_and_keep(self, connection: Connection, operation: Callable[[Connection], T]) -> T:
        try:
            result = operation(connection)
        except DirectoryError:
            self._keep(connection)  # a refusal, its answer read in full: the connection is fine
            raise
        except BaseException:
            _close(connection)  # its state is unknown: a half-read response, a lost socket
            raise
        self._keep(connection)
        return result

    def _keep(self, connection: Connection) -> None:
        if self._pool.qsize() < POOL_SIZE:
            self._pool.put((connection, time.monotonic()))
        else:
            _close(connection)

    def _pooled(self) -> Connection | None:
        """A connection from the pool that has not been idle too long, if any."""
        while True:
            try:
                connection, since = self._pool.get_nowait()
            except queue.Empty:
                return None
            if time.monotonic() - since < POOL_IDLE_SECONDS and not connection.closed:
                return connection
            _close(connection)

    def _dn(self, uid: str) -> str:
        return f"uid={escape_rdn(uid)},{self._users_dn}"

    # --- operations, run in the thread -------------------------------------------------

    def _find(self, connection: Connection, attribute: str, value: str) -> Entry | None:
        query = f"({attribute}={escape_filter_chars(value)})"
        entries = self._search(connection, query, USER_ATTRIBUTES)
        return entries[0] if entries else None

    def _search(self, connection: Connection, query: str, attributes: list[str]) -> list[Entry]:
        _, result, response, _ = connection.search(
            self._users_dn, query, SUBTREE, attributes=attributes
        )
        _raise_for(result, "search")
        return [entry for entry in response or [] if entry.get("type") == "searchResEntry"]

    def _free_name(self, connection: Connection, first_name_en: str, last_name_en: str) -> str:
        candidates = user_name_candidates(first_name_en, last_name_en)
        stem = escape_filter_chars(next(user_name_candidates(first_name_en, "")))
        # One search for every name sharing the first part, mail aliases included.
        entries = self._search(connection, f"(|(uid={stem}*)(mail={stem}*))", ["uid", "mail"])
        taken = {uid for entry in entries for uid in _values(entry, "uid")}
        taken |= {mail.partition("@")[0] for entry in entries for mail in _values(entry, "mail")}
        return first_free(candidates, taken, self._reserved)

    def _create(self, connection: Connection, request: AccountRequest) -> Account:
        manager_dn = self._manager_dn(connection, request)
        with self._naming:
            return self._create_named(connection, request, manager_dn)

    def _create_named(
        self, connection: Connection, request: AccountRequest, manager_dn: str | None
    ) -> Account:
        reference = request.application_reference
        for _ in range(CREATE_ATTEMPTS):
            # A retry after a timeout finds what the lost attempt made: never a second entry.
            existing = self._find(connection, "employeeNumber", reference)
            if existing is not None:
                return self._account(_values(existing, "uid")[0], reference, created=False)
            uid = self._new_uid(connection, request)
            entry = account_entry(
                request, uid, mail_domain=self._mail_domain, manager_dn=manager_dn
            )
            result = connection.add(self._dn(uid), ["inetOrgPerson"], entry)[1]
            if result["result"] == SUCCESS:
                logger.info("created directory entry %s for %s", uid, reference)
                return self._account(uid, reference, created=True)
            if result["result"] != ALREADY_EXISTS or request.kind == ApplicationKind.AGENCY:
                _raise_for(result, "add", taken=UserNameTakenError)
            logger.info("user name %s was taken meanwhile; trying the next one", uid)
        raise UserNamesBusyError(f"no free user name for {reference} in {CREATE_ATTEMPTS} tries")

    def _new_uid(self, connection: Connection, request: AccountRequest) -> str:
        if request.kind != ApplicationKind.AGENCY:
            return self._free_name(connection, request.first_name_en, request.last_name_en)
        wanted = request.mailbox_name or ""
        if not wanted or wanted in self._reserved:
            raise UserNameTakenError(f"unit mailbox name {wanted!r} is reserved")
        return wanted

    def _manager_dn(self, connection: Connection, request: AccountRequest) -> str | None:
        if request.kind != ApplicationKind.AGENCY:
            return None
        responsible = self._find(connection, "uid", request.responsible_uid or "")
        if responsible is None:
            raise UnknownUserError(f"no responsible person {request.responsible_uid!r}")
        return str(responsible["dn"])

    def _account(self, uid: str, reference: str, *, created: bool) -> Account:
        return Account(uid, f"{uid}@{self._mail_domain}", reference, created)

    def _set_password(self, connection: Connection, uid: str, password: str) -> None:
        connection.extend.standard.modify_password(user=self._dn(uid), new_password=password)
        _raise_for(connection.result, "password modify")

    def _modify(self, connection: Connection, uid: str, change: dict[str, Any]) -> None:
        result = connection.modify(self._dn(uid), change)[1]
        if result["result"] != NO_SUCH_ATTRIBUTE:  # unlocking an unlocked entry is fine
            _raise_for(result, "modify")

    def _set_responsible(self, connection: Connection, mailbox_uid: str, person: str) -> None:
        mailbox = self._find(connection, "uid", mailbox_uid)
        if mailbox is None:
            raise UnknownUserError(f"no unit mailbox {mailbox_uid!r}")
        if _values(mailbox, "employeeType") != [ApplicationKind.AGENCY.value]:
            raise NotAMailboxError(f"{mailbox_uid!r} is not a unit mailbox")
        responsible = self._find(connection, "uid", person)
        if responsible is None:
            raise UnknownUserError(f"no responsible person {person!r}")
        change = {"manager": [(MODIFY_REPLACE, [str(responsible["dn"])])]}
        _raise_for(connection.modify(str(mailbox["dn"]), change)[1], "modify")

    def _add_to_group(self, connection: Connection, uid: str, group_dn: str) -> None:
        if self._find(connection, "uid", uid) is None:
            raise UnknownUserError(f"no directory entry {uid!r}")
        change = {"member": [(MODIFY_ADD, [self._dn(uid)])]}
        result = connection.modify(group_dn, change)[1]
        if result["result"] == NO_SUCH_OBJECT:
            raise UnknownGroupError(f"no group {group_dn!r}")
        if result["result"] != ATTRIBUTE_OR_VALUE_EXISTS:  # already a member: done before
            _raise_for(result, "modify group")

    def _check_password(self, uid: str, password: str) -> PasswordCheck:
        connection = self._connection(self._dn(uid), password)
        try:
            result = connection.bind(controls=[(PPOLICY_OID, False, None)])[1]
            error = _ppolicy_error(result)
            if result["result"] == INVALID_CREDENTIALS:
                locked = error == PPOLICY_ACCOUNT_LOCKED
                return PasswordCheck.LOCKED if locked else PasswordCheck.WRONG
            _raise_for(result, "user bind")
            if error == PPOLICY_CHANGE_AFTER_RESET or self._restricted(connection, uid):
                return PasswordCheck.MUST_CHANGE
            return PasswordCheck.OK
        finally:
            _close(connection)

    def _restricted(self, connection: Connection, uid: str) -> bool:
        # Without the response control, ppolicy still answers 50 to anything but a change.
        result = connection.search(self._dn(uid), "(objectClass=*)", BASE, attributes=["1.1"])[1]
        return bool(result["result"] == INSUFFICIENT_ACCESS)

    def _change_password(self, uid: str, old_password: str, new_password: str) -> None:
        connection = self._connection(self._dn(uid), old_password)
        try:
            result = connection.bind()[1]
            if result["result"] == INVALID_CREDENTIALS:
                raise PasswordChangeError("old password refused (wrong or locked)")
            _raise_for(result, "user bind")
            connection.extend.standard.modify_password(
                user=self._dn(uid), old_password=old_password, new_password=new_password
            )
            _raise_for(connection.result, "password change", refused=PasswordChangeError)
        finally:
            _close(connection)


def _close_pool(pool: queue.SimpleQueue[tuple[Connection, float]]) -> None:
    while True:
        try:
            connection, _ = pool.get_nowait()
        except queue.Empty:
            return
        with suppress(LDAPException, OSError):  # the server went first: nothing to close
            _close(connection)


def _close(connection: Connection) -> None:
    connection.unbind()
    # ldap3 leaves the socket of a refused connect open: close it, or the GC will complain.
    if connection.socket is not None:
        connection.socket.close()


def _raise_for(
    result: dict[str, Any],
    what: str,
    *,
    taken: type[DirectoryError] = DirectoryError,
    refused: type[DirectoryError] = DirectoryError,
) -> None:
    code = result["result"]
    if code == SUCCESS:
        return
    message = f"{what}: {code} {result.get('description')} {result.get('message') or ''}".strip()
    if code in RETRYABLE_RESULTS:
        raise DirectoryUnavailableError(message)
    if code == NO_SUCH_OBJECT:
        raise UnknownUserError(message)
    if code == ALREADY_EXISTS:
        raise taken(message)
    raise refused(message)


def _ppolicy_error(result: dict[str, Any]) -> int | None:
    """The `error` of a PasswordPolicyResponseValue, a BER SEQUENCE of short TLVs."""
    control = (result.get("controls") or {}).get(PPOLICY_OID) or {}
    value = control.get("value")
    if not isinstance(value, bytes) or len(value) < 2 or value[0] != 0x30:
        return None
    index = 2
    while index + 2 < len(value):
        tag, length = value[index], value[index + 1]
        if tag == 0x81 and length == 1:  # [1] error ENUMERATED
            return value[index + 2]
        index += 2 + length
    return None


def _values(entry: Entry, name: str) -> list[str]:
    values = entry.get("attributes", {}).get(name) or []
    return [str(value) for value in (values if isinstance(values, list) else [values])]


def _user(entry: Entry) -> DirectoryUser:
    def first(name: str) -> str | None:
        values = _values(entry, name)
        return values[0] if values else None

    manager = first("manager")
    uid = first("uid") or ""
    return DirectoryUser(
        uid=uid,
        display_name=first("displayName") or first("cn") or uid,
        employee_type=first("employeeType"),
        mail=first("mail"),
        locked=bool(_values(entry, "pwdAccountLockedTime")),
        mobile=first("mobile"),
        application_reference=first("employeeNumber"),
        responsible_uid=_first_rdn_value(manager) if manager else None,
    )


def _first_rdn_value(dn: str) -> str | None:
    try:
        return str(parse_dn(dn)[0][1])
    except (LDAPException, IndexError):
        return None
