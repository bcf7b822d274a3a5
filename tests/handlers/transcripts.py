"""Whole applications as transcripts: what the person does, and the question that follows."""

from __future__ import annotations

from dataclasses import dataclass

from tests.handlers.chat import Chat

NATIONAL_ID = "1103700123458"


@dataclass(frozen=True)
class Turn:
    action: str  # send | tap | photo
    value: str
    then: str  # the key of the bot's last message afterwards

    async def play(self, chat: Chat) -> None:
        if self.action == "send":
            await chat.send(self.value)
        elif self.action == "tap":
            await chat.tap(self.value)
        else:
            await chat.photo()
        assert chat.last_key == self.then, f"after {self.action} {self.value!r}: {chat.text}"


def send(text: str, then: str) -> Turn:
    return Turn("send", text, then)


def tap(label: str, then: str) -> Turn:
    return Turn("tap", label, then)


def photo(then: str) -> Turn:
    return Turn("photo", "", then)


START = [
    send("สมัครค่ะ", "apply.pdpa"),
    tap("ยอมรับและเริ่มกรอก", "apply.ask_kind"),
]
UNIT_BANGRAK_REGISTRATION = [
    send("บางรัก", "apply.ask_subunit"),  # one exact match: taken at once
    tap("ฝ่ายทะเบียน", "apply.ask_unit_note"),
    tap("ไม่มี/ข้าม", "apply.ask_position"),
]
PERSON = [
    send("นักวิชาการคอมพิวเตอร์ปฏิบัติการ", "apply.ask_title_th"),
    tap("นาย", "apply.ask_name_th"),
    send("สมชาย ใจดี", "apply.ask_name_en"),  # นาย settles the English title: Mr.
    send("Somchai Jaidee", "apply.ask_national_id"),
]
CONTACT = [
    send("081-234-5678", "apply.ask_email"),
    send("somchai.j@gmail.com", "apply.ask_doc_id_card"),
]
STAFF = [
    *START,
    tap("บุคลากรประจำ กทม.", "apply.ask_unit"),
    *UNIT_BANGRAK_REGISTRATION,
    *PERSON,
    send("1 1037 00123 45 8", "apply.ask_mobile"),  # a staff member is a Thai national
    *CONTACT,
    photo("apply.summary_title"),
]
CONTRACT = [
    *START,
    tap("ลูกจ้าง/สัญญาจ้าง", "apply.ask_unit"),
    send("ยุทธศาสตร์", "apply.ask_subunit"),  # one exact match (a name the office goes by)
    tap("กองควบคุมระบบคอมพิวเตอร์", "apply.ask_subunit"),
    tap("ฝ่ายฐานข้อมูล", "apply.ask_unit_note"),
    send("กลุ่มงานบริการผู้ใช้", "apply.ask_position"),
    *PERSON,
    send("1 1037 00123 45 8", "apply.ask_nationality"),
    tap("ไทย", "apply.ask_mobile"),
    *CONTACT,
    photo("apply.ask_doc_work_certificate"),
    photo("apply.summary_title"),
]
AGENCY = [
    *START,
    tap("บัญชีของหน่วยงาน", "apply.ask_unit"),
    *UNIT_BANGRAK_REGISTRATION[:-1],
    tap("ไม่มี/ข้าม", "apply.ask_purpose"),
    send("ใช้รับ-ส่งหนังสือราชการของฝ่ายทะเบียน", "apply.ask_mailbox_name"),
    send("bangrak.registration", "apply.ask_responsible_username"),
    send("somchai.j", "apply.ask_title_th"),
    tap("นางสาว", "apply.ask_name_th"),
    send("สมหญิง รักงาน", "apply.ask_position"),
    send("เจ้าพนักงานธุรการ", "apply.ask_mobile_agency"),
    send("0891234567", "apply.ask_email"),
    send("somying@bangkok.go.th", "apply.ask_doc_memo"),
    photo("apply.ask_doc_responsible_id_card"),
    photo("apply.summary_title"),
]
TRANSCRIPTS = {"staff": STAFF, "contract": CONTRACT, "agency": AGENCY}


async def play(chat: Chat, turns: list[Turn]) -> None:
    for turn in turns:
        await turn.play(chat)


def until(turns: list[Turn], question: str) -> list[Turn]:
    """The turns that lead up to the first time this question is asked."""
    for index, turn in enumerate(turns, start=1):
        if turn.then == question:
            return turns[:index]
    raise ValueError(f"{question} is never asked")


# The staff form as a person fills it in on any channel, after asking to apply and before the
# photo: ("say", text) or ("tap", a button's label). The channel tests start and end it.
STAFF_FORM = [
    ("tap", "ยอมรับและเริ่มกรอก"),
    ("tap", "บุคลากรประจำ กทม."),
    ("say", "บางรัก"),
    ("tap", "ฝ่ายทะเบียน"),
    ("tap", "ไม่มี/ข้าม"),
    ("say", "นักวิชาการคอมพิวเตอร์"),
    ("tap", "นาย"),
    ("say", "สมชาย ใจดี"),
    ("say", "Somchai Jaidee"),
    ("say", "1103700123458"),
    ("say", "0812345678"),
    ("say", "somchai@gmail.com"),
]
# The same answers typed or clicked one after another (the terminal and the web page).
STAFF_ANSWERS = ["สมัคร", *(value for _, value in STAFF_FORM)]

# The main choices, as the greeting, the main menu and every answered question show them.
MAIN_LABELS = ["ขอบัญชีผู้ใช้ กทม.", "เปลี่ยนผู้รับผิดชอบ", "ขอสิทธิ์ e-GP/Portal", "ติดต่อเจ้าหน้าที่"]
