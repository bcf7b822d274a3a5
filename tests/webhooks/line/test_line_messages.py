"""Rendered messages become LINE models that pass the SDK and stay inside LINE's limits."""

from __future__ import annotations

import json
from fnmatch import fnmatch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linebot.v3.messaging import (
    FlexBubble,
    FlexButton,
    FlexMessage,
    FlexText,
    Message,
    PostbackAction,
    TextMessage,
    URIAction,
)

from bot.catalog import Catalog
from bot.handlers.rendering import Button, Rendered, to_json
from tests.emulators.line import check_messages
from webhooks.line import messages
from webhooks.line.messages import (
    LINE_JSON_KEPT,
    MAX_LABEL,
    LineLimitError,
    chunks,
    grapheme_length,
    line_body,
    line_dicts,
    line_json,
    split_text,
    to_line_messages,
    truncate_label,
    utf16_length,
)

BUTTON_KEYS = (
    "common.back",
    "common.cancel",
    "common.yes_cancel",
    "common.yes_restart",
    "common.no_go_on",
    "common.previous_page",
    "common.next_page",
    "menu.apply",
    "menu.support",
    "apply.accept_terms",
    "apply.kind.*",
    "apply.unit_browse",
    "apply.unit_skip",
    "apply.submit",
    "apply.edit",
    "apply.back_to_summary",
    "apply.field.*",
    "support.call_*",
    "status.continue",
    "status.cancel_draft",
    "status.all",
)
NOT_BUTTONS: set[str] = set()

SUBMIT = Button("ถูกต้อง ส่งคำขอ", "apply:submit")
EDIT = Button("แก้ไขข้อมูล", "apply:edit")
CANCEL = Button("ยกเลิก", "nav:cancel")
CALL = Button("โทร ฝ่ายฐานข้อมูล", "tel:022032751")
SUMMARY = Rendered(
    "apply.summary",
    "ชื่อ: คุณสมชาย ใจดี\nเลขประจำตัวประชาชน: x-xxxx-xxxxx-12-1\n\nเบอร์มือถือ: 081 234 5678",
    (SUBMIT, EDIT, CANCEL),
    "สรุปคำขอของท่าน",
)


def only(replies: list[Rendered]) -> Message:
    [message] = to_line_messages(replies)
    return message


def card_bubble() -> FlexBubble:
    message = only([SUMMARY])
    assert isinstance(message, FlexMessage)
    assert isinstance(message.contents, FlexBubble)
    return message.contents


def test_text_with_three_buttons_becomes_a_text_with_quick_replies() -> None:
    message = only([Rendered("apply.ask_kind", "กรุณาเลือกค่ะ", (SUBMIT, EDIT, CANCEL))])
    assert isinstance(message, TextMessage)
    assert message.text == "กรุณาเลือกค่ะ"
    actions = [item.action for item in message.quick_reply.items]
    assert all(isinstance(action, PostbackAction) for action in actions)
    assert [(a.label, a.data, a.display_text) for a in actions] == [
        ("ถูกต้อง ส่งคำขอ", "apply:submit", "ถูกต้อง ส่งคำขอ"),
        ("แก้ไขข้อมูล", "apply:edit", "แก้ไขข้อมูล"),
        ("ยกเลิก", "nav:cancel", "ยกเลิก"),
    ]


def test_a_call_button_is_a_tel_link_that_dials_and_sends_nothing_back() -> None:
    message = only([Rendered("support.contacts", "โทร 0 2203 2751 ค่ะ", (CALL, CANCEL))])
    call, cancel = (item.action for item in message.quick_reply.items)
    assert isinstance(call, URIAction)
    assert (call.label, call.uri) == ("โทร ฝ่ายฐานข้อมูล", "tel:022032751")
    assert isinstance(cancel, PostbackAction)
    assert check_messages([message.to_dict()]) == []


def test_a_card_calls_from_its_footer_too() -> None:
    card = only([Rendered("k", "บรรทัด", (CALL,), "ติดต่อเจ้าหน้าที่")]).contents
    (button,) = card.footer.contents
    assert button.action.to_dict() == {"type": "uri", "label": CALL.label, "uri": CALL.data}


def test_a_call_button_without_a_phone_number_is_a_bug() -> None:
    with pytest.raises(LineLimitError, match="phone number"):
        to_line_messages([Rendered("x", "โทรค่ะ", (Button("โทร", "tel:javascript:x"),))])


def test_text_without_buttons_has_no_quick_reply() -> None:
    message = only([Rendered("menu.greeting", "สวัสดีค่ะ")])
    assert message.to_dict() == {"type": "text", "text": "สวัสดีค่ะ"}


def test_card_has_its_title_as_bold_header_and_alt_text() -> None:
    message = only([SUMMARY])
    header = card_bubble().header.contents
    assert message.alt_text == "สรุปคำขอของท่าน"
    assert [(t.text, t.weight) for t in header] == [("สรุปคำขอของท่าน", "bold")]


def test_card_shows_each_non_blank_line_as_a_wrapped_text() -> None:
    body = card_bubble().body.contents
    assert all(isinstance(part, FlexText) and part.wrap for part in body)
    assert [part.text for part in body] == [
        "ชื่อ: คุณสมชาย ใจดี",
        "เลขประจำตัวประชาชน: x-xxxx-xxxxx-12-1",
        "เบอร์มือถือ: 081 234 5678",
    ]


def test_card_buttons_are_postbacks_in_the_footer_first_one_primary() -> None:
    footer = card_bubble().footer
    assert footer.layout == "vertical"
    assert all(isinstance(button, FlexButton) for button in footer.contents)
    assert [(b.action.data, b.style) for b in footer.contents] == [
        ("apply:submit", "primary"),
        ("apply:edit", "secondary"),
        ("nav:cancel", "secondary"),
    ]


def test_card_buttons_are_also_quick_replies() -> None:
    items = only([SUMMARY]).quick_reply.items
    assert [item.action.data for item in items] == ["apply:submit", "apply:edit", "nav:cancel"]


def test_card_survives_a_round_trip_through_the_sdk_models() -> None:
    payload = only([SUMMARY]).to_dict()
    assert payload["contents"]["type"] == "bubble"
    assert Message.from_dict(payload).to_dict() == payload


def test_card_without_lines_or_buttons_leaves_out_body_and_footer() -> None:
    bubble = only([Rendered("review.title", "\n", (), "คำขอใหม่")]).contents
    assert bubble.body is None
    assert bubble.footer is None


def test_messages_keep_the_order_of_the_replies() -> None:
    messages = to_line_messages([Rendered("a", "หนึ่ง"), SUMMARY, Rendered("b", "สอง")])
    assert [message.type for message in messages] == ["text", "flex", "text"]


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("ที่อยู่", 3),  # ท+ี+่, อ, ย+ู+่: 7 code points
        ("กรุงเทพมหานคร", 12),  # ุ sits under ร: 13 code points
        ("ติดต่อเจ้าหน้าที่", 11),  # 17 code points
        ("น้ำ", 2),  # sara am (U+0E33) is a spacing vowel: counted, which can only over-count
        ("e-mail", 6),
        ("e\u0301", 1),  # a combining accent joins its letter in any script
        ("", 0),
    ],
)
def test_counts_grapheme_clusters_as_line_does(text: str, clusters: int) -> None:
    assert grapheme_length(text) == clusters


def test_short_label_is_kept_as_it_is() -> None:
    label = "ก่" * MAX_LABEL  # 40 code points, 20 clusters
    assert truncate_label(label) == label


def test_long_thai_label_is_cut_between_clusters_with_an_ellipsis() -> None:
    label = "สำนักงานเขตบางรัก ฝ่ายทะเบียน"
    cut = truncate_label(label, 20)
    assert cut.endswith("…")
    assert grapheme_length(cut) == 20
    assert label.startswith(cut[:-1])
    assert truncate_label("ที่ที่ที่", 2) == "ที่…"  # no tone mark left hanging


def test_long_button_label_is_cut_but_the_chat_shows_it_in_full() -> None:
    unit = "สำนักงานเขตบางรัก ฝ่ายทะเบียน"
    message = only([Rendered("apply.unit_pick", "หมายถึงหน่วยงานใดคะ", (Button(unit, "unit:3"),))])
    action = message.quick_reply.items[0].action
    assert grapheme_length(action.label) == MAX_LABEL
    assert action.display_text == unit


def test_text_of_6000_chars_is_split_at_line_breaks() -> None:
    lines = [f"{n:03d} " + "ก" * 45 for n in range(120)]  # 120 lines of 49 + "\n"
    text = "\n".join(lines) + "\n"
    assert len(text) == 6000
    messages = to_line_messages([Rendered("long", text, (CANCEL,))])
    assert len(messages) == 2
    assert all(utf16_length(m.text) <= 5000 for m in messages)
    assert "\n".join(m.text for m in messages).split("\n") == lines
    assert [m.quick_reply is not None for m in messages] == [False, True]


def test_line_longer_than_the_limit_is_split_inside_it() -> None:
    text = "ที่" * 2000  # 6000 code points on one line
    pieces = split_text(text)
    assert [utf16_length(piece) for piece in pieces] == [4998, 1002]
    assert "".join(pieces) == text


def test_text_length_is_counted_in_utf16_units() -> None:
    text = "🙏" * 2600  # 2600 code points, 5200 UTF-16 units
    assert [len(piece) for piece in split_text(text)] == [2500, 100]


def test_empty_text_is_refused() -> None:
    with pytest.raises(LineLimitError):
        to_line_messages([Rendered("x", "\n \n")])


def test_long_alt_text_is_cut_to_1500() -> None:
    message = only([Rendered("card", "บรรทัด", (), "ก" * 2000)])
    assert len(message.alt_text) == 1500
    assert message.alt_text.endswith("…")


def test_more_than_13_buttons_is_a_programming_error() -> None:
    buttons = tuple(Button(str(n), f"page:{n}") for n in range(14))
    with pytest.raises(LineLimitError, match="13"):
        to_line_messages([Rendered("x", "เลือกค่ะ", buttons)])


def test_13_buttons_are_fine() -> None:
    buttons = tuple(Button(str(n), f"page:{n}") for n in range(13))
    assert len(only([Rendered("x", "เลือกค่ะ", buttons)]).quick_reply.items) == 13


def test_postback_data_over_300_chars_is_refused() -> None:
    with pytest.raises(LineLimitError, match="postback data"):
        to_line_messages([Rendered("x", "เลือกค่ะ", (Button("ตกลง", "x" * 301),))])


def test_chunks_respect_five_messages_per_call() -> None:
    messages = to_line_messages([Rendered(str(n), f"ข้อความ {n}") for n in range(12)])
    assert [len(batch) for batch in chunks(messages, 5)] == [5, 5, 2]
    assert chunks([], 5) == []


def test_line_emulator_finds_nothing_to_refuse() -> None:
    unit = Button("สำนักงานเขตบางรัก ฝ่ายทะเบียนและบัตรประจำตัวประชาชน", "unit:3")
    long_text = Rendered("long", ("ข้อความยาว " * 50 + "\n") * 20, (unit, CANCEL))
    messages = to_line_messages([long_text, SUMMARY])
    for batch in chunks(messages, 5):
        assert check_messages([message.to_dict() for message in batch]) == []


def test_every_catalog_button_label_fits_without_truncation() -> None:
    catalog = Catalog.load()
    keys = [
        key
        for key in catalog.messages
        if any(fnmatch(key, pattern) for pattern in BUTTON_KEYS) and key not in NOT_BUTTONS
    ]
    assert "apply.field.national_id" in keys
    too_long = {
        key: catalog.text(key)
        for key in keys
        if truncate_label(catalog.text(key)) != catalog.text(key)
    }
    assert too_long == {}


# The bodies are built as plain dicts (the SDK's models cost more than the rest of a turn):
# whatever the message, the SDK reads each back to a model that serialises to the same JSON,
# and LINE's emulator finds nothing to refuse.
THAI = st.text(alphabet="กขคงจฉชซญดตถทนบปผพภมยรลวศสหอฮะาิีึืุูเแโใไ่้๊๋็์ ", min_size=1).filter(
    str.strip  # blank text is refused before LINE sees it: test_empty_text_is_refused
)
LABELS = st.one_of(THAI, st.text(min_size=1, max_size=40).filter(str.strip))
POSTBACKS = st.builds(Button, LABELS, st.from_regex(r"[a-z]{1,8}:[a-z0-9]{1,40}", fullmatch=True))
CALLS = st.builds(
    Button, LABELS, st.from_regex(r"\+?[0-9]{9,12}", fullmatch=True).map(lambda n: f"tel:{n}")
)
RENDERED = st.builds(
    Rendered,
    key=st.just("k"),
    text=st.one_of(THAI, st.text(min_size=1, max_size=6000).filter(str.strip)),
    buttons=st.lists(st.one_of(POSTBACKS, CALLS), max_size=13).map(tuple),
    title=st.one_of(st.none(), THAI),
    image_url=st.one_of(st.none(), st.just("https://bmabot.example/media/abc")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RENDERED, min_size=1, max_size=3))
def test_every_body_is_what_the_sdks_models_make_of_it(replies: list[Rendered]) -> None:
    bodies = line_dicts(replies)

    assert [Message.from_dict(body).to_dict() for body in bodies] == bodies
    for batch in chunks(bodies):
        assert check_messages(batch) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RENDERED)
def test_a_stored_message_becomes_the_same_line_messages_however_often_and_in_any_key_order(
    reply: Rendered,
) -> None:
    stored = to_json(reply)
    expected = line_dicts([reply])

    assert [json.loads(message) for message in line_json(stored)] == expected
    assert [json.loads(message) for message in line_json(stored)] == expected  # kept
    reordered = dict(reversed(stored.items()))
    assert [json.loads(message) for message in line_json(reordered)] == expected


def test_line_messages_are_utf8_json_not_escaped() -> None:
    (message,) = line_json(to_json(Rendered("k", "กรุณาเลือกค่ะ")))

    assert "กรุณาเลือกค่ะ".encode() in message
    assert b"\\u" not in message


def test_what_line_json_keeps_shares_nothing_with_the_stored_message() -> None:
    stored = to_json(Rendered("k", "กรุณาเลือกค่ะ", (Button("ต่อ", "go:1"),)))
    expected = line_json(stored)
    stored["buttons"][0][0] = "changed afterwards"
    stored["text"] = "changed afterwards"

    assert line_json(to_json(Rendered("k", "กรุณาเลือกค่ะ", (Button("ต่อ", "go:1"),)))) == expected
    assert b"changed afterwards" not in b"".join(expected)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(["replyToken", "to", "notificationDisabled"]), st.text()),
    st.lists(RENDERED, max_size=3),
)
def test_a_body_joined_from_encoded_messages_is_the_json_of_the_whole(
    fields: dict[str, str], replies: list[Rendered]
) -> None:
    encoded = [message for reply in replies for message in line_json(to_json(reply))]

    body = json.loads(line_body(fields, encoded))

    assert body == {**fields, "messages": [json.loads(message) for message in encoded]}


def test_line_json_keeps_a_bounded_number_of_messages() -> None:
    for number in range(LINE_JSON_KEPT + 10):
        line_json(to_json(Rendered("summary", f"สรุปคำขอที่ {number} ค่ะ")))

    assert len(messages._LINE_JSON) <= LINE_JSON_KEPT
