"""The peer: a LINE form bot written the way line-bot-sdk v3's aiohttp example is written.

WebhookParser checks X-Line-Signature and parses the events; each text, image or postback
moves that user one step on in a dict (in memory, lost on restart) and replies one text
message with AsyncMessagingApi.reply_message before the webhook is answered.

Run: python -m bench.peer_bot --port N --api-url URL --data-api-url URL (the channel secret
and access token come from LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN).
"""

from __future__ import annotations

import argparse
import asyncio
import os

from aiohttp import web
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import (
    Event,
    ImageMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
)

QUESTIONS = 20  # as many as bmabot's staff form, consent to submission


class FormBot:
    def __init__(
        self, parser: WebhookParser, api: AsyncMessagingApi, blob: AsyncMessagingApiBlob
    ) -> None:
        self.parser = parser
        self.api = api
        self.blob = blob
        self.steps: dict[str, int] = {}  # user id -> the next question

    async def callback(self, request: web.Request) -> web.Response:
        signature = request.headers.get("X-Line-Signature", "")
        body = await request.text()
        try:
            events = self.parser.parse(body, signature)
        except InvalidSignatureError:
            return web.Response(status=400, text="Invalid signature")
        for event in events:
            await self.handle(event)
        return web.Response(text="OK\n")

    async def handle(self, event: Event) -> None:
        if isinstance(event, MessageEvent):
            if isinstance(event.message, ImageMessageContent):
                await self.blob.get_message_content(event.message.id)  # keep the photo
            elif not isinstance(event.message, TextMessageContent):
                return
        elif not isinstance(event, PostbackEvent):
            return
        user_id = event.source.user_id if event.source is not None else None
        if user_id is None or event.reply_token is None:
            return
        step = self.steps.get(user_id, 0) + 1
        self.steps[user_id] = step
        text = "Thank you, your request is filed." if step >= QUESTIONS else f"Question {step}"
        request = ReplyMessageRequest(
            reply_token=event.reply_token, messages=[TextMessage(text=text)]
        )
        await self.api.reply_message(request)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def serve(host: str, port: int, api_url: str, data_api_url: str) -> None:
    token = os.environ["LINE_CHANNEL_ACCESS_TOKEN"]
    parser = WebhookParser(os.environ["LINE_CHANNEL_SECRET"])
    async with (
        AsyncApiClient(Configuration(access_token=token, host=api_url)) as api_client,
        AsyncApiClient(Configuration(access_token=token, host=data_api_url)) as data_client,
    ):
        bot = FormBot(parser, AsyncMessagingApi(api_client), AsyncMessagingApiBlob(data_client))
        app = web.Application()
        app.router.add_post("/webhooks/line", bot.callback)
        app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        try:
            await asyncio.Event().wait()  # until SIGTERM/SIGINT ends the process
        finally:
            await runner.cleanup()


def main() -> None:
    arguments = argparse.ArgumentParser(description="the line-bot-sdk peer of the benchmark")
    arguments.add_argument("--host", default="127.0.0.1")
    arguments.add_argument("--port", type=int, required=True)
    arguments.add_argument("--api-url", required=True)
    arguments.add_argument("--data-api-url", required=True)
    options = arguments.parse_args()
    asyncio.run(serve(options.host, options.port, options.api_url, options.data_api_url))


if __name__ == "__main__":
    main()
