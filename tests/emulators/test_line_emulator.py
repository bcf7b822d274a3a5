"""The LINE emulator answers the real line-bot-sdk v3 clients the way LINE does."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexMessage,
    FlexText,
    GroupUserProfileResponse,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.webhooks import (
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    JoinEvent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
)
from PIL import Image
from pydantic.v1 import ValidationError

from tests.emulators.line import (
    LineEmulator,
    check_messages,
    grapheme_count,
    new_id,
    utf16_length,
)

SECRET = "test-channel-secret"
TOKEN = "test-access-token"
USER = new_id("U")
GROUP = new_id("C")


class Seconds:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def seconds() -> Seconds:
    return Seconds()


@pytest.fixture
def line(seconds: Seconds) -> LineEmulator:
    return LineEmulator(channel_secret=SECRET, access_token=TOKEN, clock=seconds)


@pytest.fixture
async def server(line: LineEmulator) -> AsyncIterator[TestServer]:
    async with TestServer(line.app, host="127.0.0.1") as server:
        yield server


@pytest.fixture
async def client(server: TestServer) -> AsyncIterator[AsyncApiClient]:
    host = str(server.make_url("")).rstrip("/")
    async with AsyncApiClient(Configuration(access_token=TOKEN, host=host)) as client:
        yield client


@pytest.fixture
def api(client: AsyncApiClient) -> AsyncMessagingApi:
    return AsyncMessagingApi(client)


@pytest.fixture
async def webhooks(line: LineEmulator) -> AsyncIterator[list[tuple[str, str]]]:
    """A stand-in bot that keeps each webhook's raw body and signature and answers 200."""
    posted: list[tuple[str, str]] = []

    async def keep(request: web.Request) -> web.Response:
        posted.append(((await request.read()).decode(), request.headers["X-Line-Signature"]))
        return web.Response()

    bot = web.Application()
    bot.router.add_post("/webhooks/line", keep)
    async with TestServer(bot, host="127.0.0.1") as server:
        line.webhook_url = str(server.make_url("/webhooks/line"))
        yield posted


def reply(token: str, *messages: TextMessage) -> ReplyMessageRequest:
    return ReplyMessageRequest(reply_token=token, messages=list(messages))


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


async def test_reply_token_works_once(line: LineEmulator, api: AsyncMessagingApi) -> None:
    token = line.make_text_event(USER, "สวัสดี")["replyToken"]
    sent = await api.reply_message(reply(token, TextMessage(text="ครับ")))
    with pytest.raises(ApiException) as error:
        await api.reply_message(reply(token, TextMessage(text="อีกครั้ง")))
    assert len(sent.sent_messages) == 1
    assert (error.value.status, json.loads(error.value.body)) == (
        400,
        {"message": "Invalid reply token"},
    )
    assert line.received(USER) == [{"via": "reply", "message": {"type": "text", "text": "ครับ"}}]


async def test_reply_token_expires_after_a_minute(
    line: LineEmulator, api: AsyncMessagingApi, seconds: Seconds
) -> None:
    token = line.make_text_event(USER, "สวัสดี")["replyToken"]
    seconds.now += 61
    with pytest.raises(ApiException) as error:
        await api.reply_message(reply(token, TextMessage(text="ช้าไป")))
    assert error.value.status == 400
    assert line.received(USER) == []


async def test_reply_to_a_group_event_lands_in_the_group(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    token = line.make_postback_event(USER, "a=approve&app=1", group_id=GROUP)["replyToken"]
    await api.reply_message(reply(token, TextMessage(text="อนุมัติแล้ว")))
    assert (line.texts(GROUP), line.texts(USER)) == (["อนุมัติแล้ว"], [])


async def test_push_with_a_repeated_retry_key_is_409_and_sent_once(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    request, key = PushMessageRequest(to=USER, messages=[TextMessage(text="แจ้ง")]), uuid.uuid4()
    await api.push_message(request, x_line_retry_key=str(key))
    with pytest.raises(ApiException) as error:
        await api.push_message(request, x_line_retry_key=str(key))
    assert error.value.status == 409
    assert line.received(USER) == [{"via": "push", "message": {"type": "text", "text": "แจ้ง"}}]


async def test_text_over_5000_utf16_units_is_rejected(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    text = "🍎" * 2501  # 2,501 characters but 5,002 UTF-16 code units
    with pytest.raises(ApiException) as error:
        await api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text=text)]))
    assert error.value.status == 400
    assert json.loads(error.value.body)["details"][0]["property"] == "messages[0].text"
    assert len(line.violations) == 1
    assert line.received(USER) == []


def test_sdk_refuses_14_quick_reply_items_before_any_http() -> None:
    items = [QuickReplyItem(action=PostbackAction(label=f"{n}", data=f"{n}")) for n in range(14)]
    with pytest.raises(ValidationError, match="ensure this value has at most 13 items"):
        QuickReply(items=items)


async def test_emulator_rejects_14_quick_reply_items_sent_raw(
    line: LineEmulator, server: TestServer
) -> None:
    items = [{"type": "action", "action": {"type": "message", "label": "ก", "text": "ก"}}] * 14
    message = {"type": "text", "text": "เลือก", "quickReply": {"items": items}}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        body = {"to": USER, "messages": [message]}
        async with session.post(server.make_url("/v2/bot/message/push"), json=body) as response:
            assert response.status == 400
    assert line.violations == [
        "POST /v2/bot/message/push: messages[0].quickReply.items: Size must be between 1 and 13"
    ]


@pytest.mark.parametrize(("clusters", "status"), [(20, 200), (21, 400)])
async def test_quick_reply_labels_are_counted_in_thai_grapheme_clusters(
    line: LineEmulator, api: AsyncMessagingApi, clusters: int, status: int
) -> None:
    label = "กี่" * clusters  # ก + sara ii + mai ek: three code points, one cluster
    action = PostbackAction(label=label, data="count")
    message = TextMessage(
        text="เลือก", quick_reply=QuickReply(items=[QuickReplyItem(action=action)])
    )
    try:
        await api.push_message(PushMessageRequest(to=USER, messages=[message]))
        answered = 200
    except ApiException as error:
        answered = error.status
    assert (answered, len(line.violations)) == (status, status // 400)


@pytest.mark.parametrize(
    ("uri", "problems"),
    [
        ("tel:022032751", 0),
        ("https://www.bangkok.go.th/", 0),
        ("line://nv/chat", 0),
        ("javascript:alert(1)", 1),
        ("tel:call-us", 1),
        ("", 1),
    ],
)
def test_uri_actions_open_web_line_or_tel_links_only(uri: str, problems: int) -> None:
    action = {"type": "uri", "label": "โทร", "uri": uri}
    quick_reply = {"items": [{"type": "action", "action": action}]}
    flex = {
        "type": "bubble",
        "footer": {"type": "box", "contents": [{"type": "button", "action": action}]},
    }
    messages = [
        {"type": "text", "text": "ติดต่อ", "quickReply": quick_reply},
        {"type": "flex", "altText": "ติดต่อ", "contents": flex},
    ]
    assert len(check_messages(messages)) == 2 * problems


@pytest.mark.parametrize(
    ("text", "clusters"),
    [("กี่", 1), ("น้ำ", 1), ("เก่ง", 3), ("ที่นี่", 2), ("abc", 3), ("👍🏽", 1), ("👩‍💻", 1)],
)
def test_grapheme_count(text: str, clusters: int) -> None:
    assert grapheme_count(text) == clusters


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert (utf16_length("ก"), utf16_length("🍎")) == (1, 2)


async def test_image_urls_must_be_https(line: LineEmulator, server: TestServer) -> None:
    image = {
        "type": "image",
        "originalContentUrl": "http://x/a.jpg",
        "previewImageUrl": "https://x/p",
    }
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        body = {"to": USER, "messages": [image]}
        async with session.post(server.make_url("/v2/bot/message/push"), json=body) as response:
            assert response.status == 400
    assert len(line.violations) == 1


async def test_flex_alt_text_is_what_texts_shows(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    bubble = FlexBubble(body=FlexBox(layout="vertical", contents=[FlexText(text="รายละเอียด")]))
    flex = FlexMessage(alt_text="คำขอใหม่", contents=bubble)
    await api.push_message(PushMessageRequest(to=GROUP, messages=[flex]))
    assert line.texts(GROUP) == ["คำขอใหม่"]
    line.assert_no_violations()


async def test_message_content_is_the_bytes_the_user_sent(
    line: LineEmulator, client: AsyncApiClient
) -> None:
    photo = png(40, 30)
    message_id = line.make_image_event(USER, photo)["message"]["id"]
    assert await AsyncMessagingApiBlob(client).get_message_content(message_id) == photo


async def test_unknown_message_content_is_404(client: AsyncApiClient) -> None:
    with pytest.raises(ApiException) as error:
        await AsyncMessagingApiBlob(client).get_message_content("1")
    assert error.value.status == 404


def rich_menu() -> RichMenuRequest:
    area = RichMenuArea(
        bounds=RichMenuBounds(x=0, y=0, width=2500, height=843),
        action=PostbackAction(label="สมัคร", data="menu=apply"),
    )
    size = RichMenuSize(width=2500, height=843)
    return RichMenuRequest(
        size=size, selected=True, name="main", chat_bar_text="เมนู", areas=[area]
    )


async def test_rich_menu_is_created_given_an_image_and_made_default(
    line: LineEmulator, api: AsyncMessagingApi, client: AsyncApiClient
) -> None:
    rich_menu_id = (await api.create_rich_menu(rich_menu())).rich_menu_id
    blob = AsyncMessagingApiBlob(client)
    await blob.set_rich_menu_image(rich_menu_id, body=png(2500, 843), _headers=PNG_HEADERS)
    await api.set_default_rich_menu(rich_menu_id)
    assert line.default_rich_menu == rich_menu_id
    assert [m.rich_menu_id for m in (await api.get_rich_menu_list()).richmenus] == [rich_menu_id]


PNG_HEADERS = {"Content-Type": "image/png"}


async def test_rich_menu_image_too_square_is_rejected(
    line: LineEmulator, api: AsyncMessagingApi, client: AsyncApiClient
) -> None:
    rich_menu_id = (await api.create_rich_menu(rich_menu())).rich_menu_id
    with pytest.raises(ApiException) as error:
        await AsyncMessagingApiBlob(client).set_rich_menu_image(
            rich_menu_id, body=png(1200, 1000), _headers=PNG_HEADERS
        )
    assert error.value.status == 400
    assert "1200x1000" in line.violations[0]


async def test_missing_bearer_token_is_401(line: LineEmulator, server: TestServer) -> None:
    host = str(server.make_url("")).rstrip("/")
    async with AsyncApiClient(Configuration(access_token="wrong", host=host)) as client:
        with pytest.raises(ApiException) as error:
            await AsyncMessagingApi(client).get_profile(USER)
    assert error.value.status == 401
    assert line.calls == [("GET", f"/v2/bot/profile/{USER}")]


async def test_loading_animation_is_accepted_for_a_user(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    await api.show_loading_animation(ShowLoadingAnimationRequest(chat_id=USER, loading_seconds=20))
    assert line.loading == [(USER, 20)]


async def test_loading_animation_in_a_group_is_rejected(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    request = ShowLoadingAnimationRequest(chat_id=GROUP, loading_seconds=7)
    with pytest.raises(ApiException):
        await api.show_loading_animation(request)
    assert len(line.violations) == 2  # a group chat, and 7 is not a step of 5


async def test_profiles_are_settable_and_unknown_users_are_404(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    line.profiles[USER] = "สมชาย"
    member = await api.get_group_member_profile(GROUP, USER)
    with pytest.raises(ApiException) as error:
        await api.get_profile(new_id("U"))
    assert member == GroupUserProfileResponse(display_name="สมชาย", user_id=USER)
    assert error.value.status == 404


async def test_scripted_failures_come_first_then_normal_answers(
    line: LineEmulator, api: AsyncMessagingApi
) -> None:
    line.fail_next("/v2/bot/message/push", status=429, body={"message": "limit"}, times=2)
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="ลองใหม่")])
    statuses = []
    for _ in range(3):
        try:
            await api.push_message(request)
            statuses.append(200)
        except ApiException as error:
            statuses.append(error.status)
    assert statuses == [429, 429, 200]
    assert line.texts(USER) == ["ลองใหม่"]


EVENT_KINDS = {
    "text": (lambda line: line.send_text(USER, "สวัสดี"), MessageEvent, TextMessageContent),
    "group text": (
        lambda line: line.send_text(USER, "สวัสดี", group_id=GROUP),
        MessageEvent,
        TextMessageContent,
    ),
    "image": (lambda line: line.send_image(USER, png(8, 8)), MessageEvent, ImageMessageContent),
    "file": (
        lambda line: line.send_file(USER, "บัตร.pdf", b"%PDF-1.4"),
        MessageEvent,
        FileMessageContent,
    ),
    "sticker": (lambda line: line.send_sticker(USER), MessageEvent, StickerMessageContent),
    "postback": (
        lambda line: line.postback(USER, "a=approve", group_id=GROUP),
        PostbackEvent,
        None,
    ),
    "follow": (lambda line: line.follow(USER), FollowEvent, None),
    "unfollow": (lambda line: line.unfollow(USER), UnfollowEvent, None),
    "join": (lambda line: line.join(GROUP), JoinEvent, None),
}


@pytest.mark.parametrize("kind", EVENT_KINDS)
async def test_webhook_events_parse_with_the_sdk(
    line: LineEmulator, webhooks: list[tuple[str, str]], kind: str
) -> None:
    act, event_class, content_class = EVENT_KINDS[kind]
    status, _ = await act(line)
    # A malformed event does not raise: the SDK turns it into UnknownEvent, so check the class.
    [event] = WebhookParser(SECRET).parse(*webhooks[0])
    assert status == 200
    assert type(event) is event_class
    assert content_class is None or type(event.message) is content_class


async def test_redelivery_keeps_the_event_id_with_a_stale_token(
    line: LineEmulator, webhooks: list[tuple[str, str]], api: AsyncMessagingApi
) -> None:
    _, first = await line.send_text(USER, "สวัสดี")
    await line.redeliver(first)
    [again] = WebhookParser(SECRET).parse(*webhooks[1])
    assert again.webhook_event_id == first["webhookEventId"]
    assert again.delivery_context.is_redelivery
    with pytest.raises(ApiException):
        await api.reply_message(reply(again.reply_token, TextMessage(text="ช้าไป")))


async def test_a_wrong_signature_fails_verification(
    line: LineEmulator, webhooks: list[tuple[str, str]]
) -> None:
    await line.post_events([line.make_text_event(USER, "ก")], signature="bm90IGl0")
    with pytest.raises(InvalidSignatureError):
        WebhookParser(SECRET).parse(*webhooks[0])
