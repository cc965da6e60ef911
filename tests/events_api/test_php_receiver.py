"""A receiver written in PHP the way such controllers are (``json_decode``, a ``foreach`` over the events that
reads ``$event['data']['resource']['identifier']`` with no ``isset``), served by php-cli's built-in server
and fuzzed over real HTTP: the malformed event of a genuine envelope makes it answer 500 after it applied the
events before it (a warning turned exception, as Symfony and Laravel do), and the oracle says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from akeneo_events_testkit.events_api.campaign import CampaignConfig, CampaignResult, run_campaign
from akeneo_events_testkit.events_api.probes import ENVELOPE_PROBES
from akeneo_events_testkit.judging.render import format_violations

from ..support.paths import ROOT
from ..support.php import php_server, requires_php
from ..support.verdicts import without_unconfirmed_slowness

pytestmark = [pytest.mark.php, requires_php]

SECRET = "3ha6eonoa9icsckw8kccos084w0c0000g08g40oo4kww0gc8w4"  # the docs' example secret (facts section 2)
RECEIVER = ROOT / "tests" / "support" / "crash_mid_batch.php"
#: The envelope probes whose malformed event PHP trips on: a missing key is a warning (an exception here), a
#: string event a TypeError, a bad date an exception. A non-UUID event_id, unknown fields and an unknown
#: action (taken for a product update: nothing checks the verb) are read like any other event.
TRIPPING = set(ENVELOPE_PROBES) - {"event_id_not_uuid", "unknown_fields", "unknown_action"}


def fuzz(tmp_path: Path, config: CampaignConfig) -> tuple[CampaignResult, list[str]]:
    """``config`` against a fresh PHP receiver (new state file, new server), once. Returns the result and what
    the receiver says it applied."""
    import httpx

    env = {"AKENEO_EVENTS_SECRET": SECRET, "AKENEO_STATE_FILE": str(tmp_path / "state.json")}
    with php_server(RECEIVER, env) as base:
        result = run_campaign(config, target=f"{base}/webhook", secret=SECRET, state_url=f"{base}/state")
        applied: list[str] = httpx.get(f"{base}/state").json()["applied"]
    return result, applied


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_php_receiver_crashing_mid_batch_is_caught(tmp_path: Path, seed: int) -> None:
    """Identifier profiles only (5.0, 6.0): the controller keys products by ``identifier``, as code of that
    era did."""
    config = CampaignConfig(seed=seed, events=120, profile=("5.0", "6.0")[seed % 2], faults="default", probes=True)
    result, applied = fuzz(tmp_path, config)
    found = without_unconfirmed_slowness(result.verdict.violations)
    assert not result.passed
    assert {v.kind for v in found} == {"server_error"}, format_violations(result.verdict, limit=40)
    crashed = {w["probe"] for v in found for w in v.requests}
    # not JSON or "events" not a list: json_decode gives null, foreach warns; both are 500s too
    assert crashed == TRIPPING | {"not_json", "wrong_shape"}
    assert all(v.received == "HTTP 500" for v in found)
    for record in result.run.truth.requests:
        if record.probe in TRIPPING:
            # the first valid event was applied before the crash, the last one never reached
            assert record.event_ids[0] in applied and record.event_ids[-1] not in applied, record
    assert result.verdict.stats["test_request"] == [200]
    assert result.verdict.stats["events_acknowledged"] > 0
