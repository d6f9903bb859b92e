"""The staff console at /admin (administrators and support staff)."""
