"""The helpdesk: 40 realistic questions (30 topics, 10 off topic) reach the right topic, each
answer gives the right contact line, and an unsure question offers the two nearest topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.flows import faq
from bot.flows.incoming import Incoming, Kind
from bot.flows.outgoing import Text
from webhooks.admin.faq import read_questions

QUESTIONS = Path(__file__).with_name("helpdesk_questions.tsv")
CATALOG = Catalog.load()


def test_thirty_topics_or_more_are_kept() -> None:
    assert len(faq.TOPICS) >= 30


def test_at_least_36_of_the_40_questions_reach_the_right_topic() -> None:
    questions = read_questions(QUESTIONS)
    checked = faq.check(questions)

    wrong = [one for one in checked if not one.right]
    assert len(checked) == 40
    assert sum(one.expected is None for one in checked) == 10
    assert len({one.expected for one in checked} - {None}) == 30
    assert len(wrong) <= 4, wrong


@pytest.mark.parametrize("topic", faq.TOPICS, ids=lambda topic: topic.name)
def test_each_answer_gives_its_contact_line(topic: faq.Topic) -> None:
    text = CATALOG.text(topic.answer)
    assert topic.contact in text
    other = faq.PROGRAMS if topic.contact == faq.DATABASE else faq.DATABASE
    if topic.name != "uses":  # what the account covers names both sections
        assert other not in text


def test_wifi_that_does_not_work_gets_the_access_line_not_the_rights_line() -> None:
    topic = faq.match("wifi ใช้ไม่ได้")
    assert topic is not None
    assert topic.name == "wifi_problem"
    assert "0 2203 2751" in CATALOG.text(topic.answer)


def test_a_question_typed_with_the_keyboard_left_on_english_is_read_as_thai() -> None:
    topic = faq.match("]n,isylzjko")  # ลืมรหัสผ่าน on the Thai layout
    assert topic is not None
    assert topic.name == "forgot_password"


def test_a_typo_in_a_long_phrase_is_forgiven_but_a_different_word_is_not() -> None:
    uses = faq.match("ใช้อินเตอเน็ตได้ไหม")  # อินเตอร์เน็ต with two letters left out
    assert uses is not None
    assert uses.name == "uses"
    assert faq.match("ราคาทองวันนี้เท่าไหร่") is None  # not "นานเท่าไหร่"


def test_an_unsure_question_offers_the_two_nearest_topics_and_the_contact_line() -> None:
    said = faq.answer(Incoming("test", "U1", "U1", Kind.TEXT, text="อีเมลมีปัญหา"))

    assert said is not None
    (message,) = said
    assert isinstance(message, Text)
    assert message.key == "faq.unsure"
    offered = [choice.data for choice in message.choices if choice.data.startswith(faq.PRESS)]
    assert len(offered) == 2
    assert "0 2203 2751" in CATALOG.text("faq.unsure")


def test_a_topic_button_gives_that_topics_answer() -> None:
    press = Incoming("test", "U1", "U1", Kind.BUTTON, data="faq:locked")
    said = faq.pressed(press)
    assert said is not None
    assert [message.key for message in said if isinstance(message, Text)] == ["faq.locked"]


def test_a_list_with_an_unknown_topic_names_its_line(tmp_path: Path) -> None:
    listing = tmp_path / "questions.tsv"
    listing.write_text("# staff questions\nลืมรหัสผ่าน\tforgot_password\nเมลเต็ม\tfull\n")
    with pytest.raises(ValueError, match="line 3"):
        read_questions(listing)
