"""The ``akeneo-events`` command: thin wrappers that parse options and call the layers below.

Exit codes: 0 success, 1 a check failed (invalid payload, signature mismatch, receiver violations),
2 a usage error (bad option, unreadable file, unknown profile, unreachable receiver).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ..errors import KitError, UsageError
from ..versions import PROFILES

SECRET_ENV = "AKENEO_EVENTS_SECRET"
MAX_FILE = 10 * 1024 * 1024
PROFILE_CHOICES = sorted(PROFILES)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _profile(value: str) -> str:
    from ..versions import get_profile

    try:
        return get_profile(value).name
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _validate_profile(value: str) -> str:
    """``validate`` also takes the Event Platform profile (event-platform-facts.md section 1)."""
    from ..event_platform.wire import PROFILE_NAME

    return PROFILE_NAME if value.strip().lower() == PROFILE_NAME else _profile(value)


def _fuzz_profile(value: str) -> str:
    """A PIM version, or ``event-platform`` (the Events API's successor, event-platform-facts.md)."""
    from ..event_platform.wire import PROFILE_NAME

    return PROFILE_NAME if value.lower() in (PROFILE_NAME, "ep") else _profile(value)


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: pass 0 or more")
    return number


def _positive(value: str) -> int:
    number = _non_negative(value)
    if number == 0:
        raise argparse.ArgumentTypeError("pass 1 or more")
    return number


def _timestamp(value: str) -> str:
    if not (value.isascii() and value.isdigit()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a Unix timestamp (decimal seconds, e.g. 1577836800)")
    return value


def _read_input(name: str) -> bytes:
    """The file's exact bytes (``-`` is standard input); unreadable files are usage errors."""
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_FILE + 1)
        else:
            with open(name, "rb") as handle:
                data = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return data


def _secret(args: argparse.Namespace, *, required: bool = True) -> str | None:
    secret = args.secret or os.environ.get(SECRET_ENV)
    if required and not secret:
        raise UsageError(f"pass --secret or set {SECRET_ENV}")
    return secret or None


# -- validate, sign, verify -------------------------------------------------------------------------------

def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from ..schemas import validate_bytes

    status = 0
    for name in args.files:
        data = _read_input(name)
        issues = validate_bytes(data, profile=args.profile, uuid_mode=args.uuid_mode, strict=args.strict)
        if issues:
            status = 1
            for issue in issues:
                out.write(f"{name}: {issue}\n")
        else:
            out.write(f"{name}: ok\n")
    return status


def _signing_timestamp(args: argparse.Namespace) -> str | None:
    """Events API: ``--timestamp`` is required; Event Platform: none is signed (facts section 2)."""
    if args.profile == "event-platform":
        if args.timestamp is not None:
            raise UsageError("the Event Platform signs the raw body alone: drop --timestamp")
        return None
    if args.timestamp is None:
        raise UsageError("pass --timestamp: the X-Akeneo-Request-Timestamp the body was (or is to be) sent with "
                         "(or --profile event-platform, which signs the body alone)")
    return str(args.timestamp)


def cmd_sign(args: argparse.Namespace, out: TextIO) -> int:
    from ..event_platform.signing import sign_body
    from ..events_api.signing import sign

    secret = _secret(args)
    assert secret is not None
    timestamp = _signing_timestamp(args)
    body = _read_input(args.file)
    out.write((sign_body(secret, body) if timestamp is None else sign(secret, timestamp, body)) + "\n")
    return 0


def cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    from ..event_platform.signing import ALGORITHM, ALGORITHM_HEADER, PRIMARY_HEADER, verify_ep
    from ..events_api.signing import verify_signature

    secret = _secret(args)
    assert secret is not None
    timestamp = _signing_timestamp(args)
    body = _read_input(args.file)
    if timestamp is None:
        headers = {PRIMARY_HEADER: args.signature, ALGORITHM_HEADER: ALGORITHM}
        matches = verify_ep(body, headers, [secret])
    else:
        matches = verify_signature(secret, timestamp, body, args.signature)
    if matches:
        out.write("ok: the signature matches\n")
        return 0
    what = "body and secret" if timestamp is None else "body, timestamp and secret"
    out.write(f"mismatch: the signature does not match this {what}\n")
    return 1


# -- emit, serve, fuzz ---------------------------------------------------------------------------------

def _fault_args(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--faults", default=default, metavar="SPEC",
                        help="none, a profile (default, gentle, chaos) or kind=p,... with kinds reorder, duplicate,"
                             f" drop, delay (default: {default})")
    parser.add_argument("--plan", metavar="FILE", help="replay the fault plan saved in FILE (JSON)")
    parser.add_argument("--save-plan", metavar="FILE", help="save the fault plan that was applied to FILE")


def _workload_args(parser: argparse.ArgumentParser, events: int, *, event_platform: bool = False) -> None:
    parser.add_argument("--seed", type=_non_negative, default=0, help="seed of everything random (default 0)")
    parser.add_argument("--events", type=_positive, default=events, help=f"events to generate (default {events})")
    parser.add_argument("--profile", type=_fuzz_profile if event_platform else _profile, default="saas",
                        help="PIM version: 5.0, 6.0, 7.0, saas" + (", or event-platform" if event_platform else ""))
    parser.add_argument("--uuid-mode", action="store_true", help="the subscription's 'use UUID' option (7.0, saas)")
    parser.add_argument("--start", type=_start_time, default=None, metavar="TIME",
                        help="when the activity starts, Unix seconds or ISO 8601 (default: now); with it, one seed "
                             "gives the same event times on every run")


def _start_time(value: str) -> int:
    from datetime import datetime, timezone

    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: write Unix seconds or an ISO 8601 time such as "
                                         "2026-01-01T00:00:00+00:00") from None
    return int((when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp())


def _load_plan(args: argparse.Namespace) -> Any:
    from ..events_api.faults import FaultPlan, parse_fault_spec

    parse_fault_spec(args.faults)
    return FaultPlan.load(args.plan) if args.plan else None


def _ep_emit(args: argparse.Namespace, secret: str, out: TextIO) -> int:
    """``emit --profile event-platform``: one CloudEvent per request, retries and rate on a virtual clock."""
    from ..clock import FakeClock
    from ..event_platform.emitter import EpEmitter
    from ..event_platform.probes import send_probes
    from ..event_platform.signing import EpSecrets

    unsupported = [name for name, value in (("--plan", args.plan), ("--save-plan", args.save_plan),
                                            ("--uuid-mode", args.uuid_mode),
                                            ("--data-mode", args.data_mode != "send_time")) if value]
    if unsupported:
        raise UsageError(f"{', '.join(unsupported)}: Events API only (the Event Platform's payloads are thin)")
    secrets = EpSecrets(secret)
    clock = FakeClock(args.start if args.start is not None else int(time.time()))  # virtual from there on
    emitter = EpEmitter(args.seed, args.events, start=args.start, clock=clock, secrets=secrets, delta=args.delta,
                        faults=args.faults, keep_bodies=bool(args.record))

    async def deliver() -> Any:
        truth = await emitter.arun(args.url)
        if args.probes:
            await send_probes(args.url, truth, secrets=secrets, held=[secret], seed=args.seed, clock=clock,
                              subscription_id=emitter.subscription_id)
        return truth

    import asyncio

    truth = asyncio.run(deliver())
    if args.record:
        from ..event_platform.tape import write_ep_tape

        write_ep_tape(truth, args.record)
    if not args.quiet:
        outcomes = Counter(a.outcome for a in truth.genuine)
        drops = truth.dropped()
        lines = [f"Event Platform: {len(truth.events)} events, {len(truth.genuine)} requests "
                 f"({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}), "
                 f"{len(truth.delivered)} delivered" + (f", {len(truth.attempts) - len(truth.genuine)} probes"
                                                         if args.probes else ""),
                 "dropped by the platform: " + (", ".join(f"{k} {v}" for k, v in sorted(drops.items()))
                                                 or "none"),
                 truth.suspension.describe() if truth.suspension is not None
                 else "the subscription stayed active"]
        out.write("\n".join(lines) + "\n")
    return 0


def cmd_emit(args: argparse.Namespace, out: TextIO) -> int:
    from ..console import Progress, summary_table
    from ..events_api.pim import MockPim
    from ..events_api.truth import GroundTruth
    from ..transport.targets import check_request_url

    if args.profile == "event-platform":
        for warning in check_request_url(args.url):
            print(f"warning: {warning}", file=sys.stderr)
        secret = _secret(args)
        assert secret is not None
        return _ep_emit(args, secret, out)
    if args.delta != _DEFAULT_DELTA:
        raise UsageError("--delta: Event Platform only, add --profile event-platform")
    secret = _secret(args)
    plan = _load_plan(args)
    for warning in check_request_url(args.url):
        print(f"warning: {warning}", file=sys.stderr)
    pim = MockPim(seed=args.seed, events=args.events, profile=args.profile, uuid_mode=args.uuid_mode or None,
                  faults=plan if plan is not None else args.faults, probes=args.probes, data_mode=args.data_mode,
                  start=args.start)
    truth = GroundTruth()
    if args.record:
        truth.stream_to(args.record)
    progress = Progress(args.events, enabled=not args.quiet)
    try:
        result = pim.run(args.url, secret=secret, truth=truth, on_request=progress.advance)
    finally:
        progress.close()
        truth.close()
    if args.save_plan and result.fault_plan is not None:
        result.fault_plan.save(args.save_plan)
    if not args.quiet:
        out.write(summary_table(result, None) + "\n")
    return 0


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from ..receiver import serve

    secret = _secret(args)
    assert secret is not None
    serve(secret, host=args.host, port=args.port, store_spec=args.store)
    return 0


def _start_rest_api(args: argparse.Namespace, stack: ExitStack, out: TextIO) -> Any:
    """With ``--rest-api``, serve the mock REST API on loopback and print where and how to log in."""
    if not args.rest_api:
        if args.rest_lag:
            raise UsageError("--rest-lag needs --rest-api")
        return None
    from ..restapi import RestApi

    api = RestApi(lag=args.rest_lag)
    server = stack.enter_context(api.server(port=args.rest_api_port))
    print(api.describe(server.base_url), file=sys.stderr if args.json else out)
    out.flush()
    return api


def _ep_fuzz(args: argparse.Namespace, out: TextIO) -> int:
    """``fuzz --profile event-platform``: Event Platform delivery, then the verdict and the suspension."""
    from ..clock import FakeClock
    from ..event_platform.campaign import EpCampaignConfig, run_ep_campaign
    from ..event_platform.signing import EpSecrets

    unsupported = [name for name, value in (("--plan", args.plan), ("--save-plan", args.save_plan),
                                            ("--uuid-mode", args.uuid_mode), ("--strict", args.strict)) if value]
    if unsupported:
        raise UsageError(f"{', '.join(unsupported)}: Events API only. With --profile event-platform the seed "
                         "alone fixes the faults (replay a run with --record and `akeneo-events replay`); "
                         "products are keyed by uuid; no timestamp is sent, so no replay warning exists")
    if args.rotation and args.url and not args.old_secret:
        raise UsageError("--rotation with --url needs --old-secret: the platform signs PRIMARY with --secret (new) "
                         "and SECONDARY with --old-secret (old)")
    secret = _secret(args, required=bool(args.url))
    rotation = args.rotation or ("both" if args.old_secret else None)
    config = EpCampaignConfig(seed=args.seed, events=args.events, faults=args.faults, probes=not args.no_probes,
                              client_id=args.client_id or None, delta=args.delta, rotation=rotation)
    secrets = EpSecrets(secret, args.old_secret or None) if secret else None
    with ExitStack() as stack:
        api = _start_rest_api(args, stack, out)
        start = args.start if args.start is not None else int(time.time())
        result = run_ep_campaign(config, target=args.url, state_url=args.state_url, secrets=secrets,
                                 clock=FakeClock(start),
                                 record=args.record, rest_api=api)
    report = result.report()
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    if args.junit:
        from ..report import write_junit

        write_junit(result, args.junit)
    if args.html:
        from ..report import write_html

        write_html(result, args.html)
    if args.json:
        out.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        out.write(f"Event Platform fuzz of {result.target}, seed {args.seed}\n{result.failure_text()}\n")
        if not result.passed:
            out.write(f"Reproduce with: {result.reproduce}\n")
    return 0 if result.passed else 1


def _compare(args: argparse.Namespace, out: TextIO) -> int:
    """``fuzz --compare event-platform``: the same activity through both profiles, final states compared."""
    from ..event_platform.signing import EpSecrets
    from ..migration import compare_profiles

    reports = [name for name, value in (("--report", args.report), ("--junit", args.junit), ("--html", args.html),
                                        ("--record", args.record), ("--rest-api", args.rest_api),
                                        ("--json", args.json)) if value]
    if reports:
        raise UsageError(f"{', '.join(reports)}: not with --compare, which prints its comparison; run each "
                         "profile alone (fuzz, then fuzz --profile event-platform) for reports")
    if args.profile != "saas":
        raise UsageError("--compare needs --profile saas: 5.0/6.0 key products by identifier, 7.0 may too; "
                         "only SaaS with UUIDs is comparable with the Event Platform's uuid keys")
    if bool(args.url) != bool(args.new_url):
        raise UsageError("pass both --url (the Events API receiver) and --new-url (the Event Platform one), "
                         "or neither to compare two reference receivers")
    if args.new_url and not (args.state_url and args.new_state_url):
        raise UsageError("pass --state-url and --new-state-url: where each receiver serves its observation")
    secret = _secret(args, required=bool(args.url))
    new_secret = args.new_secret or secret
    result = compare_profiles(args.seed, args.events, old_target=args.url, new_target=args.new_url,
                              old_state_url=args.state_url, new_state_url=args.new_state_url, old_secret=secret,
                              new_secrets=EpSecrets(new_secret) if new_secret else None,
                              client_id=args.client_id or None)
    out.write(result.text() + "\n")
    return 0 if result.passed else 1


def cmd_fuzz(args: argparse.Namespace, out: TextIO) -> int:
    from ..console import Progress, render_result
    from ..events_api.campaign import CampaignConfig, run_campaign

    if args.compare:
        return _compare(args, out)
    if args.profile == "event-platform":
        if args.url and not args.state_url:
            raise UsageError("pass --state-url with --url: where the receiver serves its observation "
                             "(see README: observation contract)")
        return _ep_fuzz(args, out)
    if args.url and not args.state_url:
        raise UsageError("pass --state-url with --url: where the receiver serves its observation "
                         "(see README: observation contract)")
    if args.state_url and not args.url:
        raise UsageError("pass --url with --state-url: the receiver's webhook URL")
    only_ep = [name for name, value in (("--delta", args.delta != _DEFAULT_DELTA), ("--rotation", args.rotation),
                                        ("--old-secret", args.old_secret)) if value]
    if only_ep:
        raise UsageError(f"{', '.join(only_ep)}: Event Platform only, add --profile event-platform")
    secret = _secret(args, required=bool(args.url))
    config = CampaignConfig(seed=args.seed, events=args.events, profile=args.profile,
                            uuid_mode=args.uuid_mode or None, faults=args.faults, plan=_load_plan(args),
                            probes=not args.no_probes, strict=args.strict, content=args.rest_api, start=args.start)
    progress = Progress(args.events, enabled=not (args.quiet or args.json))
    with ExitStack() as stack:
        api = _start_rest_api(args, stack, out)
        try:
            result = run_campaign(config, target=args.url, secret=secret, state_url=args.state_url,
                                  on_request=progress.advance, record=args.record, rest_api=api)
        finally:
            progress.close()
    report = result.report()
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    if args.junit:
        from ..report import write_junit

        write_junit(result, args.junit)
    if args.html:
        from ..report import write_html

        write_html(result, args.html)
    if args.save_plan and result.run.fault_plan is not None:
        result.run.fault_plan.save(args.save_plan)
    if args.json:
        out.write(json.dumps(report, indent=2, default=str) + "\n")
    else:
        out.write(render_result(result, quiet=args.quiet) + "\n")
    return 0 if result.passed else 1


def _ratio(value: str) -> float:
    try:
        ratio = float(value)
    except ValueError:
        ratio = -1.0
    if not 0 <= ratio <= 1:
        raise argparse.ArgumentTypeError(f"{value!r}: write a ratio between 0 and 1, e.g. 0.3")
    return ratio


_DEFAULT_DELTA = 0.3  # EpCampaignConfig.delta


def _ep_replay(args: argparse.Namespace, secret: str, out: TextIO) -> int:
    from ..event_platform.oracle import delta_states, format_ep_verdict, judge_ep
    from ..event_platform.signing import EpSecrets
    from ..event_platform.tape import compare_answers, load_ep_tape, replay_ep_tape
    from ..judging.observation import fetch_observation, parse_observation

    tape = load_ep_tape(args.tape)
    truth = replay_ep_tape(tape, args.url, secrets=EpSecrets(secret))
    changes = compare_answers(tape, truth)
    outcomes = Counter(a.outcome for a in truth.attempts)
    out.write(f"replayed {len(truth.attempts)} Event Platform requests "
              f"({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}; probes are not replayed); "
              f"{changes['changed']} answered differently than when recorded\n")
    if not args.state_url:
        return 0
    raw = fetch_observation(args.state_url)
    verdict = judge_ep(truth, parse_observation(raw), deltas=delta_states(raw),
                       reproduce=f"akeneo-events replay {args.tape} --url {args.url} --state-url {args.state_url}")
    out.write(format_ep_verdict(verdict, truth) + "\n")
    return 0 if verdict.passed else 1


def cmd_replay(args: argparse.Namespace, out: TextIO) -> int:
    from ..event_platform.tape import is_ep_tape
    from ..events_api.oracle import judge
    from ..events_api.tape import compare, load_tape, replay_tape
    from ..judging.observation import parse_observation
    from ..judging.render import format_violations

    secret = _secret(args)
    assert secret is not None
    if is_ep_tape(args.tape):
        return _ep_replay(args, secret, out)
    tape = load_tape(args.tape)
    truth = replay_tape(tape, args.url, secret=secret)
    changes = compare(tape, truth)
    statuses = truth.outcome_counts()
    out.write(f"replayed {len(truth.requests)} requests ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))});"
              f" {changes['changed']} answered differently than when recorded\n")
    if not args.state_url:
        return 0
    from ..judging.observation import fetch_observation

    verdict = judge(truth, parse_observation(fetch_observation(args.state_url)),
                    reproduce=f"akeneo-events replay {args.tape} --url {args.url} --state-url {args.state_url}")
    out.write(format_violations(verdict) + "\n")
    out.write(("PASS" if verdict.passed else "FAIL") + "\n")
    return 0 if verdict.passed else 1


# -- parser ------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="akeneo-events", description="Test receivers of Akeneo PIM's Events API.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    p = commands.add_parser("validate", help="validate payload files against the JSON Schemas",
                            description="Validate files holding an envelope {\"events\": [...]} or a single event "
                                        "(with --profile event-platform: one CloudEvent).")
    p.add_argument("--profile", type=_validate_profile, default="saas",
                   help="PIM version: 5.0, 6.0, 7.0, saas (default), or event-platform (one CloudEvent per file)")
    p.add_argument("--uuid-mode", action="store_true", default=None, help="require UUID mode (7.0, saas)")
    p.add_argument("--strict", action="store_true", help="also reject the docs' known deviations")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to validate, - for standard input")
    p.set_defaults(handler=cmd_validate)

    p = commands.add_parser("sign", help="print the signature of a file's exact bytes",
                            description="HMAC-SHA256 of '<timestamp>.<file bytes>', as the PIM signs (with "
                                        "--profile event-platform: of the file bytes alone).")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    p.add_argument("--timestamp", type=_timestamp, help="Unix seconds, as in the header (Events API)")
    p.add_argument("--profile", type=_fuzz_profile, default="saas",
                   help="saas (default, or any PIM version) or event-platform")
    p.add_argument("file", metavar="FILE", help="the raw body, - for standard input")
    p.set_defaults(handler=cmd_sign)

    p = commands.add_parser("verify", help="check a signature over a file's exact bytes")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    p.add_argument("--timestamp", type=_timestamp, help="X-Akeneo-Request-Timestamp (Events API)")
    p.add_argument("--signature", required=True,
                   help="X-Akeneo-Request-Signature, or an X-AKENEO-SIGNATURE-PRIMARY/SECONDARY value")
    p.add_argument("--profile", type=_fuzz_profile, default="saas",
                   help="saas (default, or any PIM version) or event-platform")
    p.add_argument("file", metavar="FILE", help="the raw body, - for standard input")
    p.set_defaults(handler=cmd_verify)

    p = commands.add_parser("emit", help="send a generated workload to a receiver, like the PIM")
    p.add_argument("--url", required=True, help="the receiver's webhook URL")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    _workload_args(p, 100, event_platform=True)
    _fault_args(p, "none")
    p.add_argument("--delta", type=_ratio, default=_DEFAULT_DELTA, metavar="RATIO",
                   help=f"Event Platform: share of updates sent as *.updated.delta (default {_DEFAULT_DELTA})")
    p.add_argument("--probes", action="store_true", help="also send security probes")
    p.add_argument("--data-mode", choices=["send_time", "snapshot"], default="send_time",
                   help="data rebuilt at send time like the PIM (default), or the state at each save")
    p.add_argument("--record", metavar="FILE.jsonl", help="write the ground truth as JSON Lines")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=cmd_emit)

    p = commands.add_parser("serve", help="run the reference receiver")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_non_negative, default=8000)
    p.add_argument("--store", default="sqlite:akeneo-events.sqlite3", metavar="sqlite:PATH|memory",
                   help="where effects are recorded (default sqlite:akeneo-events.sqlite3)")
    p.set_defaults(handler=cmd_serve)

    p = commands.add_parser("fuzz", help="fuzz a receiver and judge it (the reference receiver by default)",
                            description="Generate activity, deliver it with faults and probes, read the "
                                        "receiver's observation and name every violation.")
    p.add_argument("--url", help="the receiver's webhook URL (default: start the reference receiver)")
    p.add_argument("--state-url", help="where the receiver serves its observation (GET, JSON)")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    _workload_args(p, 500, event_platform=True)
    _fault_args(p, "default")
    p.add_argument("--compare", choices=["event-platform"],
                   help="migration check: the same activity to --url (Events API) and --new-url (Event Platform),"
                        " final states compared (default: two reference receivers)")
    p.add_argument("--new-url", help="with --compare: the Event Platform receiver's URL")
    p.add_argument("--new-state-url", help="with --compare: where the Event Platform receiver serves its observation")
    p.add_argument("--new-secret", help="with --compare: the Event Platform subscription's secret (default --secret)")
    p.add_argument("--client-id", default="magento_0000",
                   help="Event Platform: the receiver's own client id, whose events it must drop (default "
                        "magento_0000; empty for none)")
    p.add_argument("--delta", type=_ratio, default=_DEFAULT_DELTA, metavar="RATIO",
                   help=f"Event Platform: share of updates sent as *.updated.delta (default {_DEFAULT_DELTA})")
    p.add_argument("--rotation", choices=["old", "new", "both"],
                   help="Event Platform: a secret rotation; the platform signs PRIMARY with the new secret and "
                        "SECONDARY with the old one, and the receiver holds old, new or both")
    p.add_argument("--old-secret", help="Event Platform, with --url: the old (secondary) secret of a rotation")
    p.add_argument("--no-probes", action="store_true", help="send no security probes")
    p.add_argument("--strict", action="store_true", help="replay_accepted is an error, not a warning")
    p.add_argument("--report", metavar="FILE.json", help="write the JSON report")
    p.add_argument("--junit", metavar="FILE.xml", help="write a JUnit XML report")
    p.add_argument("--html", metavar="FILE.html", help="write a self-contained HTML report with timelines")
    p.add_argument("--record", metavar="FILE.jsonl", help="write the ground truth as JSON Lines")
    p.add_argument("--rest-api", action="store_true",
                   help="serve a mock PIM REST API of the same timeline for receivers that re-fetch, and judge the"
                        " data they report")
    p.add_argument("--rest-api-port", type=_non_negative, default=0, help="port of the mock REST API (default: free)")
    p.add_argument("--rest-lag", type=float, default=0.0, metavar="SECONDS",
                   help="the REST API answers like a replica this far behind the timeline (default 0)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quiet", action="store_true", help="print only the verdict and violations")
    mode.add_argument("--json", action="store_true", help="print the JSON report instead of the summary")
    p.set_defaults(handler=cmd_fuzz)

    p = commands.add_parser("replay", help="re-send a recorded delivery tape, re-signed, to a receiver",
                            description="Replay the exact traffic of a run recorded with --record, re-signed with "
                                        "SECRET now, probes keeping their flaws (Event Platform tapes: genuine "
                                        "requests only); with --state-url, judge the result.")
    p.add_argument("tape", metavar="FILE.jsonl", help="a tape written by emit or fuzz --record")
    p.add_argument("--url", required=True, help="the receiver's webhook URL")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    p.add_argument("--state-url", help="judge the receiver's observation afterwards")
    p.set_defaults(handler=cmd_replay)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args, sys.stdout)
        return code
    except UsageError as exc:
        print(f"akeneo-events {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KitError as exc:
        print(f"akeneo-events {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly, like other Unix tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
