"""akeneo-events-testkit: test receivers of Akeneo PIM's webhooks against a byte-faithful mock PIM.

The public API is ``__all__`` below; anything else is internal. Every public name is imported on first use
(PEP 562), so that importing the package, or the pytest plugin that pytest loads in every session of a
project that has the kit installed, loads none of its heavy dependencies (Faker, uvicorn, jsonschema, httpx,
Hypothesis) until they are needed.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    # Wire format
    from .encoding import php_json_encode, php_json_encode_bytes
    from .events_api.signing import check_timestamp, sign, verify_request, verify_signature
    from .credentials import generate_secret
    from .schemas import (
        ValidationIssue,
        ValidationResult,
        check_bytes,
        check_payload,
        is_valid,
        validate_bytes,
        validate_payload,
    )
    # Model
    from .versions import (
        DEFAULT_PROFILE,
        PROFILES,
        Action,
        AuthorType,
        PimVersion,
        Profile,
        get_profile,
        resource_key,
    )
    from .events_api.wire import MAX_BATCH_SIZE, Delivery, Event
    # The mock PIM
    from .world.catalog import Catalog
    from .world.activity import generate_activity
    from .world.faker_provider import PimProvider
    from .events_api.pim import MockPim, RunResult, Subscription
    from .events_api.faults import Fault, FaultPlan, parse_fault_spec
    from .events_api.probes import PROBE_KINDS
    from .restapi import RestApi
    # The reference receiver
    from .receiver import MemoryStore, ReceiverServer, ReferenceReceiver, SqliteStore
    # Judging
    from .events_api.oracle import VIOLATION_KINDS, judge
    from .judging.observation import Observation, parse_observation
    from .judging.verdict import Verdict, Violation
    from .events_api.campaign import CampaignConfig, CampaignResult, run_campaign
    from .assertions import ObservationRecorder, assert_receiver_correct
    from .observers import LogObserver, Sink, SqlObserver
    # The Event Platform (the Events API's successor)
    from .event_platform.signing import EpSecrets
    from .event_platform.emitter import EpEmitter
    from .event_platform.oracle import judge_ep
    from .migration import compare_profiles
    from .event_platform.campaign import run_ep_campaign
    # Time
    from .clock import Clock, FakeClock, SystemClock
    # Errors and failures
    from .errors import (
        EncodingError,
        InvalidFaultSpec,
        InvalidObservation,
        InvalidPayload,
        KitError,
        ReceiverCommandFailed,
        ReceiverUnreachable,
        UnknownProfile,
        UsageError,
    )
    from .failures import ReceiverFailure, ReceiverServerError, ViolationsFound

#: Where each public name lives (imported by :func:`__getattr__` on first use).
_LAZY: dict[str, str] = {
    # Wire format
    "php_json_encode": ".encoding",
    "php_json_encode_bytes": ".encoding",
    "check_timestamp": ".events_api.signing",
    "sign": ".events_api.signing",
    "verify_request": ".events_api.signing",
    "verify_signature": ".events_api.signing",
    "generate_secret": ".credentials",
    "ValidationIssue": ".schemas",
    "ValidationResult": ".schemas",
    "check_bytes": ".schemas",
    "check_payload": ".schemas",
    "is_valid": ".schemas",
    "validate_bytes": ".schemas",
    "validate_payload": ".schemas",
    # Model
    "DEFAULT_PROFILE": ".versions",
    "PROFILES": ".versions",
    "Action": ".versions",
    "AuthorType": ".versions",
    "PimVersion": ".versions",
    "Profile": ".versions",
    "get_profile": ".versions",
    "resource_key": ".versions",
    "MAX_BATCH_SIZE": ".events_api.wire",
    "Delivery": ".events_api.wire",
    "Event": ".events_api.wire",
    # The mock PIM
    "Catalog": ".world.catalog",
    "generate_activity": ".world.activity",
    "PimProvider": ".world.faker_provider",
    "MockPim": ".events_api.pim",
    "RunResult": ".events_api.pim",
    "Subscription": ".events_api.pim",
    "Fault": ".events_api.faults",
    "FaultPlan": ".events_api.faults",
    "parse_fault_spec": ".events_api.faults",
    "PROBE_KINDS": ".events_api.probes",
    "RestApi": ".restapi",
    # The reference receiver
    "MemoryStore": ".receiver",
    "ReceiverServer": ".receiver",
    "ReferenceReceiver": ".receiver",
    "SqliteStore": ".receiver",
    # Judging
    "VIOLATION_KINDS": ".events_api.oracle",
    "judge": ".events_api.oracle",
    "Observation": ".judging.observation",
    "parse_observation": ".judging.observation",
    "Verdict": ".judging.verdict",
    "Violation": ".judging.verdict",
    "CampaignConfig": ".events_api.campaign",
    "CampaignResult": ".events_api.campaign",
    "run_campaign": ".events_api.campaign",
    "ObservationRecorder": ".assertions",
    "assert_receiver_correct": ".assertions",
    "LogObserver": ".observers",
    "Sink": ".observers",
    "SqlObserver": ".observers",
    # The Event Platform (the Events API's successor)
    "EpSecrets": ".event_platform.signing",
    "EpEmitter": ".event_platform.emitter",
    "judge_ep": ".event_platform.oracle",
    "compare_profiles": ".migration",
    "run_ep_campaign": ".event_platform.campaign",
    # Time
    "Clock": ".clock",
    "FakeClock": ".clock",
    "SystemClock": ".clock",
    # Errors and failures
    "EncodingError": ".errors",
    "InvalidFaultSpec": ".errors",
    "InvalidObservation": ".errors",
    "InvalidPayload": ".errors",
    "KitError": ".errors",
    "ReceiverCommandFailed": ".errors",
    "ReceiverUnreachable": ".errors",
    "UnknownProfile": ".errors",
    "UsageError": ".errors",
    "ReceiverFailure": ".failures",
    "ReceiverServerError": ".failures",
    "ViolationsFound": ".failures",
}

__version__ = "0.1.0"

__all__ = [
    # Wire format
    "check_timestamp",
    "generate_secret",
    "php_json_encode",
    "php_json_encode_bytes",
    "sign",
    "verify_request",
    "verify_signature",
    "ValidationIssue",
    "ValidationResult",
    "check_bytes",
    "check_payload",
    "is_valid",
    "validate_bytes",
    "validate_payload",
    # Model
    "DEFAULT_PROFILE",
    "MAX_BATCH_SIZE",
    "PROFILES",
    "Action",
    "AuthorType",
    "Delivery",
    "Event",
    "PimVersion",
    "Profile",
    "get_profile",
    "resource_key",
    # The mock PIM
    "Catalog",
    "generate_activity",
    "PimProvider",
    "MockPim",
    "RunResult",
    "Subscription",
    "Fault",
    "FaultPlan",
    "parse_fault_spec",
    "PROBE_KINDS",
    "RestApi",
    # The reference receiver
    "MemoryStore",
    "ReceiverServer",
    "ReferenceReceiver",
    "SqliteStore",
    # Judging
    "VIOLATION_KINDS",
    "Observation",
    "Verdict",
    "Violation",
    "judge",
    "parse_observation",
    "CampaignConfig",
    "CampaignResult",
    "run_campaign",
    "ObservationRecorder",
    "assert_receiver_correct",
    "LogObserver",
    "Sink",
    "SqlObserver",
    # The Event Platform
    "EpSecrets",
    "EpEmitter",
    "judge_ep",
    "compare_profiles",
    "run_ep_campaign",
    # Time
    "Clock",
    "FakeClock",
    "SystemClock",
    # Errors and failures
    "EncodingError",
    "InvalidFaultSpec",
    "InvalidObservation",
    "InvalidPayload",
    "KitError",
    "ReceiverCommandFailed",
    "ReceiverUnreachable",
    "UnknownProfile",
    "UsageError",
    "ReceiverFailure",
    "ReceiverServerError",
    "ViolationsFound",
    "__version__",
]


def __getattr__(name: str) -> typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
