"""`bmabot keys rotate|status`: move every stored ciphertext to the current key version."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from core.audit.chain import ChainKey
from core.settings import Settings, require_secret_key, secret_keys
from core.storage.key_rotation import (
    COLUMNS,
    DOCUMENTS,
    NATIONAL_IDS,
    Rotation,
    key_versions,
    rotate_keys,
)
from webhooks.admin.arguments import add_command
from webhooks.admin.commands import describe_verdict
from webhooks.compose import open_services

STORES = (*(column.name for column in COLUMNS), NATIONAL_IDS, DOCUMENTS)


def add_keys_parser(commands: Any) -> None:
    keys = add_command(
        commands,
        "keys",
        summary="encryption keys: rotate to a new key, or status",
        description="""
            What is stored encrypted (conversations, events, messages, national IDs, the
            document files) under which version of the secret key, and moving it all to a
            new one (docs/deploy.md).
        """,
        examples=["bmabot keys status", "bmabot keys rotate"],
    )
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_command(
        actions,
        "rotate",
        summary="re-encrypt everything stored under BMABOT_SECRET_KEY (version "
        "BMABOT_KEY_VERSION), reading the old data with BMABOT_OLD_SECRET_KEYS; safe to run again",
        description="""
            Re-encrypt everything stored under BMABOT_SECRET_KEY (version
            BMABOT_KEY_VERSION), reading the old data with BMABOT_OLD_SECRET_KEYS, and
            re-seal the audit chain. The server may keep running; a run cut short is
            finished by running it again.
        """,
        examples=[
            "BMABOT_KEY_VERSION=2 BMABOT_OLD_SECRET_KEYS=1:OLDKEY bmabot keys rotate",
        ],
    )
    add_command(
        actions,
        "status",
        summary="how much is stored under each key version",
        description="How many rows and files are stored under each key version.",
        examples=["bmabot keys status"],
    )


async def keys_command(settings: Settings, args: argparse.Namespace) -> int:
    key = require_secret_key(settings)
    keys = secret_keys(settings, key)
    async with open_services(settings, secret_key=key) as services:
        if args.action == "status":
            versions = await key_versions(services.sessions, services.documents)
            print("\n".join(describe_versions(versions, services.vault.version)))
            return 0
        print(f"re-encrypting under key version {services.vault.version}…", flush=True)
        rotation = await rotate_keys(
            services.sessions,
            services.vault,
            services.documents,
            [ChainKey(secret) for secret in (keys.current, *keys.old.values())],
            now=services.clock.now(),
        )
    print("\n".join(describe_rotation(rotation)))
    return 0 if rotation.complete else 1


def describe_rotation(rotation: Rotation) -> list[str]:
    lines = [
        f"{name:<14} {rotation.moved[name]:>7} re-encrypted, {rotation.current[name]:>7} "
        f"under version {rotation.version} already"
        for name in STORES
    ]
    if rotation.audit_broken is not None:
        lines.append(
            f"audit trail NOT sealed again: {describe_verdict(rotation.audit_broken)}; "
            "its rows keep verifying only with the old key: keep it until this is looked into"
        )
    else:
        lines.append(f"audit trail: checked, {rotation.audit_resealed} row(s) sealed again")
    if rotation.digests_without_id:
        lines.append(
            f"{rotation.digests_without_id} national-ID digest(s) of requests whose ID was "
            "erased stay under their old key (they only linked a person's earlier requests)"
        )
    if rotation.unreadable:
        lines.append(
            f"{len(rotation.unreadable)} item(s) decrypt under no key given "
            "(add the key they were made with to BMABOT_OLD_SECRET_KEYS and run again):"
        )
        lines += [f"  {item}" for item in rotation.unreadable]
    if not rotation.complete:
        return lines
    lines.append(
        f"done: everything is under key version {rotation.version}; "
        "BMABOT_OLD_SECRET_KEYS may now be removed"
    )
    return lines


def describe_versions(versions: dict[str, Counter[int]], current: int) -> list[str]:
    lines = []
    for name in STORES:
        found = versions.get(name, Counter())
        counts = ", ".join(f"version {v}: {n}" for v, n in sorted(found.items())) or "none"
        lines.append(f"{name:<14} {counts}")
    old = sum(n for found in versions.values() for v, n in found.items() if v != current)
    lines.append(
        f"{old} item(s) under other versions than {current}"
        + ("; run `bmabot keys rotate`" if old else "")
    )
    return lines
