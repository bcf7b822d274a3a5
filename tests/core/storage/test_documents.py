"""Document photos: what check_image accepts or refuses, and how DocumentStore keeps them."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import random
import shutil
import stat
import struct
import time
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.storage.crypto import Vault, VaultError
from core.storage.documents import (
    DocumentStore,
    InvalidDocumentNameError,
    NewDocument,
    delete_draft_documents,
    save_documents,
    settle_files,
)
from core.storage.images import MAX_UPLOAD_BYTES, CheckedImage, ImageRefused, check_image

RED = (220, 20, 20)


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **params)
    return buffer.getvalue()


def noise(size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3))


def photo(size: tuple[int, int] = (400, 300)) -> bytes:
    return encode(noise(size), "JPEG", quality=90)


def phone_photo() -> bytes:
    """Stored sideways (landscape sensor), red along the left edge = the top of the document."""
    image = Image.new("RGB", (400, 300), "white")
    image.paste(RED, (0, 0, 100, 300))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # view rotated 90° clockwise
    exif[ExifTags.Base.Make] = "SAMSUNG"
    exif[ExifTags.Base.Model] = "SM-A546E"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (13.0, 45.0, 7.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (100.0, 29.0, 42.0),
    }
    return encode(image, "JPEG", exif=exif, comment=b"Sao Chingcha, Phra Nakhon")


def png_declaring(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: huge on screen, a few KB on the wire."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the packed pixels
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def webp_declaring(width: int, height: int) -> bytes:
    """An extended-WebP header (VP8X) announcing a canvas, with no picture behind it."""
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes(4) + size
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def checked(raw: bytes) -> CheckedImage:
    result = check_image(raw)
    assert isinstance(result, CheckedImage), result
    return result


def opened(result: CheckedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    image.load()
    return image


# --- accepted photos -------------------------------------------------------------------------


def test_accepts_a_jpeg_and_returns_a_fresh_jpeg() -> None:
    result = checked(photo((400, 300)))

    assert result.content_type == "image/jpeg"
    assert (result.width, result.height) == (400, 300)
    assert opened(result).format == "JPEG"


def test_strips_exif_gps_and_comment_from_a_phone_photo() -> None:
    raw = phone_photo()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # sanity

    result = checked(raw)

    image = opened(result)
    assert not image.getexif()
    assert "exif" not in image.info
    assert "comment" not in image.info
    for trace in (b"Exif\x00\x00", b"SAMSUNG", b"SM-A546E", b"Chingcha"):
        assert trace not in result.content


def test_turns_a_sideways_phone_photo_upright() -> None:
    result = checked(phone_photo())

    image = opened(result).convert("RGB")
    assert (result.width, result.height) == (300, 400) == image.size
    top, bottom = image.getpixel((150, 20)), image.getpixel((150, 380))
    assert isinstance(top, tuple)
    assert top[0] > 180 > top[1]  # red band on top
    assert bottom == pytest.approx((255, 255, 255), abs=8)


def test_flattens_a_transparent_png_onto_white() -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (100, 100, 200, 200))  # black text on a transparent page

    result = checked(encode(image, "PNG"))

    flattened = opened(result)
    assert flattened.mode == "RGB"
    assert flattened.getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=8)
    assert flattened.getpixel((150, 150)) == pytest.approx((0, 0, 0), abs=8)


def test_accepts_a_webp_and_returns_a_jpeg() -> None:
    result = checked(encode(noise((320, 240)), "WEBP"))

    assert opened(result).format == "JPEG"
    assert (result.width, result.height) == (320, 240)


def test_keeps_the_grey_level_of_a_16_bit_scan() -> None:
    scan = Image.new("I;16", (300, 300), 40000)  # 40000 / 65535 ≈ 156 / 255

    result = checked(encode(scan, "PNG"))

    assert opened(result).getpixel((5, 5)) == pytest.approx((156, 156, 156), abs=2)


def test_accepts_an_upload_of_exactly_10_mb() -> None:
    raw = photo()
    padded = raw + bytes(MAX_UPLOAD_BYTES - len(raw))  # decoders ignore bytes after the image

    assert isinstance(check_image(padded), CheckedImage)


# --- refused uploads -------------------------------------------------------------------------


# A PDF renamed .jpg, a PNG bomb, a 30 MB JPEG, HTML, an SVG with a script and zero bytes are
# sent on every channel in tests/webhooks/test_upload_attacks.py.


def test_encodes_the_same_photo_where_the_system_has_no_in_memory_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Linux encodes into a memfd, which lets other threads run meanwhile (issue 13);
    elsewhere the same bytes come from a Python buffer."""
    raw = phone_photo()
    in_a_memfd = check_image(raw)

    def no_memfd(name: str, flags: int = 0) -> int:
        raise OSError(errno.ENOSYS, "memfd_create")

    monkeypatch.setattr(os, "memfd_create", no_memfd, raising=False)

    assert check_image(raw) == in_a_memfd


def test_checking_photos_leaves_no_file_open() -> None:
    before = sorted(os.listdir("/proc/self/fd"))

    for _ in range(5):
        check_image(photo())

    assert sorted(os.listdir("/proc/self/fd")) == before


def test_refuses_random_bytes_as_not_an_image() -> None:
    raw = b"\x00" + random.Random(1).randbytes(5000)

    assert check_image(raw) == ImageRefused("not_image")


def test_refuses_a_valid_photo_padded_past_10_mb() -> None:
    raw = photo()
    padded = raw + bytes(11 * 1024 * 1024 - len(raw))

    assert check_image(padded) == ImageRefused("too_large")


def test_refuses_more_than_10_mb_before_decoding() -> None:
    # Decoding this would say "corrupt": only a size cap checked first says "too_large".
    raw = b"\xff\xd8\xff\xe0" + random.Random(2).randbytes(11 * 1024 * 1024)

    assert check_image(raw) == ImageRefused("too_large")


def test_refuses_a_decompression_bomb_without_letting_a_warning_escape() -> None:
    bomb = png_declaring(20_000, 20_000)  # 400 megapixels
    assert len(bomb) < 100_000

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = check_image(bomb)

    assert result == ImageRefused("too_many_pixels")
    assert caught == []


def test_refuses_an_image_over_40_megapixels() -> None:
    assert check_image(png_declaring(8_000, 6_250)) == ImageRefused("too_many_pixels")


def test_refuses_an_image_pillow_only_warns_about() -> None:
    # 100 MP is between Pillow's warning (89 MP) and error (179 MP) limits; pytest turns
    # the warning into an exception, which must still come out as a refusal.
    assert check_image(png_declaring(10_000, 10_000)) == ImageRefused("too_many_pixels")


def test_refuses_a_webp_bomb_before_the_decoder_allocates_its_canvas() -> None:
    assert check_image(webp_declaring(8_000, 6_000)) == ImageRefused("too_many_pixels")


def test_refuses_a_truncated_jpeg_as_corrupt() -> None:
    raw = photo((600, 400))

    assert check_image(raw[: len(raw) // 2]) == ImageRefused("corrupt")


def test_refuses_a_png_with_a_broken_checksum_as_corrupt() -> None:
    raw = bytearray(encode(noise((300, 300)), "PNG"))
    raw[-20] ^= 0xFF  # inside the last IDAT chunk

    assert check_image(bytes(raw)) == ImageRefused("corrupt")


def test_refuses_jpeg_magic_followed_by_junk_as_corrupt() -> None:
    raw = b"\xff\xd8\xff\xe0" + random.Random(3).randbytes(4000)

    assert check_image(raw) == ImageRefused("corrupt")


@pytest.mark.parametrize("size", [(100, 100), (1000, 150)])
def test_refuses_an_image_too_small_to_read(size: tuple[int, int]) -> None:
    assert check_image(photo(size)) == ImageRefused("too_small")


def test_refuses_a_gif_as_unsupported() -> None:
    assert check_image(encode(noise((300, 300)), "GIF")) == ImageRefused("unsupported")


def test_refuses_a_tiff_as_unsupported() -> None:
    assert check_image(encode(noise((300, 300)), "TIFF")) == ImageRefused("unsupported")


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"mif1", b"avif"])
def test_refuses_an_iphone_heic_photo_as_unsupported(brand: bytes) -> None:
    raw = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + bytes(2000)

    assert check_image(raw) == ImageRefused("unsupported")


# --- the store -------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "data", Vault("test-secret-key-that-is-long-enough-0123"))


def stored_file(tmp_path: Path, name: str) -> Path:
    return tmp_path / "data" / "documents" / name[:2] / name


def test_reads_back_what_it_wrote(store: DocumentStore) -> None:
    content = photo()

    assert store.read(store.write(content)) == content


def test_gives_every_document_a_new_random_name(store: DocumentStore) -> None:
    first, second = store.write(b"same"), store.write(b"same")

    assert first != second
    assert len(first) >= 40


def test_keeps_only_ciphertext_on_disk(store: DocumentStore, tmp_path: Path) -> None:
    content = photo()

    on_disk = stored_file(tmp_path, store.write(content)).read_bytes()

    assert not on_disk.startswith(b"\xff\xd8\xff")  # not the JPEG itself
    assert content[1000:1064] not in on_disk


def test_a_staged_photo_is_written_encrypted_and_becomes_a_document_when_kept(
    store: DocumentStore, tmp_path: Path
) -> None:
    image = checked(photo())

    staged = store.stage(image)
    on_disk = staged.temporary.read_bytes()
    name = store.keep(staged)

    assert not on_disk.startswith(b"\xff\xd8\xff")  # not the JPEG itself
    assert image.content[1000:1064] not in on_disk
    assert stored_file(tmp_path, name).read_bytes() == on_disk  # kept: a rename
    assert store.read(name) == image.content
    assert not staged.temporary.exists()
    assert store.keep(staged) == name  # a second try of the same turn changes nothing


async def test_a_staged_photo_not_kept_is_discarded_and_crash_leftovers_are_removed_when_old(
    store: DocumentStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    discarded, fresh, left_by_a_crash = (store.stage(checked(photo())) for _ in range(3))
    an_hour_ago = time.time() - 3601
    os.utime(left_by_a_crash.temporary, (an_hour_ago, an_hour_ago))

    store.discard(discarded)
    removed = await settle_files(sessions, store)

    assert removed == 1
    assert not discarded.temporary.exists()
    assert not left_by_a_crash.temporary.exists()
    assert fresh.temporary.exists()  # a live server's: still on its way into a turn


@pytest.fixture
def folders_synced(monkeypatch: pytest.MonkeyPatch) -> dict[Path, set[str]]:
    """Each folder fsync'd, with the names in it at that moment (the OS's call, recorded)."""
    synced: dict[Path, set[str]] = {}
    fsync = os.fsync

    def recording(descriptor: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{descriptor}"))
        if path.is_dir():
            synced[path] = set(os.listdir(path))
        fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording)
    return synced


def test_a_staged_photo_and_the_folders_made_for_it_are_on_disk_when_staging_returns(
    store: DocumentStore, tmp_path: Path, folders_synced: dict[Path, set[str]]
) -> None:
    """A name is on disk for good only once its folder is synced: staging does it, before
    any transaction can commit a row that names the photo."""
    staged = [store.stage(checked(photo())) for _ in range(3)]

    for each in staged:
        folder = each.temporary.parent
        assert each.temporary.name in folders_synced[folder]
        assert folder.name in folders_synced[tmp_path / "data" / "documents"]


async def test_keeping_photos_waits_for_no_disk_while_their_rows_are_written(
    store: DocumentStore,
    folders_synced: dict[Path, set[str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite the transaction holds the one write lock the webhooks' events wait for:
    64 folders synced in it held them 0.2-0.3 s (issue 13)."""
    staged = [store.stage(checked(photo())) for _ in range(2)]
    documents = [NewDocument("line", f"U{n}", "id_card", each) for n, each in enumerate(staged)]
    folders_synced.clear()

    async with sessions.begin() as session:
        saved = await save_documents(session, store, documents, ManualClock().now())

    assert sorted(saved) == sorted(each.name for each in staged)
    assert folders_synced == {}


async def test_a_kept_photo_whose_rename_a_power_cut_undid_is_its_document_again_at_start_up(
    store: DocumentStore, tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    kept, of_a_deleted_draft = store.stage(checked(photo())), store.stage(checked(photo()))
    documents = [
        NewDocument("line", "U1", "id_card", kept),
        NewDocument("line", "U2", "id_card", of_a_deleted_draft),
    ]
    now = ManualClock().now()
    async with sessions.begin() as session:
        await save_documents(session, store, documents, now)
        await delete_draft_documents(session, store, channel="line", user_id="U2", now=now)
    # The renames, never synced, undone by a power cut:
    os.replace(stored_file(tmp_path, kept.name), kept.temporary)
    of_a_deleted_draft.temporary.write_bytes(b"the deleted draft's photo, encrypted")

    removed = await settle_files(sessions, store)

    assert store.read(kept.name).startswith(b"\xff\xd8")
    assert not kept.temporary.exists()
    assert removed == 1  # the deleted draft's photo, however young
    assert not of_a_deleted_draft.temporary.exists()
    assert not stored_file(tmp_path, of_a_deleted_draft.name).exists()


async def test_a_photo_no_row_names_is_removed_at_start_up_once_an_hour_old(
    store: DocumentStore, tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A round that kept photos and then failed leaves them under their names with no row:
    never a file that no row names (PDPA), but a live server's turn may be keeping one."""
    filed, failed, keeping = (store.stage(checked(photo())) for _ in range(3))
    now = ManualClock().now()
    async with sessions.begin() as session:
        await save_documents(session, store, [NewDocument("line", "U1", "id_card", filed)], now)
    with contextlib.suppress(RuntimeError):
        async with sessions.begin() as session:
            await save_documents(
                session, store, [NewDocument("line", "U2", "id_card", failed)], now
            )
            raise RuntimeError("the round failed after keeping its photos")
    store.keep(keeping)  # its transaction still under way
    an_hour_ago = time.time() - 3601
    os.utime(stored_file(tmp_path, failed.name), (an_hour_ago, an_hour_ago))

    removed = await settle_files(sessions, store)

    assert removed == 1
    assert not stored_file(tmp_path, failed.name).exists()
    assert store.read(filed.name).startswith(b"\xff\xd8")
    assert store.read(keeping.name).startswith(b"\xff\xd8")


def test_staging_makes_the_folders_again_when_they_were_removed(
    store: DocumentStore, tmp_path: Path
) -> None:
    store.keep(store.stage(checked(photo())))
    shutil.rmtree(tmp_path / "data")

    name = store.keep(store.stage(checked(photo())))

    assert store.read(name).startswith(b"\xff\xd8")


def test_files_and_folders_are_private_to_the_bot(store: DocumentStore, tmp_path: Path) -> None:
    path = stored_file(tmp_path, store.write(b"memo"))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, tmp_path / "data"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_leaves_no_temporary_files(store: DocumentStore, tmp_path: Path) -> None:
    path = stored_file(tmp_path, store.write(b"memo"))

    assert list(path.parent.iterdir()) == [path]


def test_a_file_moved_under_another_name_does_not_decrypt(
    store: DocumentStore, tmp_path: Path
) -> None:
    mine, theirs = store.write(b"my ID card"), store.write(b"their ID card")
    stored_file(tmp_path, theirs).write_bytes(stored_file(tmp_path, mine).read_bytes())

    with pytest.raises(VaultError):
        store.read(theirs)


def test_deletes_a_document(store: DocumentStore, tmp_path: Path) -> None:
    name = store.write(b"memo")

    store.delete(name)

    assert not stored_file(tmp_path, name).exists()
    with pytest.raises(FileNotFoundError):
        store.read(name)


def test_deleting_a_missing_document_is_fine(store: DocumentStore) -> None:
    name = store.write(b"memo")
    store.delete(name)

    store.delete(name)


@pytest.mark.parametrize(
    "name",
    [
        "../../../etc/passwd",
        "..",
        "../documents/ab/abcdefghijklmnopqrstuv",
        "ab/abcdefghijklmnopqrstuvwxyz",
        "/etc/shadow",
        "abcdefghijklmnop.jpg",
        "abcdefghijklmnop\x00",
        "",
    ],
)
def test_refuses_names_it_could_not_have_made(store: DocumentStore, name: str) -> None:
    with pytest.raises(InvalidDocumentNameError):
        store.read(name)
    with pytest.raises(InvalidDocumentNameError):
        store.delete(name)
