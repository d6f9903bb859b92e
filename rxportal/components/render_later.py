"""`render_later(...)`: part of a page mounted in a browser task after the rest.

A page's data arrives in one update, and React mounts all of it in one commit, which it cannot
slice: on the billing page that was one task of 150-200 ms on a phone's CPU (Lighthouse's
blocking time, bench/README.md "Seventh pass"). The tables at the bottom of the page, given to
`render_later`, mount in the next task, after the browser has painted the figures above them and
answered any tap. Being last on the page, they move nothing when they come. Only a page's first
mount in a tab waits (assets/render_later.js).
"""
from __future__ import annotations

import reflex as rx


class RenderLater(rx.Component):
    library = "$/public/render_later.js"
    tag = "RenderLater"


def render_later(*children: rx.Component) -> rx.Component:
    return RenderLater.create(*children)
