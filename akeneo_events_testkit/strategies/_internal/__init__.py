"""The strategies' implementation: private, import :mod:`akeneo_events_testkit.strategies` instead."""
