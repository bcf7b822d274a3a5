"""The arguments and `--help` of the `bmabot` commands that live in webhooks/ itself: serving,
channel set-up, jobs, the audit trail and accounts (the others declare theirs in admin/)."""

from __future__ import annotations

from typing import Any

from webhooks.admin.arguments import add_command


def add_serving_parsers(commands: Any) -> None:
    serve = add_command(
        commands,
        "serve",
        summary="the production server (webhooks, health, metrics)",
        description="""
            Serve the LINE and Telegram webhooks, /healthz, /metrics and the signed /media
            links of document images, and (unless told otherwise) handle the stored events
            and run the job worker in the same process. Stops gracefully on SIGTERM.

            Needs BMABOT_SECRET_KEY and BMABOT_REVIEWERS; LINE with
            BMABOT_LINE_CHANNEL_SECRET and BMABOT_LINE_CHANNEL_ACCESS_TOKEN, Telegram with
            BMABOT_TELEGRAM_BOT_TOKEN.
        """,
        examples=[
            "bmabot serve",
            "bmabot serve --no-worker   # with `bmabot worker` processes elsewhere",
            "bmabot serve --receive-only   # only store events; other processes handle them",
        ],
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="run no job worker here (run `bmabot worker` elsewhere)",
    )
    serve.add_argument(
        "--receive-only",
        action="store_true",
        help="only acknowledge and store events; other processes handle them",
    )
    add_command(
        commands,
        "worker",
        summary="the job worker alone, for scale-out",
        description="""
            Run the durable jobs alone (accounts in the directory, SMS, review cards, the
            morning round), beside `bmabot serve --no-worker` on the same PostgreSQL
            database. Stops gracefully on SIGTERM; needs BMABOT_SECRET_KEY.
        """,
        examples=["bmabot worker"],
    )
    demo = add_command(
        commands,
        "demo",
        summary="everything on this machine, with a web simulator",
        description="""
            The whole service on this machine with no setting: SQLite, photos and a key in
            ./var/demo, an in-memory directory and SMS in ./var/demo/sms-outbox.jsonl. The
            page shows an applicant's chat, the reviewers' group, the SMS sent and the
            accounts made.
        """,
        examples=["bmabot demo --open", "bmabot demo --port 8081"],
    )
    demo.add_argument("--port", type=int, default=8080, help="where to serve (default 8080)")
    demo.add_argument("--open", action="store_true", help="open the page in a web browser")
    chat = add_command(
        commands,
        "chat",
        summary="try the Thai application form in this terminal",
        description="""
            The same Thai dialogue in this terminal, with the job worker in-process. It needs
            no setting and keeps its database, photos, key and SMS outbox in ./var/chat,
            shared with `bmabot chat --review` in another terminal. Type a button's number to
            press it, a file's path to send that photo; Ctrl-D ends.
        """,
        examples=[
            "bmabot chat",
            "bmabot chat --user somchai",
            "bmabot chat --review   # in a second terminal: the reviewers' group",
        ],
    )
    chat.add_argument("--user", default=None, help="who you are in the chat (default: your login)")
    chat.add_argument(
        "--review",
        action="store_true",
        help="sit in the reviewers' group instead (open another terminal to apply)",
    )


def add_setup_parsers(commands: Any) -> None:
    db = _group(
        commands,
        "db",
        summary="database maintenance",
        description="The database of BMABOT_DATABASE_URL (SQLite or PostgreSQL).",
        examples=["bmabot db upgrade"],
    )
    add_command(
        db,
        "upgrade",
        summary="apply the migrations",
        description="""
            Create the tables, or bring them up to date after an upgrade of bmabot. Safe to
            run again; every command that opens the database does it at start too.
        """,
        examples=["bmabot db upgrade"],
    )
    line = _group(
        commands,
        "line",
        summary="LINE Official Account set-up",
        description="Set up the LINE Official Account given by BMABOT_LINE_CHANNEL_ACCESS_TOKEN.",
        examples=["bmabot line richmenu"],
    )
    add_command(
        line,
        "richmenu",
        summary="create the rich menu and make it the default",
        description="""
            Draw the rich menu under the chat (apply, status, support, terms, change of
            responsible person, rights; Thai labels from the catalog, drawn with the font
            the package carries), upload it and make it every user's default. Run it once,
            and again after the labels change.
        """,
        examples=["bmabot line richmenu"],
    )
    telegram = _group(
        commands,
        "telegram",
        summary="Telegram bot set-up and long polling",
        description="The Telegram bot given by BMABOT_TELEGRAM_BOT_TOKEN.",
        examples=["bmabot telegram set-webhook", "bmabot telegram poll"],
    )
    add_command(
        telegram,
        "set-webhook",
        summary="send updates to BMABOT_PUBLIC_URL and set the Thai command list",
        description="""
            Tell Telegram to send the bot's updates to BMABOT_PUBLIC_URL/webhooks/telegram,
            signed with BMABOT_TELEGRAM_WEBHOOK_SECRET, and set the Thai command list of the
            bot's menu button. Run it once, before `bmabot serve`.
        """,
        examples=["bmabot telegram set-webhook"],
    )
    add_command(
        telegram,
        "poll",
        summary="serve Telegram by long polling (no public https address needed)",
        description="""
            Serve Telegram by asking for updates (long polling) instead of a webhook: for a
            machine without a public https address. Removes a webhook set before; needs
            BMABOT_SECRET_KEY and BMABOT_REVIEWERS as `bmabot serve` does.
        """,
        examples=["bmabot telegram poll"],
    )


def add_admin_parsers(commands: Any) -> None:
    jobs = add_command(
        commands,
        "jobs",
        summary="list pending and failed jobs, or retry one",
        description="""
            The durable jobs (accounts, SMS, cards, directory changes): list those pending
            or failed, with their last error, or put one that failed for good back in the
            queue once its cause is fixed.
        """,
        examples=["bmabot jobs", "bmabot jobs list --all", "bmabot jobs retry 42"],
    )
    jobs.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    jobs.add_argument("job_id", nargs="?", type=int, help="the job to retry")
    jobs.add_argument("--all", action="store_true", help="running jobs too")
    audit = add_command(
        commands,
        "audit",
        summary="the audit trail of one application (show), or check its hash chain",
        description="""
            show: every recorded event of one request, with who did it (the platform id)
            and when (UTC). verify: check the HMAC chain of the whole audit trail; it names
            the first row changed, deleted or slipped in, and exits 1.
        """,
        examples=["bmabot audit --ref A69-00042", "bmabot audit verify"],
    )
    audit.add_argument("action", nargs="?", choices=["show", "verify"], default="show")
    audit.add_argument("--ref", help="show: the reference, such as A69-00042")
    accounts = add_command(
        commands,
        "accounts",
        summary="suspend or lift an account (rule 2.9)",
        description="""
            Suspend an account (rule 2.9) or lift a suspension. It is recorded at once; the
            directory lock, the person's chat notice and a Thai SMS follow as jobs, retried
            while the directory or the SMS gateway is down.
        """,
        examples=[
            'bmabot accounts suspend somchai.j --reason "ลาออกจากราชการ"',
            "bmabot accounts unsuspend somchai.j",
        ],
    )
    accounts.add_argument("action", choices=["suspend", "unsuspend"])
    accounts.add_argument("uid", help="the user name, such as somchai.j")
    accounts.add_argument("--reason", default="-", help="why (the user is told)")


def _group(commands: Any, name: str, **described: Any) -> Any:
    """A command made of sub-commands (`bmabot db upgrade`): its own help, then theirs."""
    group = add_command(commands, name, **described)
    return group.add_subparsers(dest="action", required=True, metavar="ACTION")
