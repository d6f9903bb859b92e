"""The Reflex app: every page module registers itself; API routes are mounted here."""
import reflex as rx

from rxportal.pages import import_all

import_all()

app = rx.App(
    stylesheets=["/portal.css"],
    html_lang="en",
    head_components=[rx.el.meta(name="viewport", content="width=device-width, initial-scale=1")],
)
