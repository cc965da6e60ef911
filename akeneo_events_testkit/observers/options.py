"""One observer from the ``fuzz`` options: ``--state-url``, ``--sink``, ``--observe-sql`` or ``--observe-log``,
each with its companions, one way at a time; every wrong combination is a usage error naming the fix."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from .log import LogObserver
from .sink import Sink
from .sql import SqlObserver

__all__ = ["OBSERVE_OPTIONS", "observer_from_options"]

#: the ways to observe a receiver over HTTP, as the command line names them
OBSERVE_OPTIONS = "--state-url, --sink, --observe-sql or --observe-log"
_NEEDS = (("sink_map", "--sink-map", "sink", "--sink [PORT]"), ("query", "--query", "observe_sql", "--observe-sql"),
          ("pattern", "--pattern", "observe_log", "--observe-log FILE"))


def observer_from_options(*, state_url: str | None = None, sink: int | None = None, sink_map: str | None = None,
                          observe_sql: str | None = None, query: str | None = None,
                          observe_log: str | None = None, pattern: str | None = None) -> Any:
    """The observer the options ask for (:class:`Sink` not started yet), or None for ``--state-url`` or none."""
    given = dict(state_url=state_url, sink=sink, sink_map=sink_map, observe_sql=observe_sql, query=query,
                 observe_log=observe_log, pattern=pattern)
    ways = [option for name, option in (("state_url", "--state-url"), ("sink", "--sink"),
                                        ("observe_sql", "--observe-sql"), ("observe_log", "--observe-log"))
            if given[name] is not None]
    if len(ways) > 1:
        raise UsageError(f"{' and '.join(ways)}: choose one way to observe the receiver ({OBSERVE_OPTIONS})")
    for companion, option, way, way_option in _NEEDS:
        if given[companion] is not None and given[way] is None:
            raise UsageError(f"{option} needs {way_option}")
        if given[way] is not None and not given[companion]:
            raise UsageError(f"{way_option.split()[0]} needs {option}: " + {
                "sink_map": "where each forwarded body holds the event id, the resource and the removal, e.g. "
                            "--sink-map event_id=/event/id,uuid=/product/uuid,removed=/deleted",
                "query": "the SELECT returning each application in order, e.g. --query 'SELECT event_id, "
                         "resource_key, removed FROM applications ORDER BY seq'",
                "pattern": "a regular expression with the groups event_id, key (or uuid, identifier, code) and "
                           r"removed, e.g. --pattern 'applied (?P<event_id>\S+) (?P<key>\S+)(?P<removed> removed)?'",
            }[companion])
    if sink is not None:
        assert sink_map is not None
        return Sink(sink_map, port=sink)
    if observe_sql is not None:
        assert query is not None
        return SqlObserver(observe_sql, query)
    if observe_log is not None:
        assert pattern is not None
        return LogObserver(pattern, observe_log)
    return None
