"""``python -m akeneo_events_testkit.cli``: the same as the ``akeneo-events`` command."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
