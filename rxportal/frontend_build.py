"""What the production frontend build ships (used by rxconfig.py; nothing here runs at request time).

Radix Themes' styles.css is 700 KB unpacked (81 KB compressed, render-blocking on every page):
31 colour scales and the rules of about 60 components. The portal uses eight scales and a
third of the components, so the plugin below imports Radix's documented split files with only
those scales, and after the build drops the component rules no page can match
(scripts/trim_radix_css.mjs). bench/README.md has the figures.
"""
from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import reflex as rx

ROOT = Path(__file__).resolve().parent.parent
TRIM_SCRIPT = ROOT / "scripts" / "trim_radix_css.mjs"

# Every colour the pages use: `color_scheme="..."` values, the theme's accent (indigo) and
# the grey Radix pairs with it (slate). tests/unit/test_frontend_build.py checks the code
# against this list.
PORTAL_COLORS = ("indigo", "slate", "gray", "red", "amber", "green", "orange", "blue")

logger = logging.getLogger(__name__)


def radix_colors() -> tuple[str, ...] | None:
    """The colour scales to ship: RXPORTAL_RADIX_COLORS (a comma list, or "all" for the whole
    stylesheet as Reflex ships it), else the portal's own."""
    wanted = os.environ.get("RXPORTAL_RADIX_COLORS", "").strip()
    if wanted == "all":
        return None
    colors = tuple(c.strip() for c in wanted.split(",") if c.strip().isalpha())
    return colors or PORTAL_COLORS


def trim_enabled() -> bool:
    return os.environ.get("RXPORTAL_RADIX_COLORS", "").strip() != "all"


class SlimRadixThemes(rx.plugins.RadixThemesPlugin):
    """Radix Themes with only the colour scales and component styles the portal uses."""

    def get_frontend_dependencies(self, **context):
        """None: Reflex would also put Radix's whole namespace on `window.__reflex` (for
        rx.dynamic, which the portal does not use), and so every component into the first
        chunk of every page. The components' own imports still install the package."""
        return ()

    def get_stylesheet_paths(self, **context):
        colors = radix_colors()
        if not self.enabled or colors is None:
            return super().get_stylesheet_paths(**context)
        return ("@radix-ui/themes/tokens/base.css",
                *(f"@radix-ui/themes/tokens/colors/{c}.css" for c in colors),
                "@radix-ui/themes/components.css", "@radix-ui/themes/utilities.css")

    def post_build(self, **context):
        static_dir = Path(context["static_dir"])
        if not self.enabled or not trim_enabled():
            return
        from reflex.utils import prerequisites

        web_dir = prerequisites.get_web_dir()
        result = subprocess.run(["node", str(TRIM_SCRIPT), str(web_dir), str(static_dir)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:  # a failed trim must not ship a half-written stylesheet
            raise RuntimeError(f"trim_radix_css.mjs failed: {result.stderr.strip()}")
        logger.info(result.stdout.strip() or result.stderr.strip())


# Reflex applies each state update from the server as an urgent React update: the billing page's
# first data (its tables and cards mounting) rendered in one task of 150-200 ms on a phone-speed
# CPU, and Lighthouse counted it as blocking time. Inside `startTransition` React renders it in
# slices of a few milliseconds, between which the browser answers taps (bench/README.md) — once
# the substates are read through React state (`state_reads_in_transitions` below): until
# 2026-12-02 they were read from an external store, which React renders synchronously anyway.
STATE_JS = "utils/state.js"
_REACT_IMPORT = 'import { useCallback, useEffect, useRef, useState } from "react";'
_DISPATCH = """        for (const substate in delta) {
          dispatch[substate](delta[substate]);
        }
"""
_TRANSITION_MARK = "startTransition(() => {  // rxportal"


def updates_in_transitions(state_js: str) -> str:
    """Reflex's utils/state.js with the server's state updates applied in a React transition."""
    if _TRANSITION_MARK in state_js:
        return state_js
    if _REACT_IMPORT not in state_js or _DISPATCH not in state_js:
        raise RuntimeError("Reflex's utils/state.js changed: update updates_in_transitions()")
    state_js = state_js.replace(
        _REACT_IMPORT, _REACT_IMPORT.replace("{ useCallback", "{ startTransition, useCallback"), 1)
    return state_js.replace(_DISPATCH, f"""        {_TRANSITION_MARK}
{_DISPATCH}        }});
""", 1)


# Reflex 0.10.1 reads each substate with `useSyncExternalStore`, and React renders every change of
# such a store synchronously, transition or not: the billing page's data (its tables and cards
# mounting) rendered and committed in one task of 70-110 ms unthrottled (280-440 ms on
# Lighthouse's phone CPU), run from a microtask after the websocket message (CPU profile,
# bench/README.md). Subscribed with state and an effect instead, the update made inside the
# transition above is a transition update: React renders it in slices and the browser answers
# taps between them. The deltas of one message are set in one transition, so the substates
# still change together.
CONTEXT_REGISTRY_JS = "utils/context-registry.js"
_EXTERNAL_STORE_IMPORT = """import {
  createContext,
  useContext,
  useMemo,
  useSyncExternalStore,
} from "react";"""
_EXTERNAL_STORE_READ = """export function useStateContext(name) {
  const store = useContext(StateStoreContext);
  const [subscribe, getSnapshot] = useMemo(
    () => [
      (listener) => store.subscribe(name, listener),
      () => store.getSnapshot(name) ?? app.initialState?.[name],
    ],
    [store, name],
  );
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}"""
_STATE_READ_MARK = "// rxportal: read in transitions"
_STATE_READ = f"""export function useStateContext(name) {{  {_STATE_READ_MARK}
  const store = useContext(StateStoreContext);
  const read = () => store.getSnapshot(name) ?? app.initialState?.[name];
  const [value, setValue] = useState(read);
  useEffect(() => {{
    const listener = () => setValue(store.getSnapshot(name) ?? app.initialState?.[name]);
    const unsubscribe = store.subscribe(name, listener);
    listener();  // a change between the first render and this subscription
    return unsubscribe;
  }}, [store, name]);
  return value;
}}"""


def state_reads_in_transitions(registry_js: str) -> str:
    """Reflex's utils/context-registry.js with substates read through state, not an external
    store (idempotent)."""
    if _STATE_READ_MARK in registry_js:
        return registry_js
    if _EXTERNAL_STORE_IMPORT not in registry_js or _EXTERNAL_STORE_READ not in registry_js:
        raise RuntimeError(
            "Reflex's utils/context-registry.js changed: update state_reads_in_transitions()")
    registry_js = registry_js.replace(_EXTERNAL_STORE_IMPORT, """import {
  createContext,
  useContext,
  useEffect,
  useState,
} from "react";""", 1)
    return registry_js.replace(_EXTERNAL_STORE_READ, _STATE_READ, 1)


# Each prerendered page shows its content from its HTML and stylesheet alone; its 20-30 scripts
# (hydration, then the data) are announced in its head as `modulepreload`, which Chromium fetches
# at high priority: over HTTP/1.1 (six connections) they took the bandwidth and connections the
# stylesheet needed, and the first paint waited for them (the billing page painted at 2.8 s in
# Lighthouse's slow 4G, bench/README.md). At low priority they come after the stylesheet.
_MODULEPRELOAD = '<link rel="modulepreload" href="'
_LOW_PRIORITY_MODULEPRELOAD = '<link rel="modulepreload" fetchpriority="low" href="'


def scripts_after_the_stylesheet(html: str) -> str:
    """A built page with its module preloads at low fetch priority (idempotent)."""
    return html.replace(_MODULEPRELOAD, _LOW_PRIORITY_MODULEPRELOAD)


def lower_module_preloads(static_dir: Path) -> int:
    """Apply `scripts_after_the_stylesheet` to every built page; the number of pages changed."""
    changed, lowered = 0, False
    for page in static_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        patched = scripts_after_the_stylesheet(html)
        lowered = lowered or _LOW_PRIORITY_MODULEPRELOAD in patched
        if patched != html:
            page.write_text(patched, encoding="utf-8")
            changed += 1
    if not lowered:
        raise RuntimeError("React Router's module preloads changed: update lower_module_preloads()")
    return changed


# Rolldown gives each set of pages sharing a module a chunk of its own: the billing page loaded 30
# files, 17 of them under 2 KB compressed (an icon, a small Radix component each). Over HTTP/1.1
# (six connections) each costs the phone a round trip. The small icon and component modules that
# at least SHARED_BY pages import go into one chunk that those pages load; one used by a page or
# two (a staff dialog) stays with them, so that the customer pages do not evaluate it
# (bench/README.md, "Seventh pass": billing 216 -> 211 KB, login 209 -> 204 KB).
VITE_CONFIG_JS = "vite.config.js"
_CHUNK_GROUPS = """          groups: [
            {
              test: /env.json/,
              name: "reflex-env",
            },
"""
_SMALL_UI_MARK = "// rxportal: small ui modules"
SMALL_UI_MODULES = (r"/node_modules[\\/](lucide-react[\\/]dist[\\/]esm[\\/]icons"
                    r"|@radix-ui[\\/]themes[\\/]dist[\\/]esm[\\/]components)[\\/]/")
SMALL_UI_MODULE_BYTES = 4096
SHARED_BY = 3


def small_modules_together(vite_config: str) -> str:
    """Reflex's vite.config.js with the small icon and component modules in one chunk."""
    if _SMALL_UI_MARK in vite_config:
        return vite_config
    if _CHUNK_GROUPS not in vite_config:
        raise RuntimeError("Reflex's vite.config.js changed: update small_modules_together()")
    return vite_config.replace(_CHUNK_GROUPS, f"""{_CHUNK_GROUPS}            {{  {_SMALL_UI_MARK}
              test: {SMALL_UI_MODULES},
              name: "ui",
              maxModuleSize: {SMALL_UI_MODULE_BYTES},
              minShareCount: {SHARED_BY},
            }},
""", 1)


class FrontendPatches(rx.plugins.Plugin):
    """The patches above, applied to the frontend Reflex generates at every compile (it leaves
    an already patched file as it is) and to the pages it builds."""

    def pre_compile(self, **context):
        context["add_modify_task"](STATE_JS, updates_in_transitions)
        context["add_modify_task"](CONTEXT_REGISTRY_JS, state_reads_in_transitions)
        context["add_modify_task"](VITE_CONFIG_JS, small_modules_together)

    def post_build(self, **context):
        # Before Reflex compresses the build (the .gz/.br files are made from these).
        logger.info("module preloads at low priority in %d pages",
                    lower_module_preloads(Path(context["static_dir"])))

