"""``emit``, ``serve``, ``fuzz`` and ``replay``: the commands that send traffic, each written once for both
wire profiles (the profile object does what differs)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from ..credentials import OLD_SECRET_ENV
from ..errors import UsageError
from .common import refuse_foreign, secret_of
from .output import write_outputs

__all__ = ["campaign_config", "cmd_emit", "cmd_fuzz", "cmd_replay", "cmd_serve"]


#: what the command line may say of each profile-specific option (None: not given)
_SPECIFIC = ("plan", "uuid_mode", "strict", "data_mode", "delta", "client_id", "rotation", "keep_going",
             "in_flight", "types")


def campaign_config(args: argparse.Namespace, *, probes: bool) -> Any:
    """The campaign config of ``--profile`` from the command line; an option of another profile is refused
    (:func:`.common.refuse_foreign`), the others go to the profile's config as given."""
    from ..events_api.faults import FaultPlan
    from ..profiles import resolve

    resolved = resolve(args.profile)
    refuse_foreign(resolved.wire, args)
    given = {name: getattr(args, name, None) for name in _SPECIFIC}
    if given["plan"]:
        given["plan"] = FaultPlan.load(given["plan"])
    if given["client_id"] is not None:
        given["client_id"] = given["client_id"] or None  # empty: the receiver has no own events
    else:
        del given["client_id"]
    specific = {name: value for name, value in given.items() if name == "client_id" or value not in (None, False)}
    common: dict[str, Any] = {"design": args.design} if getattr(args, "design", None) else {}
    if getattr(args, "catalog", None):
        common["catalog"] = args.catalog
    if getattr(args, "rest_latency", None) is not None:
        common["rest_latency"] = args.rest_latency
    if getattr(args, "scope", None):
        common["scope"] = args.scope
    if getattr(args, "receiver_cmd", None) is not None:
        common["receiver_cmd"] = args.receiver_cmd
    if getattr(args, "crashes", 0):
        common["crashes"] = args.crashes
    replicas = getattr(args, "replica_urls", None) or []
    if len(replicas) > 1:
        if resolved.wire.name == "event-platform":
            raise UsageError("--url given several times: replicas are fuzzed with the Events API profiles for now "
                             "(--profile 5.0, 6.0, 7.0 or saas); pass one --url for the Event Platform")
        common["replicas"] = tuple(replicas)
        if args.replica_race is not None:
            common["replica_race"] = args.replica_race
    elif getattr(args, "replica_race", None) is not None:
        raise UsageError("--replica-race needs several --url: the replicas a request can race to")
    return resolved.wire.config(resolved.version, seed=args.seed, events=args.events, faults=args.faults,
                                probes=probes, **common, **specific)


def _start(args: argparse.Namespace) -> int:
    """``--start``, by default now (README: one seed gives the same event times only with ``--start``)."""
    return args.start if args.start is not None else int(time.time())


def cmd_emit(args: argparse.Namespace, out: TextIO) -> int:
    from ..console import Progress
    from ..profiles import profile_of
    from ..transport.targets import check_request_url

    config = campaign_config(args, probes=args.probes)
    secret = secret_of(args)
    assert secret is not None
    if not args.quiet:  # --quiet prints nothing but errors
        for warning in check_request_url(args.url):
            print(f"warning: {warning}", file=sys.stderr)
    progress = Progress(args.events, enabled=not args.quiet)
    try:
        outcome = profile_of(config).emit(config, args.url, secret=secret, record=args.record,
                                          save_plan=args.save_plan, on_request=progress.advance, start=_start(args))
    finally:
        progress.close()
    if not args.quiet:
        out.write(outcome.text + "\n")
    if not outcome.passed:
        out.flush()
        reason = f" (first failure: {outcome.reason})" if outcome.reason else ""
        print(f"akeneo-events emit: error: none of the {outcome.requests} requests got an answer from {args.url}"
              f"{reason}: is the receiver running there?", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from ..receiver import serve

    secret = secret_of(args)
    assert secret is not None
    serve(secret, host=args.host, port=args.port, store_spec=args.store, own_client_id=args.client_id or None,
          log_requests=args.log_requests, out=out)
    return 0


def _start_rest_api(args: argparse.Namespace, stack: ExitStack, out: TextIO) -> Any:
    """With ``--rest-api``, serve the mock REST API on loopback and print where and how to log in."""
    if not args.rest_api:
        for option, value in (("--rest-lag", args.rest_lag), ("--rest-latency", args.rest_latency)):
            if value:
                raise UsageError(f"{option} needs --rest-api")
        return None
    from ..restapi import RestApi

    api = RestApi(lag=args.rest_lag)
    server = stack.enter_context(api.server(port=args.rest_api_port))
    print(api.describe(server.base_url), file=sys.stderr if args.json else out)
    out.flush()
    return api


def _compare(args: argparse.Namespace, out: TextIO) -> int:
    """``fuzz --compare event-platform``: the same activity through both profiles, final states compared."""
    from ..event_platform.rules import DEFAULT_CLIENT_ID
    from ..event_platform.signing import EpSecrets
    from ..migration import compare_profiles

    observing = [option for option, value in (("--sink", args.sink), ("--observe-sql", args.observe_sql),
                                              ("--observe-log", args.observe_log)) if value is not None]
    if observing:
        raise UsageError(f"{observing[0]}: not with --compare, which reads --state-url and --new-state-url")
    reports = [name for name, value in (("--junit", args.junit), ("--record", args.record),
                                        ("--rest-api", args.rest_api), ("--json", args.json),
                                        ("--rest-latency", args.rest_latency)) if value]
    if reports:
        raise UsageError(f"{', '.join(reports)}: not with --compare, which writes --report and --html; run each "
                         "profile alone (fuzz, then fuzz --profile event-platform) for the others")
    if args.profile != "saas":
        raise UsageError("--compare needs --profile saas: 5.0/6.0 key products by identifier, 7.0 may too; "
                         "only SaaS with UUIDs is comparable with the Event Platform's uuid keys")
    if bool(args.url) != bool(args.new_url):
        raise UsageError("pass both --url (the Events API receiver) and --new-url (the Event Platform one), "
                         "or neither to compare two reference receivers")
    if args.new_url and not (args.state_url and args.new_state_url):
        raise UsageError("pass --state-url and --new-state-url: where each receiver serves its observation")
    secret = secret_of(args, required=bool(args.url))
    new_secret = args.new_secret or secret
    result = compare_profiles(args.seed, args.events, old_target=args.url, new_target=args.new_url,
                              old_state_url=args.state_url, new_state_url=args.new_state_url, old_secret=secret,
                              new_secrets=EpSecrets(new_secret) if new_secret else None,
                              client_id=DEFAULT_CLIENT_ID if args.client_id is None else args.client_id or None,
                              catalog=args.catalog)
    if args.report:
        Path(args.report).write_text(json.dumps(result.report(), indent=2, default=str) + "\n", encoding="utf-8")
    if args.html:
        Path(args.html).write_text(result.html(), encoding="utf-8")
    out.write(result.text() + "\n")
    return 0 if result.passed else 1


def _observer(args: argparse.Namespace) -> Any:
    """The built-in observer of ``--sink``, ``--observe-sql`` or ``--observe-log`` (None: ``--state-url``);
    each observes a receiver of the user's, so it needs ``--url``."""
    from ..observers import observer_from_options

    observer = observer_from_options(state_url=args.state_url, sink=args.sink, sink_map=args.sink_map,
                                     observe_sql=args.observe_sql, query=args.query, observe_log=args.observe_log,
                                     pattern=args.pattern)
    if observer is not None and not args.url:
        way = next(option for option, value in (("--sink", args.sink), ("--observe-sql", args.observe_sql),
                                                ("--observe-log", args.observe_log)) if value is not None)
        raise UsageError(f"pass --url with {way}: the webhook URL of the receiver it observes (the reference "
                         "receiver, started without --url, serves its own state)")
    return observer


def cmd_fuzz(args: argparse.Namespace, out: TextIO) -> int:
    from ..console import Progress
    from ..profiles import profile_of

    _replica_urls(args)
    if args.compare:
        return _compare(args, out)
    from ..observers import Sink

    if args.design == "refetch":
        args.rest_api = True  # a re-fetching receiver reads the mock REST API, and its data is judged
    if args.crashes and args.receiver_cmd is None:
        raise UsageError("--crashes needs --receiver-cmd: the kit can only crash a receiver it runs itself "
                         "(e.g. --receiver-cmd \"akeneo-events serve --port {port} --store sqlite:/tmp/r.db\")")
    config = campaign_config(args, probes=not args.no_probes)
    profile = profile_of(config)
    if args.receiver_cmd is not None:
        return _fuzz_command(args, config, profile, out)
    observer = _observer(args)
    if args.url and not args.state_url and observer is None:
        raise UsageError("pass --state-url with --url: where the receiver serves its observation "
                         "(see README: observation contract), or observe it with --sink, --observe-sql or "
                         "--observe-log (see README: observers)")
    if args.state_url and not args.url:
        raise UsageError("pass --url with --state-url: the receiver's webhook URL")
    if args.rotation:
        args.old_secret = args.old_secret or os.environ.get(OLD_SECRET_ENV) or None
    if args.rotation and args.url and not args.old_secret:
        raise UsageError(f"--rotation with --url needs --old-secret (or set {OLD_SECRET_ENV}): the platform signs "
                         "PRIMARY with --secret (new) and SECONDARY with --old-secret (old)")
    secret = secret_of(args, required=bool(args.url))
    progress = Progress(args.events, enabled=not (args.quiet or args.json))
    with ExitStack() as stack:
        api = _start_rest_api(args, stack, out)
        if isinstance(observer, Sink):
            stack.enter_context(observer)
            print(f"sink: the receiver forwards to {observer.url}", file=sys.stderr if args.json else out)
            out.flush()
        try:
            result = profile.run(config, target=None if args.replicas else args.url, secret=secret,
                                 old_secret=args.old_secret, state_url=args.state_url, record=args.record,
                                 rest_api=api, observe=observer,
                                 on_request=progress.advance, start=_start(args))
        finally:
            progress.close()
    return write_outputs(result, profile, args, out)


def _replica_urls(args: argparse.Namespace) -> None:
    """``--url`` given once is the receiver's URL; given several times, the replicas' (``args.replicas``;
    ``args.url`` is their first, for the checks that need a URL)."""
    urls = getattr(args, "replica_urls", None) or []
    args.replicas = list(urls) if len(urls) > 1 else []
    if args.replicas and (args.compare or args.receiver_cmd is not None):
        raise UsageError(f"several --url: not with {'--compare' if args.compare else '--receiver-cmd'}, which "
                         "runs its own receivers; start the replicas yourself and pass their --url")


@contextmanager
def _killed_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C (a :class:`KeyboardInterrupt`), so that the receiver the kit started is
    killed on the way out (Python's default SIGTERM ends the process at once, leaving it behind)."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fuzz_command(args: argparse.Namespace, config: Any, profile: Any, out: TextIO) -> int:
    """``fuzz --receiver-cmd``: the kit starts the receiver itself (and crashes it with ``--crashes``); its
    starts are printed on standard error, and it is killed however the run ends (Ctrl-C and SIGTERM too)."""
    from ..console import Progress
    from ..transport.process import ANNOUNCE

    if args.compare:
        raise UsageError("--receiver-cmd: not with --compare, which runs two receivers")
    secret = secret_of(args, required=False)
    if args.rotation:
        args.old_secret = args.old_secret or os.environ.get(OLD_SECRET_ENV) or None
    observer = _observer_args_given(args)
    progress = Progress(args.events, enabled=not (args.quiet or args.json))

    token = ANNOUNCE.set(lambda line: print(line, file=sys.stderr, flush=True))
    try:
        with _killed_on_sigterm(), ExitStack() as stack:
            api = _start_rest_api(args, stack, out)
            if observer is not None:
                from ..observers import Sink

                if isinstance(observer, Sink):
                    stack.enter_context(observer)
                    print(f"sink: the receiver forwards to {observer.url}", file=sys.stderr if args.json else out)
                    out.flush()
            try:
                result = profile.run(config, target=args.url, secret=secret, old_secret=args.old_secret,
                                     state_url=args.state_url, record=args.record, rest_api=api, observe=observer,
                                     on_request=progress.advance, start=_start(args))
            finally:
                progress.close()
    finally:
        ANNOUNCE.reset(token)
    return write_outputs(result, profile, args, out)


def _observer_args_given(args: argparse.Namespace) -> Any:
    """The built-in observer of the options, for a receiver the kit runs (no ``--url`` needed: it has one)."""
    from ..observers import observer_from_options

    return observer_from_options(state_url=args.state_url, sink=args.sink, sink_map=args.sink_map,
                                 observe_sql=args.observe_sql, query=args.query, observe_log=args.observe_log,
                                 pattern=args.pattern)


def cmd_replay(args: argparse.Namespace, out: TextIO) -> int:
    from ..profiles import WIRE_PROFILES

    secret = secret_of(args)
    assert secret is not None
    profile = next((p for p in WIRE_PROFILES.values() if p.is_tape(args.tape)), None)
    if profile is None:
        raise UsageError(f"{args.tape}: no wire profile recorded this tape; record one with --record FILE.jsonl")
    outcome = profile.replay(args.tape, args.url, secret=secret, state_url=args.state_url)
    out.write(outcome.text + "\n")
    return 0 if outcome.passed else 1
