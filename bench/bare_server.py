"""The upper limit: a bare aiohttp server that answers 200 {} to every LINE webhook.

Run: python -m bench.bare_server --port N (GET /healthz answers too).
"""

from __future__ import annotations

import argparse

from aiohttp import web


async def webhook(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--host", default="127.0.0.1")
    arguments.add_argument("--port", type=int, required=True)
    options = arguments.parse_args()
    app = web.Application()
    app.router.add_post("/webhooks/line", webhook)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host=options.host, port=options.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
