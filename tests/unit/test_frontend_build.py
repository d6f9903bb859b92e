"""The trimmed Radix Themes stylesheet keeps every colour the pages use (rxportal/frontend_build.py):
a colour missing from the list would show as an unstyled (transparent or black) badge or callout."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rxportal import frontend_build
from rxportal.frontend_build import PORTAL_COLORS, radix_colors

ROOT = Path(__file__).resolve().parents[2]
# color_scheme="red", and the colours of color_scheme=rx.cond(..., "red", "indigo")
COLOR_SCHEME = re.compile(r'color_scheme=(?:"([a-z]+)"|rx\.cond\([^)]*?"([a-z]+)",\s*"([a-z]+)"\))')
# var(--green-11), var(--amber-a3)
COLOR_VAR = re.compile(r"var\(--([a-z]+)-a?\d+\)")
NOT_SCALES = {"accent", "color", "space", "radius", "font", "line", "letter", "shadow", "cursor",
              "default", "scaling"}
# form_message(text, kind="green") and its default: the callout's color_scheme=kind
MESSAGE_KIND = re.compile(r'form_message\(.*?\bkind(?:: str)?\s*=\s*"([a-z]+)"')


def _portal_sources() -> str:
    files = [*(ROOT / "rxportal").rglob("*.py"), *(ROOT / "assets").glob("*.css")]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def test_every_colour_the_code_names_is_shipped():
    source = _portal_sources()
    named = {c for groups in COLOR_SCHEME.findall(source) for c in groups if c}
    named |= {c for c in COLOR_VAR.findall(source) if c not in NOT_SCALES}
    named |= set(MESSAGE_KIND.findall(source))
    assert named, "the patterns found no colour at all: they no longer match the code"
    assert named - set(PORTAL_COLORS) == set(), "add these colours to PORTAL_COLORS"


def test_the_accent_and_its_grey_are_shipped():
    assert {"indigo", "slate", "gray"} <= set(PORTAL_COLORS)


def test_colour_list_from_the_environment(monkeypatch):
    monkeypatch.setenv("RXPORTAL_RADIX_COLORS", " red, blue ,1; drop table")
    assert radix_colors() == ("red", "blue")
    monkeypatch.setenv("RXPORTAL_RADIX_COLORS", "all")
    assert radix_colors() is None and not frontend_build.trim_enabled()
    monkeypatch.delenv("RXPORTAL_RADIX_COLORS")
    assert radix_colors() == PORTAL_COLORS and frontend_build.trim_enabled()


def test_stylesheet_paths_are_radix_split_files(monkeypatch):
    monkeypatch.delenv("RXPORTAL_RADIX_COLORS", raising=False)
    paths = frontend_build.SlimRadixThemes().get_stylesheet_paths()
    assert paths[0] == "@radix-ui/themes/tokens/base.css"
    assert "@radix-ui/themes/tokens/colors/indigo.css" in paths
    assert "@radix-ui/themes/tokens/colors/crimson.css" not in paths
    assert paths[-2:] == ("@radix-ui/themes/components.css", "@radix-ui/themes/utilities.css")
    monkeypatch.setenv("RXPORTAL_RADIX_COLORS", "all")
    assert frontend_build.SlimRadixThemes().get_stylesheet_paths() == (
        "@radix-ui/themes/styles.css",)


def test_radix_namespace_is_not_put_on_every_page():
    assert frontend_build.SlimRadixThemes().get_frontend_dependencies() == ()


def test_state_updates_are_applied_in_a_transition_once():
    """The patch applies to the utils/state.js of the Reflex installed here (a Reflex upgrade
    that changes the file fails the build, and this test, rather than silently losing it)."""
    import reflex_base

    from rxportal.frontend_build import updates_in_transitions

    template = Path(reflex_base.__file__).parent / ".templates" / "web" / "utils" / "state.js"
    patched = updates_in_transitions(template.read_text())
    assert "import { startTransition, useCallback" in patched
    handler = patched[patched.index('on("event"'):]
    assert handler.index("startTransition(") < handler.index("dispatch[substate](")
    assert updates_in_transitions(patched) == patched
    with pytest.raises(RuntimeError):
        updates_in_transitions("export const nothing = 1;")


def test_substates_are_read_through_state_so_transitions_apply_once():
    """React renders a change of a `useSyncExternalStore` store synchronously, transition or
    not: the patched utils/context-registry.js of the Reflex installed here subscribes with
    state and an effect (a Reflex upgrade that changes the file fails the build and this test)."""
    import reflex_base

    from rxportal.frontend_build import state_reads_in_transitions

    template = (Path(reflex_base.__file__).parent / ".templates" / "web" / "utils"
                / "context-registry.js")
    original = template.read_text()
    assert "useSyncExternalStore(subscribe" in original
    patched = state_reads_in_transitions(original)
    assert "useSyncExternalStore" not in patched
    hook = patched[patched.index("export function useStateContext"):]
    hook = hook[:hook.index("\n}\n")]
    assert "useState(" in hook and "store.subscribe(name" in hook and "return unsubscribe" in hook
    assert state_reads_in_transitions(patched) == patched
    with pytest.raises(RuntimeError):
        state_reads_in_transitions("export const nothing = 1;")


def test_built_pages_fetch_their_scripts_after_the_stylesheet(tmp_path):
    """Every built page's module preloads are lowered, once; the stylesheet keeps its priority;
    the compressed copies (made after this hook) are not touched."""
    page = ('<head><link as="style" href="/assets/s.css" rel="preload"/>'
            '<link rel="modulepreload" href="/assets/a.js"/>'
            '<link rel="modulepreload" href="/assets/b.js"/></head>')
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing.html").write_text(page)
    (tmp_path / "billing" / "pay.html").write_text(page)
    (tmp_path / "app.js").write_text('"<link rel=\\"modulepreload\\" href=\\""')
    assert frontend_build.lower_module_preloads(tmp_path) == 2
    for built in (tmp_path / "billing.html", tmp_path / "billing" / "pay.html"):
        html = built.read_text()
        assert html.count('rel="modulepreload" fetchpriority="low" href=') == 2
        assert '<link as="style" href="/assets/s.css" rel="preload"/>' in html
    assert frontend_build.lower_module_preloads(tmp_path) == 0  # already done: unchanged
    assert "fetchpriority" not in (tmp_path / "app.js").read_text()


def test_a_build_without_module_preloads_fails_loudly(tmp_path):
    """React Router writing its preloads otherwise must not go unnoticed."""
    (tmp_path / "index.html").write_text('<link rel="modulepreload" crossorigin href="/a.js"/>')
    with pytest.raises(RuntimeError, match="module preloads changed"):
        frontend_build.lower_module_preloads(tmp_path)


def test_small_icon_and_component_modules_share_one_chunk():
    """Applied to the vite.config.js Reflex generates (its template, rendered as Reflex does):
    one more chunk group, once; a changed template fails the build instead of being ignored."""
    from reflex.utils import frontend_skeleton
    from reflex_base.config import get_config

    generated = frontend_skeleton._compile_vite_config(get_config())
    patched = frontend_build.small_modules_together(generated)
    assert patched.count("rxportal: small ui modules") == 1
    assert 'name: "ui"' in patched and "maxModuleSize: 4096" in patched
    assert "minShareCount: 3" in patched
    assert 'name: "reflex-env"' in patched  # Reflex's own group kept
    assert frontend_build.small_modules_together(patched) == patched
    with pytest.raises(RuntimeError, match="vite.config.js changed"):
        frontend_build.small_modules_together("export default {};")


def test_the_chunk_group_matches_icons_and_radix_components_only():
    import re

    pattern = re.compile(frontend_build.SMALL_UI_MODULES.strip("/").replace("\\\\", "\\"))
    assert pattern.search("/w/.web/node_modules/lucide-react/dist/esm/icons/x.mjs")
    assert pattern.search("/w/.web/node_modules/@radix-ui/themes/dist/esm/components/card.js")
    assert not pattern.search("/w/.web/node_modules/react-dom/cjs/react-dom.production.js")
    assert not pattern.search("/w/.web/app/routes/[billing]._index.jsx")
