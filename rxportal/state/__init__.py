"""Reflex state: one thin class per page or concern. Handlers check the session, call a
service, and keep only what the page shows."""
