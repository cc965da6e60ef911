"""akeneo-events-testkit: test receivers of Akeneo PIM's Events API against a byte-faithful mock PIM.

The public API is ``__all__`` below; anything else is internal. ``strategies`` and ``stateful`` (Hypothesis)
and ``pytest_plugin`` are imported on demand.
"""

from __future__ import annotations

# Wire format
from .encoding import php_json_encode, php_json_encode_bytes
from .events_api.signing import check_timestamp, sign, verify_request, verify_signature
from .credentials import generate_secret
from .schemas import ValidationIssue, is_valid, validate_bytes, validate_payload

# Model
from .versions import DEFAULT_PROFILE, PROFILES, Action, AuthorType, Profile, get_profile, resource_key
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
    InvalidPayload,
    KitError,
    ReceiverUnreachable,
    UnknownProfile,
    UsageError,
)
from .failures import ReceiverFailure, ReceiverServerError, ViolationsFound

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
    "InvalidPayload",
    "KitError",
    "ReceiverUnreachable",
    "UnknownProfile",
    "UsageError",
    "ReceiverFailure",
    "ReceiverServerError",
    "ViolationsFound",
    "__version__",
]
