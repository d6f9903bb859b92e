"""The JSON API for the ISP's own systems (Starlette routes mounted beside the Reflex app)."""
