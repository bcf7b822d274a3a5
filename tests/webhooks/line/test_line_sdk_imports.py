"""The LINE channel loads only the parts of line-bot-sdk it uses (issue 13: memory, start-up).

Each check runs in a fresh interpreter: this one has imported the SDK's other parts already.
"""

from __future__ import annotations

import json
import subprocess
import sys

UNUSED = ("requests", "linebot.api", "linebot.v3.webhook", "linebot.v3.webhooks")


def _run(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def test_serving_line_leaves_out_the_sdks_v2_client_and_webhook_models() -> None:
    loaded = _run(
        "import json, sys; import webhooks.line.channel, webhooks.line.setup;"
        f"print(json.dumps([m for m in {UNUSED!r} if m in sys.modules]))"
    )

    assert loaded == []


def test_the_sdks_own_names_still_come_on_first_use() -> None:
    names = _run(
        "import json; import webhooks.line.channel; import linebot;"
        "from linebot.v3 import WebhookParser; from linebot.v3.webhooks import MessageEvent;"
        "print(json.dumps([linebot.__version__, WebhookParser.__name__, MessageEvent.__name__,"
        " linebot.v3.messaging.models.TextMessage.__name__]))"
    )

    assert isinstance(names, list)
    assert names[1:] == ["WebhookParser", "MessageEvent", "TextMessage"]
    assert names[0].startswith("3.")


def test_a_name_no_package_defines_is_an_attribute_error() -> None:
    error = _run(
        "import json; import webhooks.line.channel; import linebot.v3\n"
        "try:\n    linebot.v3.no_such_name\nexcept AttributeError as e:\n"
        "    print(json.dumps(type(e).__name__))"
    )

    assert error == "AttributeError"


def test_threads_that_ask_at_once_all_get_the_name() -> None:
    names = _run(
        "import json, threading; import webhooks.line.channel; import linebot.v3\n"
        "ready, got = threading.Barrier(8), []\n"
        "def ask():\n    ready.wait(); got.append(linebot.v3.WebhookParser.__name__)\n"
        "threads = [threading.Thread(target=ask) for _ in range(8)]\n"
        "for thread in threads: thread.start()\n"
        "for thread in threads: thread.join()\n"
        "print(json.dumps(got))"
    )

    assert names == ["WebhookParser"] * 8
