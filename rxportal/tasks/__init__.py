"""Feature jobs: each module here defines huey tasks with `from rxportal.jobs import huey`.
rxportal.jobs imports them all, so the worker knows every task."""
