"""A crowd of applicants, each with data of their own, filling in the staff form at once.

Each applicant is a person with a phone on the in-memory channel: they say or tap one thing,
wait for the bot's answer, read its buttons, and only then do the next thing. The bot is the
real one: webhook -> inbox -> dispatcher rounds -> outbox -> sender -> the phone.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw

from bot.handlers.rendering import Rendered
from core.delivery.inbox import NewEvent
from core.rules.organisation import Organisation, Unit
from core.rules.validation import national_id_check_digit
from tests.handlers.memory_channel import button_event, photo_event, text_event

REPLY_WAIT = 60.0  # seconds an applicant waits for an answer before saying the bot hung

# (Thai, English) first names with the Thai title that goes with them, and last names:
# 32 x 32 different full names, so that no two applicants of a thousand share one.
MEN = (
    ("สมชาย", "Somchai"),
    ("สมศักดิ์", "Somsak"),
    ("ประเสริฐ", "Prasert"),
    ("วิชัย", "Wichai"),
    ("สุรชัย", "Surachai"),
    ("ธนากร", "Thanakorn"),
    ("อนุชา", "Anucha"),
    ("กิตติ", "Kitti"),
    ("ณัฐพล", "Nattaphon"),
    ("ชัยวัฒน์", "Chaiwat"),
    ("พงศกร", "Phongsakorn"),
    ("วีระ", "Weera"),
    ("ศุภชัย", "Supachai"),
    ("อภิชาติ", "Aphichat"),
    ("เอกชัย", "Ekkachai"),
    ("ปิยะ", "Piya"),
)
WOMEN = (
    ("มาลี", "Malee"),
    ("สมหญิง", "Somying"),
    ("กานดา", "Kanda"),
    ("วันเพ็ญ", "Wanphen"),
    ("ศิริพร", "Siriporn"),
    ("สุดารัตน์", "Sudarat"),
    ("นภา", "Napha"),
    ("จันทร์เพ็ญ", "Chanphen"),
    ("พรทิพย์", "Pornthip"),
    ("อรุณี", "Arunee"),
    ("รัตนา", "Rattana"),
    ("ปราณี", "Pranee"),
    ("วิไล", "Wilai"),
    ("ดวงใจ", "Duangjai"),
    ("ลัดดา", "Ladda"),
    ("อัมพร", "Amphon"),
)
FIRST_NAMES = (
    *(("นาย", "Mr.", th, en) for th, en in MEN),
    *(("นางสาว", "Miss", th, en) for th, en in WOMEN),
)
LAST_NAMES = (
    ("ใจดี", "Jaidee"),
    ("รักงาน", "Rakngan"),
    ("ศรีสุข", "Srisuk"),
    ("บุญมา", "Boonma"),
    ("แก้วมณี", "Kaewmanee"),
    ("ทองดี", "Thongdee"),
    ("สุขสวัสดิ์", "Suksawat"),
    ("วงศ์ใหญ่", "Wongyai"),
    ("มั่นคง", "Mankhong"),
    ("พึ่งบุญ", "Phuengboon"),
    ("เพชรรัตน์", "Phetcharat"),
    ("จันทร์หอม", "Chanhom"),
    ("ศรีวงศ์", "Sriwong"),
    ("ทองคำ", "Thongkham"),
    ("บุญเรือง", "Boonruang"),
    ("แสงทอง", "Saengthong"),
    ("ปัญญาดี", "Panyadee"),
    ("สายสุวรรณ", "Saisuwan"),
    ("ชัยมงคล", "Chaimongkhon"),
    ("กิจเจริญ", "Kitcharoen"),
    ("ธรรมรักษ์", "Thammarak"),
    ("อินทร์แก้ว", "Inkaew"),
    ("พรหมมา", "Phromma"),
    ("สมบูรณ์", "Somboon"),
    ("เรืองศรี", "Ruangsri"),
    ("นาคสุข", "Naksuk"),
    ("วิเศษสุข", "Wisetsuk"),
    ("ประเสริฐสุข", "Prasertsuk"),
    ("มีสุข", "Meesuk"),
    ("ศักดิ์ดี", "Sakdee"),
    ("ทองแท้", "Thongthae"),
    ("บุญยืน", "Boonyuen"),
)
POSITIONS = (
    "นักวิชาการคอมพิวเตอร์ปฏิบัติการ",
    "นักจัดการงานทั่วไปชำนาญการ",
    "เจ้าพนักงานธุรการปฏิบัติงาน",
    "นักวิเคราะห์นโยบายและแผนปฏิบัติการ",
    "เจ้าพนักงานการเงินและบัญชีชำนาญงาน",
    "นิติกรชำนาญการ",
    "ครู คศ.2",
)


@dataclass(frozen=True)
class Person:
    """What one applicant answers: no two people of a crowd share a name, ID or photo."""

    number: int
    user_id: str
    district: Unit
    section: Unit
    unit_note: str | None  # None: they tap "skip"
    position: str
    title_th: str
    first_name_th: str
    last_name_th: str
    title_en: str
    first_name_en: str
    last_name_en: str
    national_id: str
    typed_national_id: str  # as they type it: with spaces, or not
    mobile: str  # as they type it: 089-123-4567
    email: str
    photo: bytes  # their ID card, as their phone sends it

    @property
    def name_th(self) -> str:
        return f"{self.title_th}{self.first_name_th} {self.last_name_th}"

    @property
    def name_en(self) -> str:
        return f"{self.title_en} {self.first_name_en} {self.last_name_en}"

    @property
    def form(self) -> dict[str, Any]:
        """The request as it must be stored: their answers, clean."""
        return {
            "kind": "staff",
            "unit": [self.district.id, self.section.id],
            "unit_note": self.unit_note,
            "position": self.position,
            "title_th": self.title_th,
            "first_name_th": self.first_name_th,
            "last_name_th": self.last_name_th,
            "title_en": self.title_en,
            "first_name_en": self.first_name_en,
            "last_name_en": self.last_name_en,
            "nationality": "ไทย",
            "mobile": "+66" + self.mobile.replace("-", "")[1:],
            "email": self.email,
        }


def crowd(org: Organisation, size: int) -> list[Person]:
    """size people, each in a district office's section (50 districts x 10 sections)."""
    districts = [unit for unit in org.children(None) if unit.kind == "district_office"]
    if size > len(FIRST_NAMES) * len(LAST_NAMES):
        raise ValueError(f"no more than {len(FIRST_NAMES) * len(LAST_NAMES)} distinct names")
    return [_person(org, districts, number) for number in range(size)]


def _person(org: Organisation, districts: list[Unit], number: int) -> Person:
    title_th, title_en, first_th, first_en = FIRST_NAMES[number % len(FIRST_NAMES)]
    last_th, last_en = LAST_NAMES[number // len(FIRST_NAMES) % len(LAST_NAMES)]
    district = districts[number % len(districts)]
    sections = org.children(district.id)
    first12 = f"3{10370 + number % 7:05d}{number:06d}"
    national_id = first12 + national_id_check_digit(first12)
    spaced = " ".join((national_id[0], national_id[1:5], national_id[5:10], national_id[10:12]))
    return Person(
        number=number,
        user_id=f"U{number:032x}",
        district=district,
        section=sections[number // len(districts) % len(sections)],
        unit_note=f"งานบริการประชาชน ชุดที่ {number}" if number % 2 == 0 else None,
        position=POSITIONS[number % len(POSITIONS)],
        title_th=title_th,
        first_name_th=first_th,
        last_name_th=last_th,
        title_en=title_en,
        first_name_en=first_en,
        last_name_en=last_en,
        national_id=national_id,
        typed_national_id=f"{spaced} {national_id[12]}" if number % 3 == 0 else national_id,
        mobile=f"089-{number // 10_000:03d}-{number % 10_000:04d}",
        email=f"{first_en}.{last_en[0]}{number}@gmail.com".lower(),
        photo=id_card_photo(number),
    )


def id_card_photo(number: int) -> bytes:
    """A small card-shaped JPEG whose stripes spell the applicant's number in binary."""
    image = Image.new("RGB", (320, 200), (235, 240, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 311, 191), outline=(20, 60, 140), width=4)
    for bit in range(10):
        fill = (20, 20, 20) if number >> bit & 1 else (250, 250, 250)
        draw.rectangle((16 + bit * 29, 60, 40 + bit * 29, 140), fill=fill)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@dataclass(frozen=True)
class Move:
    action: str  # say | tap | photo
    value: str  # what they type, or the label of the button they tap
    then: str  # the key of the bot's last message afterwards: the next question


def staff_form(person: Person) -> list[Move]:
    """The whole staff application, from "สมัคร" to the tap that files it."""
    unit_note = (
        Move("say", person.unit_note, "apply.ask_position")
        if person.unit_note
        else Move("tap", "ไม่มี/ข้าม", "apply.ask_position")
    )
    return [
        Move("say", "สมัคร", "apply.pdpa"),
        Move("tap", "ยอมรับและเริ่มกรอก", "apply.ask_kind"),
        Move("tap", "บุคลากรประจำ กทม.", "apply.ask_unit"),
        Move("say", person.district.name_th, "apply.ask_subunit"),  # one exact match
        Move("tap", person.section.name_th, "apply.ask_unit_note"),
        unit_note,
        Move("say", person.position, "apply.ask_title_th"),
        Move("tap", person.title_th, "apply.ask_name_th"),  # นาย, นางสาว: English title too
        Move("say", f"{person.first_name_th} {person.last_name_th}", "apply.ask_name_en"),
        Move("say", f"{person.first_name_en} {person.last_name_en}", "apply.ask_national_id"),
        Move("say", person.typed_national_id, "apply.ask_mobile"),  # staff: Thai nationals
        Move("say", person.mobile, "apply.ask_email"),
        Move("say", person.email, "apply.ask_doc_id_card"),
        Move("photo", "", "apply.summary_title"),
        Move("tap", "ถูกต้อง ส่งคำขอ", "apply.submitted"),
    ]


Webhook = Callable[[NewEvent], Awaitable[None]]  # the platform posting one event


@dataclass
class Waiting:
    """How many applicants wait for an answer now, and the most that ever did at once."""

    now: int = 0
    most: int = 0

    def asked(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def answered(self) -> None:
        self.now -= 1


@dataclass
class Applicant:
    """A person with a phone: does one thing, waits for the answer, reads it, goes on."""

    person: Person
    moves: list[Move]
    waiting: Waiting
    answers: asyncio.Queue[list[Rendered]] = field(default_factory=asyncio.Queue)
    seen: list[list[Rendered]] = field(default_factory=list)  # each answer, in order

    @property
    def user_id(self) -> str:
        return self.person.user_id

    async def fill_in(self, webhook: Webhook, photos: Callable[[str, bytes], object]) -> None:
        for number, move in enumerate(self.moves):
            key = f"{self.user_id}-{number}"
            if move.action == "say":
                event = text_event(key, self.user_id, move.value)
            elif move.action == "tap":
                event = button_event(key, self.user_id, self._button(move.value))
            else:
                ref = f"{self.user_id}-photo-{number}"
                photos(ref, self.person.photo)
                event = photo_event(key, self.user_id, ref)
            self.waiting.asked()
            await webhook(event)
            answer = await self._answer(move)
            self.waiting.answered()
            self.seen.append(answer)
            assert answer[-1].key == move.then, (
                f"applicant {self.person.number} after {move.action} {move.value!r}: "
                f"{[reply.key for reply in answer]}"
            )

    def answer_to(self, then: str) -> list[Rendered]:
        """The first answer that ends with this message."""
        for answer in self.seen:
            if answer[-1].key == then:
                return answer
        raise AssertionError(f"applicant {self.person.number} was never shown {then}")

    def _button(self, label: str) -> str:
        buttons = [button for reply in self.seen[-1] for button in reply.buttons]
        for button in buttons:
            if button.label == label:
                return button.data
        shown = [button.label for button in buttons]
        raise AssertionError(f"applicant {self.person.number}: no button {label!r} in {shown}")

    async def _answer(self, move: Move) -> list[Rendered]:
        try:
            async with asyncio.timeout(REPLY_WAIT):
                return await self.answers.get()
        except TimeoutError:
            raise AssertionError(
                f"applicant {self.person.number}: no answer to {move.action} {move.value!r} "
                f"within {REPLY_WAIT:.0f} s"
            ) from None
