"""Built-in observers: the observation contract (README: observation contract) built from what a receiver
already does, so that no adapter has to be written.

- :class:`~.sink.Sink` serves an HTTP endpoint the receiver forwards to (its downstream call);
- :class:`~.sql.SqlObserver` queries the receiver's own database (SQLite, or PostgreSQL with psycopg);
- :class:`~.log.LogObserver` matches a regular expression over the receiver's log lines.

Each one has ``observation()``, so it is passed as ``observe=`` wherever a callable is taken (``akeneo_check``,
``assert_receiver_correct``, a profile's ``run``); :func:`~.options.observer_from_options` builds one from
the ``fuzz`` options.
"""

from __future__ import annotations

from .log import LogObserver
from .options import observer_from_options
from .records import Application, build_observation, resource_key_of
from .sink import Sink, parse_sink_map
from .sql import SqlObserver

__all__ = [
    "Application",
    "LogObserver",
    "Sink",
    "SqlObserver",
    "build_observation",
    "observer_from_options",
    "parse_sink_map",
    "resource_key_of",
]
