"""The ``akeneo-events`` argument parser: every command, its options and their help."""

from __future__ import annotations

import argparse
from typing import Any

from ..credentials import OLD_SECRET_ENV
from ..event_platform.rules import DEFAULT_CLIENT_ID, DEFAULT_IN_FLIGHT
from ..judging.checks import DESIGNS
from .common import (
    DEFAULT_DELTA,
    SECRET_ENV,
    Parser,
    non_negative,
    positive,
    profile_name,
    ratio,
    start_time,
    timestamp,
)
from .payload import cmd_sign, cmd_validate, cmd_verify
from .run import cmd_emit, cmd_fuzz, cmd_replay, cmd_serve

__all__ = ["build_parser"]


def _fault_args(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--faults", default=default, metavar="SPEC",
                        help="none, a preset (default, gentle, chaos) or kind=p,... with kinds reorder, duplicate,"
                             f" drop, delay (default: {default})")
    parser.add_argument("--plan", metavar="FILE", help="replay the fault plan saved in FILE (JSON)")
    parser.add_argument("--save-plan", metavar="FILE", help="save the fault plan that was applied to FILE")


def _in_flight_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--in-flight", type=positive, default=None, metavar="N",
                        help=f"Event Platform: requests in flight at once at most, drawn per group from the seed "
                             f"and bounded by the rate (default {DEFAULT_IN_FLIGHT}; 1 sends one at a time)")


def _types_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--types", default=None, metavar="PATTERN[,PATTERN]",
                        help="Event Platform: the event types the subscription receives, shell patterns such as "
                             "product.*,category.* (default: every type the emitter sends, products and "
                             "catalog structure)")


def _workload_args(parser: argparse.ArgumentParser, events: int) -> None:
    parser.add_argument("--seed", type=non_negative, default=0, help="seed of everything random (default 0)")
    parser.add_argument("--events", type=positive, default=events, help=f"events to generate (default {events})")
    parser.add_argument("--profile", type=profile_name, default="saas",
                        help="PIM version: 5.0, 6.0, 7.0, saas, or event-platform")
    parser.add_argument("--uuid-mode", action="store_true", help="the subscription's 'use UUID' option (7.0, saas)")
    parser.add_argument("--start", type=start_time, default=None, metavar="TIME",
                        help="when the activity starts, Unix seconds or ISO 8601 (default: now); with it, one seed "
                             "gives the same event times on every run")
    parser.add_argument("--catalog", metavar="FILE",
                        help="shape the generated catalog after FILE: JSON with the families, attributes and channels "
                             "(and optionally locales) as the PIM's REST API returns them (see "
                             "examples/catalog-rugs.json); every product then belongs to one of its families")


def _port(value: str) -> int:
    number = non_negative(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: pass 0 to 65535")
    return number


def _observer_args(parser: argparse.ArgumentParser) -> None:
    """The built-in observers, for receivers without a state endpoint (README: observers)."""
    parser.add_argument("--sink", nargs="?", const=0, type=_port, metavar="PORT",
                        help="observe through a sink: the kit serves http://127.0.0.1:PORT/ (printed; a free port "
                             "without PORT) and the receiver forwards each applied event to it; needs --sink-map")
    parser.add_argument("--sink-map", metavar="NAME=POINTER,...",
                        help="JSON pointers into each forwarded body: event_id, the resource (key, or uuid, "
                             "identifier, code), removed, optionally data "
                             "(e.g. event_id=/event/id,uuid=/product/uuid,removed=/deleted)")
    parser.add_argument("--observe-sql", metavar="sqlite:PATH|postgresql://...",
                        help="observe through the receiver's own database; needs --query")
    parser.add_argument("--query", metavar="SQL",
                        help="with --observe-sql: a SELECT of event_id, resource_key (or uuid, identifier, code), "
                             "removed[, data], one row per application, in order")
    parser.add_argument("--observe-log", metavar="FILE",
                        help="observe through the receiver's log (its output redirected to FILE); lines written "
                             "during the run count; needs --pattern")
    parser.add_argument("--pattern", metavar="REGEX",
                        help="with --observe-log: a regular expression with the named groups event_id, key (or "
                             "uuid, identifier, code) and optionally removed and data")


class _ReplicaUrls(argparse.Action):
    """``fuzz --url``: the first one given is ``url`` (the receiver's), each one joins ``replica_urls`` (given
    more than once: replicas of one receiver, README: Replicas)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        urls = [*(getattr(namespace, "replica_urls", None) or []), values]
        namespace.replica_urls = urls
        setattr(namespace, self.dest, urls[0])


class _OneStateUrl(argparse.Action):
    """``fuzz --state-url``, once: replicas share one observation (README: Replicas), and a second one would
    silently replace the first."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error("--state-url is given twice: pass it once; replicas serve one shared observation "
                         "(README: Replicas)")
        setattr(namespace, self.dest, values)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="akeneo-events", description="Test receivers of Akeneo PIM's Events API.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    p = commands.add_parser("validate", help="validate payload files against the JSON Schemas",
                            description="Validate files holding an envelope {\"events\": [...]} or a single event "
                                        "(with --profile event-platform: one CloudEvent).")
    p.add_argument("--profile", type=profile_name, default="saas",
                   help="PIM version: 5.0, 6.0, 7.0, saas (default), or event-platform (one CloudEvent per file)")
    p.add_argument("--uuid-mode", action="store_true", default=None, help="require UUID mode (7.0, saas)")
    p.add_argument("--strict", action="store_true",
                   help="also reject the docs' known deviations; event-platform: keys the schemas do not know "
                        "and a dataschema of another type are errors, not warnings")
    p.add_argument("files", nargs="+", metavar="FILE", help="files to validate, - for standard input")
    p.set_defaults(handler=cmd_validate)

    p = commands.add_parser("sign", help="print the signature of a file's exact bytes",
                            description="HMAC-SHA256 of '<timestamp>.<file bytes>', as the PIM signs (with "
                                        "--profile event-platform: of the file bytes alone).")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    p.add_argument("--timestamp", type=timestamp, help="Unix seconds, as in the header (Events API)")
    p.add_argument("--profile", type=profile_name, default="saas",
                   help="saas (default, or any PIM version) or event-platform")
    p.add_argument("file", metavar="FILE", help="the raw body, - for standard input")
    p.set_defaults(handler=cmd_sign)

    p = commands.add_parser("verify", help="check a signature over a file's exact bytes")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    p.add_argument("--timestamp", type=timestamp, help="X-Akeneo-Request-Timestamp (Events API)")
    p.add_argument("--signature", required=True,
                   help="X-Akeneo-Request-Signature, or an X-AKENEO-SIGNATURE-PRIMARY/SECONDARY value")
    p.add_argument("--profile", type=profile_name, default="saas",
                   help="saas (default, or any PIM version) or event-platform")
    p.add_argument("file", metavar="FILE", help="the raw body, - for standard input")
    p.set_defaults(handler=cmd_verify)

    p = commands.add_parser("emit", help="send a generated workload to a receiver, like the PIM")
    p.add_argument("--url", required=True, help="the receiver's webhook URL")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    _workload_args(p, 100)
    _fault_args(p, "none")
    p.add_argument("--delta", type=ratio, default=None, metavar="RATIO",
                   help=f"Event Platform: share of updates sent as *.updated.delta (default {DEFAULT_DELTA})")
    _in_flight_arg(p)
    _types_arg(p)
    p.add_argument("--probes", action="store_true", help="also send security probes")
    p.add_argument("--data-mode", choices=["send_time", "snapshot"], default=None,
                   help="data rebuilt at send time like the PIM (default), or the state at each save")
    p.add_argument("--record", metavar="FILE.jsonl", help="write the ground truth as JSON Lines")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=cmd_emit)

    p = commands.add_parser("serve", help="run the reference receiver")
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=non_negative, default=8000, help="TCP port, 0 to 65535 (default 8000; 0: free)")
    p.add_argument("--store", default="sqlite:akeneo-events.sqlite3", metavar="sqlite:PATH|memory|postgresql://...",
                   help="where effects are recorded (default sqlite:akeneo-events.sqlite3; a PostgreSQL URL "
                        "is shared by replicas: README: Replicas)")
    p.add_argument("--client-id", default=DEFAULT_CLIENT_ID,
                   help="Event Platform: the connection's client id, whose own events are dropped (default "
                        f"{DEFAULT_CLIENT_ID}, as fuzz assumes; empty for none)")
    p.add_argument("--log-requests", action="store_true",
                   help="print one line per request: method, path, status, events, latency")
    p.set_defaults(handler=cmd_serve)

    p = commands.add_parser("fuzz", help="fuzz a receiver and judge it (the reference receiver by default)",
                            description="Generate activity, deliver it with faults and probes, read the "
                                        "receiver's observation and name every violation.")
    p.add_argument("--url", action=_ReplicaUrls, default=None,
                   help="the receiver's webhook URL (default: start the reference receiver; with "
                        "--receiver-cmd, http://127.0.0.1:{port}/webhook, or /ep-webhook for the Event "
                        "Platform); repeat it for replicas of one receiver: the requests are spread over them "
                        "(README: Replicas)")
    p.add_argument("--replica-race", type=float, default=None, metavar="P",
                   help="with several --url: the share of requests also sent to a second replica at the same "
                        "moment, the redelivery race (default 0.1; 0: none)")
    p.add_argument("--state-url", action=_OneStateUrl,
                   help="where the receiver serves its observation (GET, JSON; with --receiver-cmd, "
                                       "default http://127.0.0.1:{port}/state)")
    p.add_argument("--receiver-cmd", metavar="CMD",
                   help="start the receiver with CMD (split like a shell line) on a free loopback port written "
                        "{port} in it, and kill it when done; it gets the secret as $AKENEO_EVENTS_SECRET "
                        "(e.g. \"akeneo-events serve --port {port} --store sqlite:/tmp/r.db\")")
    p.add_argument("--crashes", type=non_negative, default=0, metavar="N",
                   help="with --receiver-cmd: SIGKILL the receiver at N seeded moments (right after a 2xx, before a "
                        "request, while one is in flight), send the next 0 to 3 requests to nothing, restart it on "
                        "the same port and go on (default 0)")
    _observer_args(p)
    p.add_argument("--secret", help=f"the subscription secret (or set {SECRET_ENV})")
    _workload_args(p, 500)
    _fault_args(p, "default")
    p.add_argument("--compare", choices=["event-platform"],
                   help="migration check: the same activity to --url (Events API) and --new-url (Event Platform),"
                        " final states compared (default: two reference receivers)")
    p.add_argument("--new-url", help="with --compare: the Event Platform receiver's URL")
    p.add_argument("--new-state-url", help="with --compare: where the Event Platform receiver serves its observation")
    p.add_argument("--new-secret", help="with --compare: the Event Platform subscription's secret (default --secret)")
    p.add_argument("--client-id", default=None,
                   help="Event Platform: the receiver's own client id, whose events it must drop (default "
                        "magento_0000; empty for none)")
    p.add_argument("--delta", type=ratio, default=None, metavar="RATIO",
                   help=f"Event Platform: share of updates sent as *.updated.delta (default {DEFAULT_DELTA})")
    p.add_argument("--rotation", choices=["old", "new", "both"],
                   help="Event Platform: a secret rotation; the platform signs PRIMARY with the new secret and "
                        "SECONDARY with the old one, and the receiver holds old, new or both")
    p.add_argument("--old-secret", help="Event Platform, with --url: the old (secondary) secret of a rotation (or "
                                        f"set {OLD_SECRET_ENV})")
    p.add_argument("--keep-going", action="store_true",
                   help="Event Platform: deliver past a suspension, which is still reported, so that what it "
                        "would have masked is judged too (a suspended subscription sends nothing)")
    _in_flight_arg(p)
    _types_arg(p)
    p.add_argument("--no-probes", action="store_true", help="send no security probes")
    p.add_argument("--strict", action="store_true", help="replay_accepted is an error, not a warning")
    p.add_argument("--report", metavar="FILE.json", help="write the JSON report")
    p.add_argument("--junit", metavar="FILE.xml", help="write a JUnit XML report")
    p.add_argument("--html", metavar="FILE.html", help="write a self-contained HTML report with timelines")
    p.add_argument("--record", metavar="FILE.jsonl", help="write the ground truth as JSON Lines")
    p.add_argument("--design", choices=DESIGNS, default="apply",
                   help="the receiver's design: apply (default: it applies each event's data in order) or refetch "
                        "(notify-then-re-fetch: it re-reads each resource from the REST API; implies --rest-api; "
                        "order and duplicates become warnings, its data is judged)")
    p.add_argument("--scope", action="append", metavar="CRITERION=VALUES",
                   help="what the receiver is responsible for; events outside are ignored by scope (acknowledged, "
                        "not applied, never event_lost): kind=product|product_model, family=CODES, "
                        "identifier=PATTERNS (RUG-*), type=EVENT_TYPES, attribute=CODES (Event Platform deltas); "
                        "repeat for several criteria, all of which apply")
    p.add_argument("--rest-api", action="store_true",
                   help="serve a mock PIM REST API of the same timeline for receivers that re-fetch, and judge the"
                        " data they report")
    p.add_argument("--rest-api-port", type=non_negative, default=0, help="port of the mock REST API (default: free)")
    p.add_argument("--rest-lag", type=float, default=0.0, metavar="SECONDS",
                   help="the REST API answers like a replica this far behind the timeline (default 0)")
    p.add_argument("--rest-latency", type=float, default=None, metavar="SECONDS",
                   help="the REST API takes this long on average to answer each request (seeded, uniform from half to"
                        " one and a half times it; needs --rest-api): work a receiver does before acknowledging shows")
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
