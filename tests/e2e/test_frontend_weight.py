"""What the pages download (issue 9: at most 250 KB of compressed JavaScript and CSS per page before
Stripe.js; the chart library only where there is a chart; Stripe.js only where a card is entered).
Counted as Chromium receives it from the production build: encoded (Brotli) bytes on the wire."""
from __future__ import annotations

import json
import re
import subprocess
import urllib.request

from tests.e2e.conftest import PHONE, ROOT, login, new_page, wait_ready

BUDGET_KB = 250


def _record_requests(page) -> list:
    """Every request the page completes from now on."""
    seen = []
    page.on("requestfinished", lambda r: seen.append(r))
    return seen


def _weigh(requests) -> tuple[float, list[str]]:
    assets = [r for r in requests if r.resource_type in ("script", "stylesheet")]
    return sum(r.sizes()["responseBodySize"] for r in assets) / 1024, [r.url for r in assets]


def test_login_page_weight_and_what_it_loads(browser, portal):
    page = new_page(browser, portal, PHONE)
    try:
        requests = _record_requests(page)
        page.goto("/")
        wait_ready(page)
        kilobytes, urls = _weigh(requests)
        assert kilobytes <= BUDGET_KB, f"login page: {kilobytes:.0f} KB of JS+CSS: {urls}"
        assert not any("plotly" in u or "stripe" in u.lower() for u in urls), urls
    finally:
        page.context.close()


def test_billing_page_weight_and_no_chart_or_stripe(browser, portal):
    first = new_page(browser, portal, PHONE)
    login(first)
    session = first.context.storage_state()
    first.context.close()
    # A first visit: a fresh context with the session but nothing cached.
    context = browser.new_context(viewport=PHONE, base_url=portal.url, is_mobile=True,
                                  has_touch=True, storage_state=session)
    try:
        page = context.new_page()
        requests = _record_requests(page)
        page.goto("/billing")
        wait_ready(page)
        assert page.url.endswith("/billing/") or page.url.endswith("/billing")
        kilobytes, urls = _weigh(requests)
        assert kilobytes <= BUDGET_KB, f"billing page: {kilobytes:.0f} KB of JS+CSS: {urls}"
        assert not any("plotly" in u or "js.stripe.com" in u for u in urls), urls
    finally:
        context.close()


def _stylesheet(portal) -> str:
    html = urllib.request.urlopen(portal.url + "/").read().decode()
    return re.search(r'href="(/assets/__reflex_global_styles-[^"]+\.css)"', html)[1]


def test_assets_are_sent_with_brotli_and_cached(portal):
    stylesheet = _stylesheet(portal)
    request = urllib.request.Request(portal.url + stylesheet, headers={"Accept-Encoding": "br, gzip"})
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Encoding"] == "br"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_stylesheet_has_the_used_radix_components_only(portal):
    css = urllib.request.urlopen(portal.url + _stylesheet(portal)).read().decode()
    for used in (".rt-Button", ".rt-TextFieldRoot", ".rt-BaseDialogContent", ".rt-TableRoot",
                 ".rt-CalloutRoot", "--indigo-9:", "--orange-9:"):
        assert used in css, used
    # Radix's menus: the avatar menu is a native popover since 2026-12-01.
    for unused in (".rt-Kbd", ".rt-HoverCardContent", ".rt-DataListRoot", ".rt-BaseMenuContent",
                   ".rt-SegmentedControlRoot", "--crimson-9:", "--plum-9:"):
        assert unused not in css, unused


def test_trim_rules_keep_what_can_match(portal):
    """scripts/trim_radix_css.mjs on a small stylesheet (with the build's own postcss)."""
    css = (".rt-Button{a:1}.rt-Kbd{b:2}.rt-Button:where(.rt-Kbd){c:3}"
           ".rt-Kbd,.rt-Button .x{d:4}.y:not(.rt-Kbd){e:5}"
           "@media (min-width:1px){.rt-Kbd{f:6}}@keyframes rt-spin{from{g:7}}")
    script = f"""
        import {{ createRequire }} from "node:module";
        import {{ trimCss }} from {json.dumps(str(ROOT / "scripts" / "trim_radix_css.mjs"))};
        const postcss = createRequire({json.dumps(str(ROOT / ".web" / "package.json"))})("postcss");
        process.stdout.write(trimCss(postcss, {json.dumps(css)}, new Set(["rt-Button"])));
    """
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True,
                         text=True, check=True).stdout
    assert out == (".rt-Button{a:1}.rt-Button:where(.rt-Kbd){c:3}.rt-Button .x{d:4}"
                   ".y:not(.rt-Kbd){e:5}@keyframes rt-spin{from{g:7}}")


def _node(script: str) -> str:
    return subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True,
                          text=True, check=True).stdout


def test_trim_keeps_the_breakpoint_classes_the_pages_can_make(portal):
    """Only the breakpoint/value pairs the JavaScript gives survive, and the CSS-variable form
    of a breakpoint in use; a selector naming them as alternatives is kept whole."""
    javascript = ('jsx(Flex,{direction:{initial:"column",sm:"row"}});'
                  'jsx(Grid,{columns:({ ["initial"] : "1", ["lg"] : "4" })})')
    css = (r"@media (width>=768px){.sm\:rt-r-fd-row{a:1}.sm\:rt-r-fd-column{b:2}"
           r".sm\:rt-r-w{width:var(--width-sm)}.rt-Button:where(.sm\:rt-r-size-2){c:3}"
           r".x:not(.sm\:rt-r-p-1){d:4}}"
           r"@media (width>=1024px){.lg\:rt-r-gtc-4{e:5}.lg\:rt-r-gtc-3{f:6}}"
           r"@media (width>=520px){.xs\:rt-r-w{width:var(--width-xs)}.xs\:-rt-r-m-2{g:7}}")
    module = json.dumps(str(ROOT / "scripts" / "trim_radix_css.mjs"))
    out = _node(f"""
        import {{ createRequire }} from "node:module";
        import {{ responsiveValues, trimCss }} from {module};
        const postcss = createRequire({json.dumps(str(ROOT / ".web" / "package.json"))})("postcss");
        const given = responsiveValues({json.dumps(javascript)});
        process.stdout.write(JSON.stringify([...given].map(([k, v]) => [k, [...v]])) + "\\n");
        process.stdout.write(trimCss(postcss, {json.dumps(css)}, new Set(["rt-Button"]), given));
    """)
    given, trimmed = out.split("\n", 1)
    assert dict(json.loads(given)) == {"sm": ["row"], "lg": ["4"]}
    assert trimmed == (r"@media (width>=768px){.sm\:rt-r-fd-row{a:1}"
                       r".sm\:rt-r-w{width:var(--width-sm)}.x:not(.sm\:rt-r-p-1){d:4}}"
                       r"@media (width>=1024px){.lg\:rt-r-gtc-4{e:5}}")


def test_stylesheet_keeps_the_billing_page_breakpoints_only(portal):
    css = urllib.request.urlopen(portal.url + _stylesheet(portal)).read().decode()
    for used in (r".sm\:rt-r-fd-row", r".sm\:rt-r-ai-center", r".sm\:rt-r-gtc-2",
                 r".md\:rt-r-gtc-2", r".lg\:rt-r-gtc-4"):
        assert used in css, used
    # Kept by value, not by prop: sm:"2" keeps .sm\:rt-r-size-2 too, which no page needs.
    for unused in (r".xs\:", r".xl\:", r".sm\:rt-r-size-3", r".lg\:rt-r-gtc-3"):
        assert unused not in css, unused
    assert len(css) < 300_000  # 448 KB with every breakpoint's classes
