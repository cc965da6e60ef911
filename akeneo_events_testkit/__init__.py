"""akeneo-events-testkit: test receivers of Akeneo PIM's Events API against a byte-faithful mock PIM."""

from __future__ import annotations

# Time
from .clock import Clock, FakeClock, SystemClock

# Wire format
from .encoding import php_json_encode, php_json_encode_bytes

# Errors
from .errors import EncodingError, InvalidPayload, KitError, UnknownProfile, UsageError

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
from .signing import check_timestamp, generate_secret, sign, verify_request, verify_signature

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
    # Time
    "Clock",
    "FakeClock",
    "SystemClock",
    # Errors
    "EncodingError",
    "InvalidPayload",
    "KitError",
    "UnknownProfile",
    "UsageError",
    "__version__",
]
