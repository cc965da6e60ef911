"""The Events API summary names what matters first: diagnoses from plain evidence, kinds by harm with their
fix, the first of each kind in full, the per-probe table (issue 15 items 1 and 2)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.events_api.probes import PROBE_KINDS
from akeneo_events_testkit.events_api.summary import render_result
from akeneo_events_testkit.judging.diagnose import diagnose
from akeneo_events_testkit.judging.history import History, HistoryRequest
from akeneo_events_testkit.judging.observation import parse_observation
from akeneo_events_testkit.judging.render import witness_line
from akeneo_events_testkit.judging.verdict import KIND_FIX, harm_rank
from akeneo_events_testkit.report import junit_xml

from ..support.gallery import GalleryReceiver, no_signature_check

SECRET = "summary-secret-0123456789"
ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


def _config(**options: Any) -> CampaignConfig:
    return CampaignConfig(seed=7, events=60, settle_timeout=0.0, **options)


def _run(app: Any, observe: Callable[[], Mapping[str, Any]], **options: Any) -> CampaignResult:
    return run_campaign(_config(**options), target=app, secret=SECRET, observe=observe)


def _answering(status: int, body: bytes) -> ASGIApp:
    """An app that answers every request ``status`` with ``body``, and records nothing."""

    async def app(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                  send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})

    return app


def _empty() -> dict[str, Any]:
    return {"applied": [], "resources": {}}


def _causes(result: CampaignResult) -> list[str]:
    return [d["cause"] for d in result.verdict.stats["diagnoses"]]


def test_a_wrong_secret_is_diagnosed_and_the_answer_body_shown_redacted() -> None:
    """Every genuine request refused with 401: "check the secret", before the violations; the first witness
    shows the answer's body, the secret the receiver echoed redacted."""
    result = _run(_answering(401, f"bad signature for secret {SECRET}".encode()), _empty)
    assert _causes(result) == ["check_the_secret", "test_request_refused"]
    text = result.failure_text()
    causes, violations = text.index("Likely causes:"), text.index("The first of each kind:")
    assert causes < violations and "check the secret" in text[causes:violations]
    assert 'answer body: "bad signature for secret [redacted]"' in text
    assert SECRET not in text and SECRET not in json.dumps(result.report(), default=str)


def test_a_wrong_path_is_diagnosed() -> None:
    result = _run(_answering(404, b"<html>Not Found</html>"), _empty)
    assert "check_the_path" in _causes(result) and "check_the_secret" not in _causes(result)
    assert "check the path of --url" in result.failure_text()
    assert 'answer body: "<html>Not Found</html>"' in result.failure_text()


def test_a_receiver_that_records_nothing_is_diagnosed() -> None:
    """Acknowledged, yet an empty observation: the observation contract is named, not dozens of event_lost
    alone; a refused body is not kept for 2xx answers."""
    result = _run(_answering(200, b"ok"), _empty)
    assert _causes(result) == ["not_recording"]
    assert "the receiver does not record what it applies: see the observation contract" in result.failure_text()
    assert all("body" not in w for v in result.verdict.violations for w in v.requests)


def test_a_correct_receiver_gets_no_diagnosis_and_every_probe_ok() -> None:
    receiver = GalleryReceiver(SECRET)
    result = _run(receiver.asgi(), receiver.observation)
    assert result.passed and result.verdict.stats["diagnoses"] == []
    table = result.verdict.stats["probe_table"]
    assert table and {row["verdict"] for row in table} == {"ok"}
    assert {row["family"] for row in table} <= {k.family for k in PROBE_KINDS.values()}


def test_without_a_signature_check_forged_accepted_comes_first() -> None:
    """A receiver that checks no signature and records nothing: many event_lost, few forged_accepted, yet
    the authenticity failure leads the headline, the kind lines and the violations."""
    inner = no_signature_check(SECRET)
    result = _run(inner.asgi(), _empty)
    counts = result.verdict.counts()
    assert counts["event_lost"] > counts["forged_accepted"] > 0
    text = result.failure_text()
    headline = text.splitlines()[0]
    assert headline.split(": ", 1)[1].startswith("forged_accepted x")
    kinds_at = text.index("By kind, most harmful first:")
    first_kind = text[kinds_at:].splitlines()[1].split()
    assert first_kind[:1] == ["forged_accepted"] and " ".join(first_kind[3:]) == "fix: " + KIND_FIX["forged_accepted"]
    assert text.index("1. [error] forged_accepted") < text.index("[error] event_lost")
    ranks = [harm_rank(v.kind) for v in result.verdict.errors]
    assert ranks == sorted(ranks)  # the JSON report's order too
    # the per-probe table names the forged probes it accepted
    flagged = {row["probe"] for row in result.verdict.stats["probe_table"] if "forged_accepted" in row["verdict"]}
    assert flagged and flagged <= {name for name, k in PROBE_KINDS.items() if k.family == "authenticity"}


def test_the_hint_for_the_rest_names_the_report_only_when_written() -> None:
    result = _run(_answering(200, b"ok"), _empty)
    assert len(result.verdict.violations) > 20
    assert "(write them all with --report FILE.json)" in result.failure_text()
    assert "see the JSON report" not in result.failure_text()
    assert "(see the JSON report out.json)" in result.failure_text(report="out.json")


def test_the_summary_json_and_junit_carry_the_probe_table_and_diagnoses() -> None:
    result = _run(_answering(401, b"no"), _empty)
    summary = render_result(result)
    assert "Probes (each crafted request, what it got, what was judged):" in summary
    rows = result.report()["probe_table"]
    assert len(rows) == result.verdict.stats["probes"]
    assert all(row["answer"] == "HTTP 401" for row in rows)
    first = rows[0]
    assert any(line.split()[:3] == [first["probe"], first["family"], "HTTP"] for line in summary.splitlines())
    report = result.report()
    assert [d["cause"] for d in report["diagnoses"]] == _causes(result)
    assert report["kinds"][0]["kind"] == "rejected_valid" and report["kinds"][0]["fix"] == KIND_FIX["rejected_valid"]
    xml = junit_xml(result)
    assert "check the secret" in xml and first["probe"] in xml and "fix: " in xml


def _request(seq: int, *, status: int | None, timed_out: bool = False) -> HistoryRequest:
    return HistoryRequest(seq=seq, event_ids=(f"e{seq}",), status=status, latency=0.6 if timed_out else 0.01,
                          reason="timeout" if timed_out else "", timed_out=timed_out, broken=timed_out,
                          refusal=None, probe=None, witness={"request": seq, "events": [f"e{seq}"]})


def test_every_request_timing_out_is_diagnosed_and_one_answer_is_enough_to_not() -> None:
    """Pure function of the history: every genuine request timed out names the cause; one answered in time
    (or a mix of statuses) names nothing."""
    empty = parse_observation({"applied": [], "resources": {}})
    timed_out = History({}, [_request(n, status=None, timed_out=True) for n in range(3)], {}, 0.5)
    assert [d["cause"] for d in diagnose(timed_out, empty, {})] == ["all_timed_out"]
    assert "no answer within 0.5 s" in diagnose(timed_out, empty, {})[0]["message"]
    mixed = History({}, [*timed_out.requests, _request(3, status=200)], {}, 0.5)
    assert diagnose(mixed, empty, {}) == []
    refused = History({}, [_request(0, status=401), _request(1, status=404)], {}, 0.5)
    assert diagnose(refused, empty, {}) == []  # neither all 401/403 nor all 404/405: no named cause


def test_a_cut_witness_never_hides_the_flagged_event() -> None:
    witness = {"request": 5, "events": [f"e{n}" for n in range(9)], "status": 200, "outcome": "sent",
               "time": "2026-01-01T00:00:00+00:00", "body": "x"}
    cut = witness_line(witness, flagged={"e7"})
    assert cut == "#5 -> 200 [e0, e1, e2, e3, e7, ... (9 events)]"
    full = witness_line(witness, full=True)
    assert full.splitlines()[0] == "#5 -> 200 at 2026-01-01T00:00:00+00:00 [" + ", ".join(witness["events"]) + "]"
    assert full.splitlines()[1].strip() == 'answer body: "x"'
