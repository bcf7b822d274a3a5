"""Document photos kept encrypted on disk, and their rows in the database."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.images import CheckedImage
from core.models import Document


class Cipher(Protocol):
    """What the store needs from core.crypto.Vault."""

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes: ...

    def decrypt(self, token: bytes, *, context: str) -> bytes: ...


class InvalidDocumentNameError(ValueError):
    """A storage name that this store could not have made (e.g. a path traversal)."""


_NAME = re.compile(r"[A-Za-z0-9_-]{16,128}")


class DocumentStore:
    """Encrypted files under root/documents/<2 chars>/<name>; nothing here is ever served."""

    def __init__(self, root: Path, vault: Cipher) -> None:
        self._root = root
        self._folder = root / "documents"
        self._vault = vault

    def write(self, content: bytes) -> str:
        name = secrets.token_urlsafe(32)
        path = self._path(name)
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (self._folder, path.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
        _write_atomically(path, self._vault.encrypt(content, context=_context(name)))
        return name

    def read(self, name: str) -> bytes:
        """Raises FileNotFoundError once the document was deleted."""
        token = self._path(name).read_bytes()
        return self._vault.decrypt(token, context=_context(name))

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise InvalidDocumentNameError("not a document storage name")
        return self._folder / name[:2] / name


def _context(name: str) -> str:
    # Binds each ciphertext to its name: a file swapped for another one fails to decrypt.
    return f"document:{name}"


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mode 0o600
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def save_document(
    session: AsyncSession,
    store: DocumentStore,
    *,
    channel: str,
    user_id: str,
    slot: str,
    image: CheckedImage,
    now: datetime,
) -> int:
    """Write the checked photo encrypted and record it as a draft document of this person."""
    name = store.write(image.content)
    document = Document(
        channel=channel,
        user_id=user_id,
        slot=slot,
        storage_name=name,
        content_type=image.content_type,
        size_bytes=len(image.content),
        width=image.width,
        height=image.height,
        created_at=now,
    )
    session.add(document)
    await session.flush()
    return document.id


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
