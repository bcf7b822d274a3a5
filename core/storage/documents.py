"""Document photos kept encrypted on disk, and their rows in the database."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import tempfile
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.storage.db import one_of, table_of
from core.storage.images import CheckedImage, ImageRefused
from core.storage.models import Document


class Cipher(Protocol):
    """What the store needs from core.storage.crypto.Vault."""

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes: ...

    def decrypt(self, token: bytes, *, context: str) -> bytes: ...

    def reencrypt(self, token: bytes, *, context: str) -> bytes | None: ...


class InvalidDocumentNameError(ValueError):
    """A storage name that this store could not have made (e.g. a path traversal)."""


_NAME = re.compile(r"[A-Za-z0-9_-]{16,128}")
_STAGED_PREFIX = ".tmp-"
LEFTOVERS_AFTER = 3600.0  # seconds: a staged file this old was left by a crash
SETTLE_BATCH = 500  # file names looked up in one statement at start-up


@dataclass(frozen=True, slots=True)
class StagedImage:
    """A checked photo already encrypted and written to disk under a temporary name.

    Staging is the slow part (encryption, fsync) and runs off the event loop before any
    transaction; keeping the photo in a transaction is then a rename. Only what the
    document's row needs stays in memory, not the picture.
    """

    name: str
    temporary: Path
    content_type: str
    size_bytes: int  # of the image, before encryption
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A file in the store: a document's, or staged for one (kept_as None: a temporary)."""

    path: Path
    kept_as: str | None  # the document name it has or was staged for
    staged: bool
    modified: float  # seconds since the epoch


# What a photo event brings to its turn: staged, refused with a reason, or none could be had.
Photo = StagedImage | ImageRefused | None


class DocumentStore:
    """Encrypted files under root/documents/<2 chars>/<name>; nothing here is ever served."""

    def __init__(self, root: Path, vault: Cipher) -> None:
        self._root = root
        self._folder = root / "documents"
        self._vault = vault
        self._made: set[Path] = set()  # folders known to exist

    def write(self, content: bytes) -> str:
        name = secrets.token_urlsafe(32)
        path = self._path(name)
        self._make_folders(path.parent)
        _write_atomically(path, self._vault.encrypt(content, context=_context(name)))
        return name

    def stage(self, image: CheckedImage) -> StagedImage:
        """Encrypt and write a photo under a temporary name, on disk for good when this
        returns (blocking: call it in a thread)."""
        name = secrets.token_urlsafe(32)
        folder = self._path(name).parent
        self._make_folders(folder)
        encrypted = self._vault.encrypt(image.content, context=_context(name))
        temporary = folder / f"{_STAGED_PREFIX}{name}"
        try:
            _write_new(temporary, encrypted)
        except FileNotFoundError:  # the folders were removed behind our back: make them again
            self._made.clear()
            self._make_folders(folder)
            _write_new(temporary, encrypted)
        _sync_folder(folder)
        size = len(image.content)
        return StagedImage(name, temporary, image.content_type, size, image.width, image.height)

    def keep(self, staged: StagedImage) -> str:
        """Give a staged photo its name: from now on it is a document. A rename, run in the
        transaction that writes its row and not synced there (issue 13: 64 folders synced
        held SQLite's write lock for 0.2-0.3 s): the staged file is on disk for good, so a
        rename a power cut undoes is done again at start-up (settle_files) for a photo whose
        row was committed."""
        path = self._path(staged.name)
        if not path.exists():  # kept already by an earlier try of the same turn
            os.replace(staged.temporary, path)
        return staged.name

    def discard(self, staged: StagedImage) -> None:
        """Remove a staged photo that was not kept (no-op once kept)."""
        staged.temporary.unlink(missing_ok=True)

    def files(self) -> list[FoundFile]:
        """The documents' files and the staged ones (a live server's on their way into a
        turn, or a crash's); blocking: call it in a thread."""
        found = []
        for path in self._folder.glob("*/*"):
            staged = path.name.startswith(_STAGED_PREFIX)
            name = path.name.removeprefix(_STAGED_PREFIX)
            named = _NAME.fullmatch(name) is not None and path.parent.name == name[:2]
            if not (staged or named):
                continue  # nothing this store made
            try:
                modified = path.stat().st_mtime
            except FileNotFoundError:  # kept or discarded meanwhile
                continue
            found.append(FoundFile(path, name if named else None, staged, modified))
        return found

    def settle(
        self,
        files: Iterable[FoundFile],
        kept: Collection[str],
        deleted: Collection[str],
        older_than: float,
    ) -> int:
        """Make the files agree with the rows: finish the renames a power cut undid (their
        rows say they were kept); remove the files of deleted documents, and those no row
        names that are older than `older_than` seconds (a crash's staged ones, a failed
        transaction's kept ones). How many were removed (blocking: call it in a thread)."""
        removed, cutoff, renamed = 0, time.time() - older_than, set()
        for file in files:
            try:
                if file.kept_as is not None and file.kept_as in kept:
                    if file.staged:
                        renamed.update(self._keep_again(file))
                elif file.kept_as in deleted or file.modified < cutoff:
                    file.path.unlink()
                    removed += 1
            except FileNotFoundError:  # kept or discarded meanwhile by a live server
                continue
        for folder in sorted(renamed):
            _sync_folder(folder)
        return removed

    def _keep_again(self, file: FoundFile) -> set[Path]:
        """A staged file whose row was committed: its name again (the folder to sync)."""
        assert file.kept_as is not None
        path = self._path(file.kept_as)
        if path.exists():  # kept meanwhile: this is a second copy
            file.path.unlink()
            return set()
        os.replace(file.path, path)
        return {path.parent}

    def _make_folders(self, folder: Path) -> None:
        """The folder, and those above it, made where missing and on disk for good."""
        if folder in self._made:  # 4,096 of them at most: no mkdir for every photo
            return
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except FileNotFoundError:  # the first folder, or all were removed meanwhile
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._folder.mkdir(mode=0o700, exist_ok=True)
            folder.mkdir(mode=0o700, exist_ok=True)
            _sync_folder(self._root)
            _sync_folder(self._folder)
        else:
            _sync_folder(self._folder)
        self._made.add(folder)

    def read(self, name: str) -> bytes:
        """Raises FileNotFoundError once the document was deleted."""
        token = self._path(name).read_bytes()
        return self._vault.decrypt(token, context=_context(name))

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def remove_file(self, name: str) -> bool:
        """Delete a document's file; False when it was gone already."""
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def stored_names(self) -> list[str]:
        """Every document file on disk (a deleted row's file too, until it is removed)."""
        return sorted(path.name for path in self._folder.glob("*/*") if _NAME.fullmatch(path.name))

    def reencrypt(self, name: str) -> bool:
        """Encrypt a stored file again under the current key version (blocking: call it in a
        thread); False when it is under it already or is gone. Atomic: a crash leaves the
        old file or the new one, never half of either."""
        path = self._path(name)
        try:
            token = path.read_bytes()
        except FileNotFoundError:
            return False
        sealed = self._vault.reencrypt(token, context=_context(name))
        if sealed is None:
            return False
        temporary = _write_synced(path.parent, sealed)
        if not path.exists():  # deleted meanwhile: it stays deleted
            temporary.unlink(missing_ok=True)
            return False
        os.replace(temporary, path)
        _sync_folder(path.parent)
        return True

    def key_version_of(self, name: str) -> int | None:
        """The key version of a stored file (its first byte); None when it is gone."""
        try:
            with self._path(name).open("rb") as file:
                first = file.read(1)
        except FileNotFoundError:
            return None
        return first[0] if first else 0

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise InvalidDocumentNameError("not a document storage name")
        return self._folder / name[:2] / name


def _context(name: str) -> str:
    # Binds each ciphertext to its name: a file swapped for another one fails to decrypt.
    return f"document:{name}"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = _write_synced(path.parent, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """A folder's entries (names renamed or made in it) on disk when this returns."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_new(path: Path, data: bytes) -> None:
    """A new file with these bytes, on disk when this returns (its name once its folder is
    synced); mode 0o600."""
    _fill(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), path, data)


def _write_synced(folder: Path, data: bytes) -> Path:
    """A new file with these bytes under a temporary name, on disk when this returns."""
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=_STAGED_PREFIX)
    _fill(descriptor, Path(temporary), data)
    return Path(temporary)


def _fill(descriptor: int, path: Path, data: bytes) -> None:
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


async def save_document(
    session: AsyncSession,
    store: DocumentStore,
    *,
    channel: str,
    user_id: str,
    slot: str,
    image: StagedImage | CheckedImage,
    now: datetime,
) -> int:
    """Record the photo as a draft document of this person: a staged photo is kept (renamed),
    a checked one is staged here first."""
    staged = image if isinstance(image, StagedImage) else store.stage(image)
    saved = await save_documents(
        session, store, [NewDocument(channel, user_id, slot, staged)], now
    )
    return saved[staged.name]


@dataclass(frozen=True, slots=True)
class NewDocument:
    channel: str
    user_id: str
    slot: str
    staged: StagedImage


async def save_documents(
    session: AsyncSession, store: DocumentStore, documents: Sequence[NewDocument], now: datetime
) -> dict[str, int]:
    """Keep staged photos as draft documents, their rows written in one statement (a round
    of applicants at the photo step, issue 13): {storage name: document id}."""
    if not documents:
        return {}
    table = table_of(Document)
    names = [store.keep(document.staged) for document in documents]
    rows = [
        {
            "channel": document.channel,
            "user_id": document.user_id,
            "slot": document.slot,
            "storage_name": name,
            "content_type": document.staged.content_type,
            "size_bytes": document.staged.size_bytes,
            "width": document.staged.width,
            "height": document.staged.height,
            "created_at": now,
        }
        for document, name in zip(documents, names, strict=True)
    ]
    saved = await session.execute(insert(table).returning(table.c.storage_name, table.c.id), rows)
    return {str(name): int(document_id) for name, document_id in saved}


async def settle_files(
    sessions: async_sessionmaker[AsyncSession],
    store: DocumentStore,
    older_than: float = LEFTOVERS_AFTER,
) -> int:
    """At start-up, the files made to agree with the rows: staged photos whose rows were
    committed become their documents again (a power cut can undo the rename,
    DocumentStore.keep); the files of deleted documents go, and those no row names once
    they are older than `older_than` seconds (a crash's, or a failed transaction's: never a
    file that no row names, PDPA). How many were removed; a live server's photos on their
    way into a turn are younger and left alone."""
    files = await asyncio.to_thread(store.files)
    names = sorted({file.kept_as for file in files if file.kept_as is not None})
    live: set[str] = set()
    deleted: set[str] = set()
    table = table_of(Document)
    async with sessions() as session:
        dialect = session.get_bind().dialect.name
        for start in range(0, len(names), SETTLE_BATCH):
            batch = names[start : start + SETTLE_BATCH]
            rows = await session.execute(
                select(table.c.storage_name, table.c.deleted_at).where(
                    one_of(dialect, table.c.storage_name, batch)
                )
            )
            for name, deleted_at in rows:
                (live if deleted_at is None else deleted).add(name)
    return await asyncio.to_thread(store.settle, files, live, deleted, older_than)


async def delete_draft_documents(
    session: AsyncSession, store: DocumentStore, *, channel: str, user_id: str, now: datetime
) -> int:
    """Delete the photos of a person's unsubmitted form: rows marked, encrypted files removed.

    The rows are marked first; a file removed in a transaction that later rolls back only
    leaves a draft row whose photo reads as deleted, never a photo nobody can find.
    """
    drafts = list(
        await session.scalars(
            select(Document).where(
                Document.channel == channel,
                Document.user_id == user_id,
                Document.application_id.is_(None),
                Document.deleted_at.is_(None),
            )
        )
    )
    for document in drafts:
        document.deleted_at = now
    await session.flush()
    for document in drafts:
        store.delete(document.storage_name)
    return len(drafts)
