"""akeneo-events-testkit: test receivers of Akeneo PIM's Events API against a byte-faithful mock PIM.

The public API is ``__all__`` below; anything else is internal. ``strategies`` and ``stateful`` (Hypothesis)
and ``pytest_plugin`` are imported on demand.
"""

from __future__ import annotations

# Wire format
from .encoding import php_json_encode, php_json_encode_bytes
from .signing import check_timestamp, generate_secret, sign, verify_request, verify_signature
from .schemas import ValidationIssue, is_valid, validate_bytes, validate_payload

# Model
from .model import (
    DEFAULT_PROFILE,
    MAX_BATCH_SIZE,
    PROFILES,
    Action,
    AuthorType,
    Delivery,
    Event,
    Profile,
    get_profile,
    resource_key,
)

# The mock PIM
from .catalog import Catalog
from .activity import generate_activity
from .faker_provider import PimProvider
from .pim import MockPim, RunResult, Subscription
from .faults import Fault, FaultPlan, parse_fault_spec
from .probes import PROBE_KINDS
from .restapi import RestApi

# The reference receiver
from .receiver import MemoryStore, ReceiverServer, ReferenceReceiver, SqliteStore

# Judging
from .oracle import VIOLATION_KINDS, Observation, Verdict, Violation, judge, parse_observation
from .campaign import CampaignConfig, CampaignResult, run_campaign
from .assertions import ObservationRecorder, assert_receiver_correct

# The Event Platform (the Events API's successor)
from .eventplatform import EpSecrets
from .ep_delivery import EpEmitter
from .ep_oracle import judge_ep
from .ep_campaign import compare_profiles, run_ep_campaign

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
