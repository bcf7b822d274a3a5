"""Questions typed in free text: a small table of topics, matched by phrase or near phrase."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from bot.flows.incoming import Incoming, Kind
from bot.flows.menu import main_choices
from bot.flows.outgoing import Choice, Message, Text
from bot.flows.reading import PARTICLES, clean
from core.rules.validation import eng_to_thai

# Spaces, dashes, dots and question marks carry no meaning here: "e-GP" = "egp", "พ.ร.บ." = "พรบ".
NOISE = re.compile(r"[\s\-_.?!,~\"'()/:;]+")
# A typo is forgiven in phrases long enough that one wrong letter still leaves them unique.
FUZZY_MIN_LENGTH = 10
FUZZY_SCORE = 88.0  # one wrong letter in ten is 90; "นานเท่าไหร่" is not "วันนี้เท่าไหร่"
ALSO = "+"  # in a phrase: the parts in this order, other words between them allowed
# Unsure: no topic for sure, but a phrase this close to part of the text is offered.
NEAR_MIN_LENGTH = 5
NEAR_SCORE = 70.0
PRESS = "faq:"  # a topic's button data: faq:<name>
_LATIN_ONLY = re.compile(r"[A-Za-z;:'\",.<>/?\[\]{}\\|`~!@#$%^&*()\-_=+ ]{3,}")


DATABASE = "0 2203 2751"  # the Database Section: accounts, passwords, e-mail, Wi-Fi
PROGRAMS = "0 2203 2754"  # the Program System Section: e-GP and Web Portal rights


@dataclass(frozen=True, slots=True)
class Topic:
    answer: str  # the message key; its button label is faq.label.<name>
    phrases: tuple[str, ...]
    contact: str = DATABASE  # the line its answer gives

    @property
    def name(self) -> str:
        return self.answer.removeprefix("faq.")


TOPICS = (
    Topic(
        "faq.uses",
        (
            "ใช้ทำอะไร",
            "ใช้อะไรได้",
            "ใช้กับอะไร",
            "ใช้ได้กับ",
            "เอาไปใช้",
            "ไว้ใช้",
            "wifi",
            "ไวไฟ",
            "bmaap",
            "อินเทอร์เน็ต",
            "อินเตอร์เน็ต",
            "ใช้เน็ต",
            "เล่นเน็ต",
            "เครือข่าย",
        ),
    ),
    Topic(
        "faq.documents",
        (
            "เอกสาร",
            "ต้องเตรียม",
            "หลักฐาน",
            "สำเนา",
            "หนังสือรับรอง",
            "บันทึกข้อความ",
            "ใช้บัตรประชาชน",
            "ถ่ายรูปบัตร",
        ),
    ),
    Topic(
        "faq.review_time",
        (
            "กี่วัน",
            "นานไหม",
            "นานมั้ย",
            "นานแค่ไหน",
            "นานเท่าไร",
            "นานเท่าไหร่",
            "ใช้เวลา",
            "เมื่อไหร่จะได้",
            "เมื่อไรจะได้",
            "จะได้เมื่อไหร่",
            "จะได้เมื่อไร",
            "รอนาน",
            "อนุมัติเมื่อไหร่",
            "ยังไม่ได้บัญชี",
        ),
    ),
    Topic(
        "faq.sms",
        (
            "sms",
            "เอสเอ็มเอส",
            "bmamail",
            "แจ้งทางไหน",
            "ได้รับทางไหน",
            "ส่งมาทางไหน",
            "รู้ได้ยังไง",
            "รู้ได้อย่างไร",
            "รหัสผ่านจะส่ง",
            "รับรหัสผ่าน",
            "ได้รับรหัส",
            "รหัสผ่านชั่วคราว",
        ),
    ),
    Topic(
        "faq.rules",
        (
            "กฎ",
            "ระเบียบ",
            "ข้อปฏิบัติ",
            "ข้อห้าม",
            "พรบ",
            "กฎหมาย",
            "ความผิดเกี่ยวกับคอมพิวเตอร์",
            "ระงับบัญชี",
            "โดนระงับ",
            "ถูกระงับ",
            "ให้คนอื่นใช้",
            "ให้เพื่อนใช้",
            "ยืมบัญชี",
            "บอกรหัส",
            "แชร์รหัส",
        ),
    ),
    Topic(
        "faq.forgot_password",
        (
            "ลืมรหัส",
            "ลืมพาส",
            "ลืมpassword",
            "รีเซ็ต",
            "รีเซต",
            "reset",
            "เปลี่ยนรหัส",
            "รหัสผ่านหาย",
            "รหัสผ่านผิด",
            "รหัสไม่ถูก",
            "เข้าระบบไม่ได้",
            "ล็อกอินไม่ได้",
            "ล็อคอินไม่ได้",
            "loginไม่ได้",
            "รหัสหมดอายุ",
        ),
    ),
    Topic(
        "faq.rights",
        (
            "egp",
            "อีจีพี",
            "จัดซื้อจัดจ้าง",
            "webportal",
            "เว็บพอร์ทัล",
            "เว็บพอทัล",
            "พอร์ทัล",
            "portal",
            "ขอสิทธิ",
            "สิทธิ์",
        ),
        PROGRAMS,
    ),
    Topic(
        "faq.email_access",
        (
            *("เข้าเมลไม่ได้", "เข้าเมล์ไม่ได้", "เข้าอีเมลไม่ได้", "เข้าอีเมล์ไม่ได้"),
            *("เปิดเมลไม่ได้", "เปิดอีเมลไม่ได้", "เมลใช้ไม่ได้", "อีเมลใช้ไม่ได้"),
            *("ส่งเมลไม่ได้", "ส่งอีเมลไม่ได้", "รับเมลไม่ได้", "รับอีเมลไม่ได้"),
            *("mailเข้าไม่ได้", "emailเข้าไม่ได้", "เมลเข้าไม่ได้", "อีเมลเข้าไม่ได้"),
        ),
    ),
    Topic(
        "faq.email_setup",
        (
            *("ตั้งค่าอีเมล", "ตั้งค่าเมล", "ตั้งค่าอีเมล์", "ตั้งค่าmail", "ตั้งค่าemail"),
            *("เมลในมือถือ", "อีเมลในมือถือ", "เมลบนมือถือ", "อีเมลบนมือถือ"),
            *("เมลในโทรศัพท์", "อีเมลในโทรศัพท์", "เพิ่มบัญชีอีเมล", "outlook", "เอาท์ลุค"),
            *("imap", "smtp", "อีเมลในคอม", "เมลในคอม"),
        ),
    ),
    Topic(
        "faq.wifi_problem",
        (
            *("ไวไฟใช้ไม่ได้", "wifiใช้ไม่ได้", "ต่อไวไฟไม่ได้", "ต่อwifiไม่ได้"),
            *("ไวไฟเข้าไม่ได้", "wifiเข้าไม่ได้", "เชื่อมต่อwifiไม่ได้", "bmaapใช้ไม่ได้"),
            *("bmaapเข้าไม่ได้", "ต่อbmaapไม่ได้", "เน็ตใช้ไม่ได้", "เน็ตเข้าไม่ได้"),
            *("เข้าเน็ตไม่ได้", "อินเทอร์เน็ตใช้ไม่ได้", "อินเตอร์เน็ตใช้ไม่ได้", "เน็ตหลุด"),
        ),
    ),
    Topic(
        "faq.wifi_how",
        (
            *("ต่อwifiยังไง", "ต่อไวไฟยังไง", "ต่อwifiอย่างไร", "ต่อไวไฟอย่างไร"),
            *("วิธีต่อwifi", "วิธีต่อไวไฟ", "เชื่อมต่อbmaap", "ใช้wifiยังไง", "ใช้ไวไฟยังไง"),
            *("รหัสwifi", "รหัสไวไฟ", "ล็อกอินwifi", "ล็อกอินไวไฟ"),
            *("ต่อไวไฟ+ยังไง", "ต่อwifi+ยังไง", "ใช้ไวไฟ+ยังไง", "ใช้wifi+ยังไง"),
            *("ต่อไวไฟ+อย่างไร", "ต่อwifi+อย่างไร", "เข้าไวไฟ+ยังไง", "เข้าwifi+ยังไง"),
        ),
    ),
    Topic(
        "faq.locked",
        (
            *("บัญชีถูกล็อก", "บัญชีโดนล็อก", "บัญชีถูกล็อค", "บัญชีโดนล็อค", "ถูกล็อก"),
            *("โดนล็อก", "ถูกล็อค", "โดนล็อค", "บัญชีล็อก", "บัญชีล็อค", "locked"),
            *("ถูกบล็อก", "โดนบล็อก", "ใส่รหัสผิดหลายครั้ง"),
        ),
    ),
    Topic(
        "faq.moved_unit",
        (
            *("ย้ายหน่วยงาน", "ย้ายสังกัด", "เปลี่ยนสังกัด", "เปลี่ยนหน่วยงาน"),
            *("ย้ายที่ทำงาน", "ย้ายเขต", "โอนย้าย", "ย้ายไปอยู่", "ย้ายสำนัก"),
        ),
    ),
    Topic(
        "faq.new_mobile",
        (
            *("เปลี่ยนเบอร์", "เบอร์ใหม่", "เปลี่ยนเบอร์โทร", "เปลี่ยนเบอร์มือถือ"),
            *("เบอร์มือถือเปลี่ยน", "แก้เบอร์", "เปลี่ยนหมายเลขโทรศัพท์", "เบอร์หาย"),
        ),
    ),
    Topic(
        "faq.name_change",
        (
            *("เปลี่ยนชื่อ", "เปลี่ยนนามสกุล", "เปลี่ยนชื่อสกุล", "แก้ชื่อ", "ชื่อผิด"),
            *("นามสกุลใหม่", "ชื่อใหม่", "แก้นามสกุล", "สะกดชื่อผิด"),
        ),
    ),
    Topic(
        "faq.leaving",
        (
            *("ลาออก", "เกษียณ", "พ้นสภาพ", "ออกจากราชการ", "หมดสัญญา"),
            *("สิ้นสุดสัญญา", "ยกเลิกบัญชี", "ปิดบัญชี", "ลบบัญชี", "เลิกจ้าง"),
        ),
    ),
    Topic(
        "faq.unit_mailbox",
        (
            *("อีเมลหน่วยงาน", "เมลหน่วยงาน", "อีเมลกลาง", "เมลกลาง", "อีเมลสำนักงาน"),
            *("อีเมลของฝ่าย", "เมลของฝ่าย", "บัญชีกลาง", "อีเมลส่วนราชการ"),
        ),
    ),
    Topic(
        "faq.handover",
        (
            *("เปลี่ยนผู้รับผิดชอบ", "ผู้รับผิดชอบคนใหม่", "ผู้รับผิดชอบบัญชี"),
            *("คนดูแลเมลหน่วยงาน", "โอนบัญชีหน่วยงาน", "ส่งต่อบัญชีหน่วยงาน"),
        ),
    ),
    Topic(
        "faq.username",
        (
            *("ชื่อผู้ใช้", "username", "ยูสเซอร์", "ยูเซอร์", "ลืมuser", "userคือ"),
            *("ยูสเซอร์เนม", "ชื่อล็อกอิน", "ชื่อบัญชี"),
        ),
    ),
    Topic(
        "faq.who_can_apply",
        (
            *("ใครขอได้", "ใครสมัครได้", "ลูกจ้างขอได้", "ลูกจ้างสมัครได้", "ครูขอได้"),
            *("ครูสมัครได้", "ฝึกงานขอได้", "นักศึกษาฝึกงาน", "คนนอกขอได้", "ใครมีสิทธิ์"),
            *("พนักงานจ้างขอได้", "ขอได้ทุกคน", "ลูกจ้าง+ขอได้", "ลูกจ้าง+สมัครได้"),
            *("ครู+ขอได้", "ครู+สมัครได้", "ฝึกงาน+ขอได้", "ฝึกงาน+สมัครได้"),
        ),
    ),
    Topic(
        "faq.cost",
        ("เสียเงิน", "ค่าใช้จ่าย", "ฟรีไหม", "ฟรีมั้ย", "ฟรีหรือ", "ค่าธรรมเนียม", "ค่าบริการ"),
    ),
    Topic(
        "faq.rejected",
        (
            *("ถูกปฏิเสธ", "โดนปฏิเสธ", "ไม่อนุมัติ", "ไม่ผ่าน", "ไม่ได้รับอนุมัติ"),
            *("ถูกยกเลิกคำขอ", "คำขอไม่ผ่าน"),
        ),
    ),
    Topic(
        "faq.correction",
        (
            *("แก้ไขคำขอ", "แก้คำขอ", "กรอกผิด", "ส่งผิด", "แก้ข้อมูล", "ข้อมูลผิด"),
            *("ถูกตีกลับ", "ส่งกลับมาแก้", "ส่งคืนแก้ไข", "ให้แก้ไข"),
        ),
    ),
    Topic(
        "faq.privacy",
        (
            *("ข้อมูลส่วนบุคคล", "pdpa", "เก็บข้อมูล", "ลบข้อมูล", "ข้อมูลของฉัน"),
            *("ความเป็นส่วนตัว", "เอาข้อมูลไปทำอะไร", "ข้อมูลปลอดภัย", "เก็บรูปบัตร"),
        ),
    ),
    Topic(
        "faq.mailbox_full",
        (
            *("เมลเต็ม", "อีเมลเต็ม", "เมล์เต็ม", "กล่องเมลเต็ม", "พื้นที่เมล"),
            *("quota", "โควต้า", "โควตา", "พื้นที่อีเมล"),
        ),
    ),
    Topic(
        "faq.phishing",
        (
            *("มีคนขอรหัส", "เมลหลอก", "อีเมลหลอก", "ฟิชชิ่ง", "ฟิชชิง", "phishing"),
            *("โทรมาขอรหัส", "ทักมาขอรหัส", "ขอรหัสผ่านทางโทรศัพท์"),
            *("ลิงก์แปลก", "ลิงค์แปลก", "หลอกลวง", "ถูกแฮก", "โดนแฮก", "โดนแฮ็ก"),
        ),
    ),
    Topic(
        "faq.help",
        (
            *("ช่วยด้วย", "ช่วยหน่อย", "ขอความช่วยเหลือ", "help", "ช่วยอะไรได้"),
            *("มีบริการอะไร", "บอทนี้ทำอะไร", "ใช้งานบอท", "ไม่รู้จะทำยังไง"),
        ),
    ),
    Topic(
        "faq.office_hours",
        (
            *("เวลาทำการ", "เวลาราชการ", "เปิดกี่โมง", "ปิดกี่โมง", "ติดต่อได้กี่โมง"),
            *("วันหยุด", "เสาร์อาทิตย์", "วันเสาร์", "วันอาทิตย์"),
        ),
    ),
    Topic(
        "faq.track",
        (
            *("ติดตามคำขอ", "คำขอถึงไหน", "ตรวจสอบคำขอ", "เช็คสถานะ", "เช็กสถานะ"),
            *("ดูสถานะ", "ผลการพิจารณา", "ผลคำขอ", "เลขที่คำขอ"),
        ),
    ),
    Topic(
        "faq.sms_not_received",
        (
            *("ไม่ได้รับsms", "smsไม่มา", "smsไม่เข้า", "ยังไม่ได้sms", "ไม่ได้รับรหัส"),
            *("ไม่ได้รับข้อความ", "ไม่มีsms", "รหัสไม่มา", "ยังไม่ได้รับรหัส"),
        ),
    ),
    Topic(
        "faq.apply_how",
        (
            *("สมัครยังไง", "ขอบัญชียังไง", "สมัครที่ไหน", "วิธีสมัคร", "ขั้นตอนการสมัคร"),
            *("ขอบัญชีใหม่", "สมัครอย่างไร", "ขอบัญชีอย่างไร", "ขอได้ที่ไหน", "สมัครบัญชี"),
            *("อยากได้อีเมล", "อยากมีอีเมล", "ขออีเมล", "อยากได้บัญชี"),
        ),
    ),
)

BY_NAME = {topic.name: topic for topic in TOPICS}


def compact(text: str) -> str:
    """Lower case, no trailing particle, no spaces or punctuation: what the phrases are made of."""
    text = clean(text).lower()
    stripped = True
    while stripped:
        stripped = False
        for particle in PARTICLES:
            shorter = text.removesuffix(particle).rstrip(" !.~?")
            if shorter and shorter != text:
                text, stripped = shorter, True
    return NOISE.sub("", text)


def match(text: str) -> Topic | None:
    """The best-fitting topic: an exact phrase beats a near one, a long phrase a short one.

    Text typed with the keyboard left on English ("POddyg" for ลืมรหัส) is read again as the
    same keys on the Thai layout when it fits no topic as it is.
    """
    found = _best(compact(text))
    if found is None and _LATIN_ONLY.fullmatch(text.strip()):
        found = _best(compact(eng_to_thai(text.strip())))
    return found


def _best(said: str) -> Topic | None:
    if not said:
        return None
    best: tuple[float, int, Topic] | None = None
    for phrase, topic in _phrases():
        score = _score(phrase, said)
        if score is None:
            continue
        candidate = (score, len(phrase), topic)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


def closest(text: str, count: int = 2) -> tuple[Topic, ...]:
    """The topics nearest to text that matched none: each topic's best near phrase, best first."""
    said = compact(text)
    if len(said) < NEAR_MIN_LENGTH:
        return ()
    scores: dict[str, tuple[float, Topic]] = {}
    for phrase, topic in _phrases():
        if len(phrase) < NEAR_MIN_LENGTH:
            continue
        score = fuzz.partial_ratio(phrase, said)
        if score >= NEAR_SCORE and score > scores.get(topic.answer, (0.0, topic))[0]:
            scores[topic.answer] = (score, topic)
    ranked = sorted(scores.values(), key=lambda pair: -pair[0])
    return tuple(topic for _, topic in ranked[:count])


@cache
def _phrases() -> tuple[tuple[str, Topic], ...]:
    return tuple((compact(phrase), topic) for topic in TOPICS for phrase in topic.phrases)


def _score(phrase: str, said: str) -> float | None:
    if phrase in said:
        return 100.0
    if ALSO in phrase:  # "ต่อไวไฟ+ยังไง": both parts, in this order, words between allowed
        return 100.0 if _in_order(phrase.split(ALSO), said) else None
    if len(phrase) < FUZZY_MIN_LENGTH or len(said) < len(phrase) - 2:
        return None
    if fuzz.partial_ratio(phrase, said) < NEAR_SCORE:  # quick: nothing near at all
        return None
    score = _best_window(phrase, said)
    return score if score >= FUZZY_SCORE else None


def _best_window(phrase: str, said: str) -> float:
    """The phrase against every stretch of the text up to two letters shorter or longer: a
    letter left out ("อินเตอเน็ต") costs one letter, not the phrase's length in alignment."""
    best = 0.0
    for length in range(len(phrase) - 2, len(phrase) + 3):
        for start in range(max(1, len(said) - length + 1)):
            best = max(best, fuzz.ratio(phrase, said[start : start + length]))
    return best


def answer(incoming: Incoming) -> tuple[Message, ...] | None:
    """The answer to a typed question with the main choices; when no topic fits for sure, the
    two nearest as buttons and the support line; None when nothing is near."""
    if incoming.kind is not Kind.TEXT:
        return None
    topic = match(incoming.text)
    if topic is not None:
        return (Text(topic.answer, choices=main_choices()),)
    near = closest(incoming.text)
    if not near:
        return None
    buttons = tuple(Choice(f"faq.label.{topic.name}", f"{PRESS}{topic.name}") for topic in near)
    return (Text("faq.unsure", choices=(*buttons, *main_choices())),)


def pressed(incoming: Incoming) -> tuple[Message, ...] | None:
    """The answer of a topic's button (offered when a question was unsure), else None."""
    if incoming.kind is not Kind.BUTTON or not incoming.data.startswith(PRESS):
        return None
    topic = BY_NAME.get(incoming.data.removeprefix(PRESS))
    return None if topic is None else (Text(topic.answer, choices=main_choices()),)


# How a typed question ends in Thai (after its particle): inside the form, only such text
# is read as a question, so a position such as "นิติกร (กฎหมาย)" stays an answer.
QUESTION_ENDINGS = (
    *("ไหม", "มั้ย", "มั๊ย", "ไม๊", "หรือไม่", "หรือเปล่า", "รึเปล่า", "ป่าว", "ยังไง"),
    *("ยังงัย", "อย่างไร", "ทำไง", "อะไร", "อะไรบ้าง", "บ้าง", "ที่ไหน", "ตรงไหน"),
    *("เมื่อไร", "เมื่อไหร่", "กี่วัน", "ได้ป่ะ"),
)


def question_in_form(incoming: Incoming) -> tuple[Message, ...] | None:
    """A question typed in the middle of a form: its answer (without the menu), else None."""
    if incoming.kind is not Kind.TEXT:
        return None
    text = clean(incoming.text)
    said = compact(text)
    if not (text.endswith("?") or said.endswith(QUESTION_ENDINGS)):
        return None
    topic = match(text)
    return None if topic is None else (Text(topic.answer),)


def _in_order(parts: list[str], said: str) -> bool:
    at = 0
    for part in parts:
        found = said.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


@dataclass(frozen=True, slots=True)
class Checked:
    """One question of a list kept by the helpdesk staff: the topic expected and the one got."""

    question: str
    expected: str | None  # a topic's name, or None: no topic should answer it
    got: str | None

    @property
    def right(self) -> bool:
        return self.got == self.expected


def check(questions: Iterable[tuple[str, str | None]]) -> list[Checked]:
    """How the topics answer a list of (question, expected topic name or None)."""
    checked = []
    for question, expected in questions:
        if expected is not None and expected not in BY_NAME:
            raise ValueError(f"no topic is named {expected!r}")
        topic = match(question)
        checked.append(Checked(question, expected, None if topic is None else topic.name))
    return checked
