"""`bmabot poster`: a printable A4 page that tells staff how to find the bot and apply."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.catalog import Catalog
from bot.flows import menu
from bot.flows.apply_form import DOCUMENT_SLOTS, FORMS
from bot.flows.apply_summary import SUBMIT
from bot.flows.kinds import KINDS
from bot.flows.outgoing import Text
from core.requests.mobile_codes import CODE_DIGITS
from core.settings import PREFIX, Settings

# LINE's URL scheme opens the add-friend screen of an Official Account from its id, the @
# percent-encoded (https://line.me/R/ti/p/%40123abcde).
LINE_ADD_FRIEND = "https://line.me/R/ti/p/"
# A Telegram deep link opens the bot and sends "/start apply": the form begins at once
# (webhooks.telegram.updates.START_PAYLOADS).
TELEGRAM_APPLY_PAYLOAD = "apply"
LINE_GREEN, TELEGRAM_BLUE = "#06c755", "#229ed9"
FILE_STEM = "bmabot-poster"
NO_CHANNEL = (
    "bmabot poster needs the bot's address on at least one app: set "
    f"{PREFIX}LINE_BOT_BASIC_ID (the LINE Official Account's basic id, such as @123abcde: "
    "LINE Developers console, your channel, Messaging API, Bot basic ID) or "
    f"{PREFIX}TELEGRAM_BOT_USERNAME (the bot's user name from BotFather, such as "
    "bma_account_bot), or both"
)
STEPS = (
    "poster.step.scan",
    "poster.step.apply",
    "poster.step.mobile_code",
    "poster.step.photos",
    "poster.step.submit",
    "poster.step.sms",
    "poster.step.status",
)


@dataclass(frozen=True, slots=True)
class Channel:
    """One QR code on the poster: the app, what to do after scanning, and the link."""

    heading: str
    scan: str
    handle: str  # the account's name people can also search for: @123abcde, @bma_account_bot
    link: str
    colour: str


@dataclass(frozen=True, slots=True)
class KindDocuments:
    """A kind of request and the photos of documents its form asks for."""

    name: str
    who: str | None
    documents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PosterText:
    title: str
    subtitle: str
    channels: tuple[Channel, ...]
    steps_heading: str
    steps: tuple[str, ...]
    documents_heading: str
    kinds: tuple[KindDocuments, ...]
    no_documents: str
    support: str
    footer: str


def line_add_friend_link(basic_id: str) -> str:
    return LINE_ADD_FRIEND + quote(basic_id, safe="")


def telegram_apply_link(username: str) -> str:
    return f"https://t.me/{username}?start={TELEGRAM_APPLY_PAYLOAD}"


def channels(settings: Settings, catalog: Catalog) -> tuple[Channel, ...]:
    """The apps whose address is configured: LINE, Telegram, both or none."""
    found = []
    if settings.line_bot_basic_id:
        basic_id = settings.line_bot_basic_id
        found.append(
            Channel(
                catalog.text("poster.heading.line"),
                catalog.text("poster.scan.line"),
                basic_id,
                line_add_friend_link(basic_id),
                LINE_GREEN,
            )
        )
    if settings.telegram_bot_username:
        username = settings.telegram_bot_username
        found.append(
            Channel(
                catalog.text("poster.heading.telegram"),
                catalog.text("poster.scan.telegram"),
                f"@{username}",
                telegram_apply_link(username),
                TELEGRAM_BLUE,
            )
        )
    return tuple(found)


def kinds_and_documents(catalog: Catalog) -> tuple[KindDocuments, ...]:
    """Each kind of application and each other request kind, with the documents it asks."""
    applications = [
        KindDocuments(
            catalog.text(f"apply.kind.{kind}"),
            catalog.text(f"poster.who.{kind}"),
            tuple(
                catalog.text(f"poster.document.{step.value}")
                for step in form
                if step in DOCUMENT_SLOTS
            ),
        )
        for kind, form in FORMS.items()
    ]
    others = [
        KindDocuments(
            catalog.text(kind.menu.label),
            None,
            tuple(catalog.text(f"poster.document.{step}") for step in kind.documents),
        )
        for kind in KINDS
    ]
    return (*applications, *others)


def steps(settings: Settings, catalog: Catalog) -> tuple[str, ...]:
    params = {
        "apply": catalog.text(menu.APPLY.label),
        "submit": catalog.text(SUBMIT.label),
        "status": catalog.text(menu.STATUS.label),
        "digits": str(CODE_DIGITS),
        "sender": settings.sms_sender,
    }
    keys = [key for key in STEPS if settings.verify_mobile or key != "poster.step.mobile_code"]
    return tuple(catalog.text(key, params) for key in keys)


def poster_text(settings: Settings, catalog: Catalog) -> PosterText:
    support = next(message for message in menu.support() if isinstance(message, Text))
    return PosterText(
        title=catalog.text("poster.heading.title"),
        subtitle=catalog.text("poster.subtitle"),
        channels=channels(settings, catalog),
        steps_heading=catalog.text("poster.heading.steps"),
        steps=steps(settings, catalog),
        documents_heading=catalog.text("poster.heading.documents"),
        kinds=kinds_and_documents(catalog),
        no_documents=catalog.text("poster.no_documents"),
        support=catalog.text(support.key),
        footer=catalog.text("poster.footer"),
    )


def add_poster_parser(commands: Any) -> None:
    poster = commands.add_parser(
        "poster",
        help="a printable A4 poster (PDF and PNG) with the bot's QR codes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Write a Thai A4 poster for notice boards: QR codes that open the bot on LINE\n"
            f"(add friend; {PREFIX}LINE_BOT_BASIC_ID) and on Telegram (straight into the\n"
            f"form; {PREFIX}TELEGRAM_BOT_USERNAME), the steps of applying, the documents each\n"
            "kind of request needs and whom to call. Only the apps that are set get a QR code.\n"
            f"It writes {FILE_STEM}.pdf (one A4 page) and {FILE_STEM}.png (2480 x 3508\n"
            "pixels: A4 at 300 dpi)."
        ),
        epilog=(
            "examples:\n"
            "  BMABOT_LINE_BOT_BASIC_ID=@123abcde bmabot poster\n"
            "  BMABOT_TELEGRAM_BOT_USERNAME=bma_account_bot bmabot poster --out /srv/posters"
        ),
    )
    poster.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the folder to write them in, made if missing (default: this folder)",
    )


async def poster_command(settings: Settings, args: argparse.Namespace) -> int:
    catalog = Catalog.load()
    text = poster_text(settings, catalog)
    if not text.channels:
        print(NO_CHANNEL, file=sys.stderr)
        return 2
    from webhooks.admin.page_layout import thai_shaping
    from webhooks.admin.poster_drawing import write_poster  # Pillow, segno, fpdf2

    if not thai_shaping():
        print("warning: Pillow has no raqm here: Thai marks may sit badly", file=sys.stderr)
    try:
        written = await asyncio.to_thread(write_poster, text, args.out / FILE_STEM)
    except OSError as error:
        print(f"cannot write the poster in {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    except ValueError as error:  # catalog text too long for one page
        print(error, file=sys.stderr)
        return 1
    for channel in text.channels:
        print(f"QR {channel.heading}: {channel.link}")
    for path in written:
        print(f"wrote {path}")
    return 0
