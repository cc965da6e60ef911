"""The Events API wire profile: batches of up to 10 events, HMAC over ``"<timestamp>.<raw body>"``, sent once
with a 0.5 s timeout (events-api-facts.md). Never imports :mod:`akeneo_events_testkit.event_platform`."""
