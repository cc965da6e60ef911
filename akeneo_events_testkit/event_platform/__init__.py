"""The Event Platform wire profile: one CloudEvent per request, raw-body HMAC with rotation, retries and
suspension (event-platform-facts.md). Never imports :mod:`akeneo_events_testkit.events_api`."""
