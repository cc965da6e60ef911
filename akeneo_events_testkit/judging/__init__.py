"""Judging, shared by both wire profiles: the observation contract, verdicts, content checks, rendering."""
