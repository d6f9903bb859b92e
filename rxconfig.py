"""Reflex configuration. Every deploy-specific value comes from the environment (see README)."""
import os

import reflex as rx

_port = int(os.environ.get("RXPORTAL_PORT", "3000"))

config = rx.Config(
    app_name="rxportal",
    frontend_port=_port,
    backend_port=_port,
    backend_host=os.environ.get("RXPORTAL_HOST", "127.0.0.1"),
    api_url=os.environ.get("RXPORTAL_API_URL", f"http://127.0.0.1:{_port}"),
    deploy_url=os.environ.get("RXPORTAL_PUBLIC_URL", f"http://127.0.0.1:{_port}"),
    db_url=os.environ.get("DATABASE_URL", "sqlite:///data/rxportal.db"),
    redis_url=os.environ.get("REDIS_URL") or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=["reflex.plugins.sitemap.SitemapPlugin"],
)
