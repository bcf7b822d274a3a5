"""The benchmark's table (Markdown) and its record (JSON) in bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Result = dict[str, Any]
RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = (
    "cell",
    "acks/s",
    "ack p50/p99 ms",
    "turns/s",
    "turn p50/p99 ms",
    "backlog",
    "drain s",
    "CPU ms/turn",
    "RSS MB",
    "5xx",
    "locked",
    "log errors",
    "form walked",
    "turns ÷ peer",
    "acks ÷ bare",
)
APPROVAL_COLUMNS = (
    "cell",
    "accounts/s",
    "first → last SMS s",
    "worker CPU ms/account",
    "slapd CPU ms/account",
    "PostgreSQL CPU ms/account",
    "worker RSS MB",
    "entries / SMS / jobs done",
    "once each",
    "log errors",
    "first SMS after start s",
    "prepare s",
)


def add_ratios(results: list[Result]) -> None:
    """bmabot turns/s over the peer's, and every ack rate over the bare server's, at equal c."""
    by_c: dict[tuple[str, int], Result] = {
        (r["server"], r["concurrency"]): r for r in results if "error" not in r
    }
    for result in results:
        if "error" in result:
            continue
        peer = by_c.get(("peer", result["concurrency"]))
        bare = by_c.get(("bare", result["concurrency"]))
        if result["server"] == "bmabot" and peer and peer["turns_per_s"]:
            result["turns_vs_peer"] = round(result["turns_per_s"] / peer["turns_per_s"], 3)
        if result["server"] != "bare" and bare and bare["acks_per_s"]:
            result["acks_vs_bare"] = round(result["acks_per_s"] / bare["acks_per_s"], 3)


def table(results: list[Result]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(" --- " for _ in COLUMNS) + "|"]
    for r in results:
        if "error" in r:
            cells = [
                r["cell"],
                f"failed: {r['error']}"[:200].replace("|", "\\|"),
                *[""] * (len(COLUMNS) - 2),
            ]
        else:
            cells = _row(r)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _row(r: Result) -> list[str]:
    bare = r["server"] == "bare"
    bmabot = r["server"] == "bmabot"
    drain = "—" if bare else _num(r["drain_s"])
    if r["not_drained"]:
        drain = f"not drained ({r['not_drained']} left)"
    cpu = _num(r["cpu_ms_per_turn"]) + (" /ack" if bare else "")
    name = r["cell"] + (
        f" (users done in {r['duration_s']:.1f} s)" if r["ran_out_of_users"] else ""
    )
    return [
        name,
        _num(r["acks_per_s"]),
        f"{_num(r['ack_p50_ms'])} / {_num(r['ack_p99_ms'])}",
        "—" if bare else _num(r["turns_per_s"]),
        "—" if bare else f"{_num(r['turn_p50_ms'])} / {_num(r['turn_p99_ms'])}",
        "—" if bare else str(r["backlog"]),
        drain,
        cpu,
        _num(r["rss_mb"]),
        str(r["http_5xx"]),
        str(r["db_locked"]) if bmabot else "—",
        str(r["log_errors"]),
        _form(r) if bmabot else "—",
        _num(r.get("turns_vs_peer")),
        _num(r.get("acks_vs_bare")),
    ]


def approvals_table(results: list[Result]) -> str:
    """The approvals cells: accounts made by one `bmabot worker`, LDAP and SMS included."""
    columns = APPROVAL_COLUMNS
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    for r in results:
        if "error" in r:
            failed = f"failed: {r['error']}"[:200].replace("|", "\\|")
            cells = [r["cell"], failed, *[""] * (len(columns) - 2)]
        elif "skipped" in r:
            cells = [r["cell"], f"skipped: {r['skipped']}", *[""] * (len(columns) - 2)]
        else:
            cells = _approvals_row(r)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _approvals_row(r: Result) -> list[str]:
    done = r.get("jobs", {}).get("done", 0)
    once = "yes" if r.get("once_each") else "NO: " + "; ".join(r.get("check_failures", []))
    return [
        r["cell"],
        _num(r.get("accounts_per_s")),
        _num(r.get("run_s")),
        _num(r.get("cpu_ms_per_account")),
        _num(r.get("slapd_cpu_ms_per_account")),
        _num(r.get("postgres_cpu_ms_per_account")),
        _num(r.get("rss_mb")),
        f"{r.get('ldap_entries', 0)} / {r.get('sms_received', 0)} / {done}",
        once.replace("|", "\\|"),
        str(r.get("log_errors", "—")),
        _num(r.get("first_sms_s")),
        _num(r.get("prepare_s")),
    ]


def _form(r: Result) -> str:
    """The pilot's reference, and how far the load's applicants got (steps to filing)."""
    load = f"load: {r['filed']} filed, step ≤ {r['deepest_step']}/{r['steps']}"
    return f"pilot {r['pilot']['reference']}; {load}"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def document(results: list[Result], setup: Result, approvals: list[Result] | None = None) -> str:
    versions = sorted({str(r["code"]) for r in [*results, *(approvals or [])] if r.get("code")})
    code = f"- bmabot code: {', '.join(versions) or 'not run'}"
    heading = f"# bmabot launch-day benchmark\n\n{setup['when']} · {setup['machine']}"
    text = "\n"
    if results or not approvals:
        heading += (
            f" · {setup['users']} users · {setup['duration']} s of load per cell · "
            f"driver: {setup['driver']}"
        )
        notes = "\n".join(f"- {note}" for note in setup["notes"])
        text = "\n\n" + table(results) + "\n\n" + notes + "\n" + code + "\n"
    if approvals:
        notes = "\n".join(f"- {note}" for note in setup.get("approval_notes", []))
        text += f"\n## Approvals: {setup.get('accounts')} approved requests per cell\n\n"
        text += approvals_table(approvals) + "\n\n" + notes + "\n"
        text += "" if results else code + "\n"
    return heading + text


def write(
    results: list[Result],
    setup: Result,
    folder: Path = RESULTS,
    approvals: list[Result] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.md").write_text(document(results, setup, approvals), encoding="utf-8")
    record: Result = {"setup": setup, "cells": results}
    if approvals is not None:
        record["approvals"] = approvals
    text = json.dumps(record, ensure_ascii=False, indent=2)
    (folder / "latest.json").write_text(text + "\n", encoding="utf-8")
    return folder / "latest.md"
