"""Checking an uploaded photo: a real image of sane size, re-encoded without metadata."""

from __future__ import annotations

import io
import os
import re
import struct
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 200
JPEG_QUALITY = 85

# too_large: over MAX_UPLOAD_BYTES; pdf: a PDF, ask for a photo instead; not_image: not a
# picture at all; unsupported: a picture format we do not take (GIF, TIFF, HEIC/HEIF, AVIF);
# too_many_pixels: over MAX_PIXELS (decompression bomb); too_small: shorter side under
# MIN_SIDE, unreadable; corrupt: claims to be JPEG/PNG/WebP but does not decode.
RefusalReason = Literal[
    "too_large", "pdf", "not_image", "unsupported", "too_many_pixels", "too_small", "corrupt"
]

# Identified by magic bytes only: a file's name and Content-Type are whatever the sender says.
_ACCEPTED: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"\xff\xd8\xff"), "JPEG"),
    (re.compile(rb"\x89PNG\r\n\x1a\n"), "PNG"),
    (re.compile(rb"RIFF.{4}WEBP", re.DOTALL), "WEBP"),
)
_REFUSED: tuple[tuple[re.Pattern[bytes], RefusalReason], ...] = (
    (re.compile(rb"%PDF-"), "pdf"),
    (re.compile(rb"GIF8[79]a"), "unsupported"),
    (re.compile(rb"II\*\x00|MM\x00\*"), "unsupported"),  # TIFF
    # HEIC/HEIF/AVIF (iPhone "High Efficiency"): ISO media box with an image brand.
    (re.compile(rb".{4}ftyp(?:hei[cxms]|hev[cxms]|mif1|msf1|avi[fs])", re.DOTALL), "unsupported"),
)
# Whatever a parser throws on hostile bytes means the same thing to the sender: unreadable.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)
_TRANSPARENT_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True, slots=True)
class CheckedImage:
    content: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ImageRefused:
    reason: RefusalReason


def check_image(raw: bytes) -> CheckedImage | ImageRefused:
    """Accept a JPEG, PNG or WebP photo and re-encode it as an upright JPEG without metadata."""
    if len(raw) > MAX_UPLOAD_BYTES:
        return ImageRefused("too_large")
    image_format = _identify(raw)
    if isinstance(image_format, ImageRefused):
        return image_format
    try:
        return _clean(raw, image_format)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return ImageRefused("too_many_pixels")
    except _DECODE_ERRORS:
        return ImageRefused("corrupt")


def _identify(raw: bytes) -> str | ImageRefused:
    for pattern, image_format in _ACCEPTED:
        if pattern.match(raw):
            return image_format
    for pattern, reason in _REFUSED:
        if pattern.match(raw):
            return ImageRefused(reason)
    return ImageRefused("not_image")


def _clean(raw: bytes, image_format: str) -> CheckedImage | ImageRefused:
    if image_format == "WEBP":
        # The WebP decoder allocates its whole canvas inside Image.open(): check first.
        refused = _refuse_size(_webp_canvas_size(raw))
        if refused is not None:
            return refused
    with Image.open(io.BytesIO(raw), formats=[image_format]) as image:
        refused = _refuse_size(image.size)  # before anything decodes the pixels
        if refused is not None:
            return refused
        image.verify()
    # verify() leaves the image unusable: decode from a fresh parse. Turned upright and
    # converted in place where nothing changes: each full-resolution copy cost as much as the
    # decoding (issue 13's profile: 3.7 % of the server's samples under load were copies).
    with Image.open(io.BytesIO(raw), formats=[image_format]) as image:
        ImageOps.exif_transpose(image, in_place=True)
        return _encode_jpeg(_to_rgb(image))


def _refuse_size(size: tuple[int, int] | None) -> ImageRefused | None:
    if size is None:
        return ImageRefused("corrupt")
    width, height = size
    if width * height > MAX_PIXELS:
        return ImageRefused("too_many_pixels")
    if min(width, height) < MIN_SIDE:
        return ImageRefused("too_small")
    return None


def _webp_canvas_size(raw: bytes) -> tuple[int, int] | None:
    chunk, header = raw[12:16], raw[:30]
    if chunk == b"VP8 " and len(header) == 30 and header[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", header, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(header) >= 25 and header[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", header, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(header) == 30:
        width = int.from_bytes(header[24:27], "little") + 1
        return width, int.from_bytes(header[27:30], "little") + 1
    return None


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in _TRANSPARENT_MODES or "transparency" in image.info:
        # Black text on a transparent screenshot must not turn into black on black.
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode.startswith("I"):
        # 16-bit grey scans: convert() would clip everything above 255 to white.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode_jpeg(image: Image.Image) -> CheckedImage:
    # JPEG save copies info["comment"] from the source: nothing of the upload may ride along.
    image.info.clear()
    return CheckedImage(_jpeg_bytes(image), "image/jpeg", image.width, image.height)


def _jpeg_bytes(image: Image.Image) -> bytes:
    """The image as JPEG, encoded into an in-memory file (Linux memfd) where there is one.

    Pillow holds the interpreter lock while it encodes into a Python buffer (BytesIO) and
    releases it while it writes to a file descriptor: 1.2 ms a bench photo during which the
    event loop could not answer a webhook (issue 13: at the form's photo step the acks took
    200-700 ms). No optimize=True: its second Huffman pass tripled the encoding time for 3 %
    fewer bytes.
    """
    try:
        descriptor = os.memfd_create("bmabot-photo", os.MFD_CLOEXEC)
    except (AttributeError, OSError):  # not Linux: the same bytes, the lock held meanwhile
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
        return buffer.getvalue()
    with open(descriptor, "w+b") as file:
        image.save(file, format="JPEG", quality=JPEG_QUALITY)
        file.seek(0)
        return file.read()
