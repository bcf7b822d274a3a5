"""The audit trail's hash chain: each row's HMAC covers its fields and the hash of the row before.

The key is derived from the secret key, so someone with the database alone cannot write a
row that verifies, nor rebuild the chain after changing one. One row, `audit_chain`, is the
chain's head: the hash of the newest row (a database trigger moves it on every insert) and
where the chain starts (rows written before migration 0008 carry no hash).

Writers are serialised on the head: a transaction reads it with a row lock (PostgreSQL;
SQLite has one writer at a time already) when it inserts its audit rows, links them, and
holds the lock to its commit. core.audit.trail queues the rows of a unit of work and inserts them
last, at the commit, so that lock is the last one a transaction takes and is held briefly:
the cost is one small statement per transaction that records something.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapper, Session, SessionTransaction, object_session

from core.storage.db import insert_for
from core.storage.models import AuditChain, AuditEvent

HEAD_ID = 1  # audit_chain has this one row
FORMAT = "bmabot audit v1"  # first item of every serialised row: a new format gets a new name
QUEUED = "bmabot.audit.queued"  # session.info: rows recorded in this transaction, not yet written
LINKED = "bmabot.audit.linked"  # session.info: the hash of the row inserted last in this flush


class AuditKeyMissingError(RuntimeError):
    """Audit rows were written on an engine that was given no key (see sign_with)."""


class ChainKey:
    """The HMAC-SHA256 key of the chain, derived from the secret key for this purpose only."""

    __slots__ = ("_key",)

    def __init__(self, secret_key: str) -> None:
        hkdf = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"bmabot audit chain v1")
        self._key = hkdf.derive(secret_key.encode("utf-8"))

    def __repr__(self) -> str:
        return "ChainKey(<secret>)"

    def start(self, start_id: int) -> str:
        """What the first chained row links to: binds where the chain starts into it."""
        return self._mac(json.dumps([FORMAT, "start", start_id]).encode("utf-8"))

    def seal(self, row: Mapping[str, Any], previous: str) -> str:
        """The hash of a row (at, actor, action, application_id, detail) after `previous`."""
        return self._mac(serialise(row, previous))

    def _mac(self, message: bytes) -> str:
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def serialise(row: Mapping[str, Any], previous: str) -> bytes:
    """The canonical bytes of a row: the same from the objects written and the rows read back."""
    items = [
        FORMAT,
        _utc_text(row["at"]),
        row["actor"],
        row["action"],
        row["application_id"],
        row["detail"] or {},
        previous,
    ]
    text = json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _utc_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime: audit rows carry timezone-aware times (UTC)")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_KEYS: weakref.WeakKeyDictionary[Engine, ChainKey] = weakref.WeakKeyDictionary()


def sign_with(engine: AsyncEngine | Engine, secret_key: str) -> None:
    """Give the audit rows written through this engine their key (the composition root does)."""
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    _KEYS[sync_engine] = ChainKey(secret_key)


def key_of(engine: AsyncEngine | Engine) -> ChainKey:
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    key = _KEYS.get(sync_engine)
    if key is None:
        raise AuditKeyMissingError(
            "audit rows need the chain key: call core.audit.chain.sign_with(engine, secret_key)"
        )
    return key


def queue(session: Session, row: AuditEvent) -> None:
    """Keep a row for the commit of this session's transaction (see _write_queued)."""
    savepoint = session.get_nested_transaction()
    session.info.setdefault(QUEUED, []).append((savepoint, row))


@event.listens_for(Session, "before_commit")
def _write_queued(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its rows go with the outer transaction
    queued = session.info.pop(QUEUED, None)
    if not queued:
        return
    session.flush()  # the rest of the unit of work first: the chain is locked last
    session.add_all(row for _, row in queued)  # the commit's flush inserts them, linked


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    queued = session.info.get(QUEUED)
    if queued and previous.nested:
        session.info[QUEUED] = [
            (savepoint, row) for savepoint, row in queued if not _inside(savepoint, previous)
        ]
    elif queued:
        del session.info[QUEUED]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(QUEUED, None)
        session.info.pop(LINKED, None)


def _inside(savepoint: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is ended:
            return True
        savepoint = savepoint.parent
    return False


@event.listens_for(Session, "before_flush")
@event.listens_for(Session, "after_flush")
def _forget_linked(session: Session, *_: Any) -> None:
    session.info.pop(LINKED, None)  # each flush reads the head again: it may have rolled back


@event.listens_for(AuditEvent, "before_insert")
def _link(_mapper: Mapper[AuditEvent], connection: Connection, row: AuditEvent) -> None:
    """Link each row to the one inserted before it; the first of a flush to the chain head."""
    key = key_of(connection.engine)
    session = object_session(row)
    linked: dict[str, Any] = session.info if session is not None else {}
    previous = linked.get(LINKED) or _lock_head(connection, key)
    fields = {name: getattr(row, name) for name in ("at", "actor", "action", "application_id")}
    row.detail = dict(row.detail or {})
    row.previous_hash = previous
    row.chain_hash = key.seal({**fields, "detail": row.detail}, previous)
    linked[LINKED] = row.chain_hash


def _lock_head(connection: Connection, key: ChainKey) -> str:
    """The hash the next row links to, with the head locked to this transaction's end."""
    query = (
        select(AuditChain.start_id, AuditChain.last_hash)
        .where(AuditChain.id == HEAD_ID)
        .with_for_update()  # SQLite: no such clause; its writers take turns anyway
    )
    head = connection.execute(query).one_or_none()
    if head is None:
        # Only by hand (or a test's TRUNCATE): start again from row 0, so that `bmabot audit
        # verify` reports the break instead of taking the rows before for pre-chain ones.
        insert = insert_for(connection.dialect.name, AuditChain)
        connection.execute(insert.values(id=HEAD_ID, start_id=0).on_conflict_do_nothing())
        head = connection.execute(query).one()
    start_id, last_hash = head
    return str(last_hash) if last_hash else key.start(start_id)
