"""/metrics and the details of /healthz: only for the listed addresses or the bearer token;
a load balancer anywhere still gets the bare status."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

from core.clock import ManualClock
from core.settings import SettingsError, load_settings
from tests.webhooks.line_world import line_world

TOKEN = "metrics-token-for-the-suite-only-Zk3v9QmT2xLp"
BARE = {"status": "ok"}


async def test_this_machine_reads_everything_by_default(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with (
        line_world(database_url, tmp_path / "data", clock) as world,
        aiohttp.ClientSession(world.url) as client,
    ):
        async with client.get("/metrics") as metrics:
            assert metrics.status == 200
            assert "bmabot_inbox_pending" in await metrics.text()
        async with client.get("/healthz") as health:
            assert "inbox_pending" in await health.json()


async def test_an_address_not_listed_gets_403_and_the_bare_health_status(
    database_url: str, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        line_world(database_url, tmp_path / "data", clock, metrics_allow="10.0.0.0/8") as world,
        aiohttp.ClientSession(world.url) as client,
    ):
        with caplog.at_level(logging.WARNING, logger="bmabot.security"):
            async with client.get("/metrics") as metrics:
                assert (metrics.status, await metrics.text()) == (403, "forbidden")
        async with client.get("/healthz") as health:
            assert (health.status, await health.json()) == (200, BARE)
    assert "security event=metrics_refused path=/metrics remote=127.0.0.1" in caplog.messages


async def test_the_bearer_token_opens_both_from_anywhere(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    async with (
        line_world(
            database_url, tmp_path / "data", clock, metrics_allow="10.0.0.0/8", metrics_token=TOKEN
        ) as world,
        aiohttp.ClientSession(world.url) as client,
    ):
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with client.get("/metrics", headers=bearer) as metrics:
            assert metrics.status == 200
        async with client.get("/healthz", headers=bearer) as health:
            assert "jobs_failed" in await health.json()
        wrong = {"Authorization": f"Bearer {TOKEN[:-1]}x"}
        async with client.get("/metrics", headers=wrong) as metrics:
            assert metrics.status == 403


async def test_through_a_reverse_proxy_only_the_token_counts(
    database_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    """nginx on this machine: the peer is 127.0.0.1 whoever called; it says so in a header."""
    async with (
        line_world(database_url, tmp_path / "data", clock, metrics_token=TOKEN) as world,
        aiohttp.ClientSession(world.url) as client,
    ):
        proxied = {"X-Forwarded-For": "203.0.113.9"}
        async with client.get("/metrics", headers=proxied) as metrics:
            assert metrics.status == 403
        async with client.get("/healthz", headers=proxied) as health:
            assert await health.json() == BARE
        with_token = proxied | {"Authorization": f"Bearer {TOKEN}"}
        async with client.get("/metrics", headers=with_token) as metrics:
            assert metrics.status == 200


def test_the_allow_list_is_checked_at_start() -> None:
    with pytest.raises(SettingsError, match="BMABOT_METRICS_ALLOW: a comma list of addresses"):
        load_settings(metrics_allow="127.0.0.1,localhost")
    assert load_settings(metrics_allow=" 10.0.0.0/8 , ::1").metrics_allow == "10.0.0.0/8,::1"
