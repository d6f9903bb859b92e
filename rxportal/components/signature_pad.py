"""A signature pad for a mouse, a finger or a stylus: react-signature-canvas (on signature_pad).

It is an `rx.NoSSRComponent` with `is_default = True`: as a plain component the package's UMD
default export arrives as a module object and the page crashes (React error #130). The pad is
read only when the customer presses Sign, in one round trip (`read_script` with
`rx.call_script`): the image is never pushed to the server on every stroke.
"""
from __future__ import annotations

import json

import reflex as rx
from reflex_base.event import no_args_event_spec


class SignatureCanvas(rx.NoSSRComponent):
    library = "react-signature-canvas@1.0.7"
    tag = "SignatureCanvas"
    is_default = True

    canvas_props: rx.Var[dict]
    pen_color: rx.Var[str]
    background_color: rx.Var[str]
    clear_on_resize: rx.Var[bool]
    min_width: rx.Var[float]
    max_width: rx.Var[float]

    on_begin: rx.EventHandler[no_args_event_spec]
    on_end: rx.EventHandler[no_args_event_spec]


def _ref(pad_id: str) -> str:
    return json.dumps(f"ref_{pad_id}")


def read_script(pad_id: str, fields: tuple[str, ...] = (),
                checkboxes: tuple[str, ...] = ()) -> str:
    """JavaScript for rx.call_script: {empty, data} (a PNG data URL), plus the values of the
    given inputs and checkboxes (by element id) read at the same moment, or {error}. It never
    throws, or the callback would never fire and the page would wait forever."""
    return (
        "(() => { try {"
        " const value = (id) => { const el = document.getElementById(id);"
        " return el ? String(el.value || '') : ''; };"
        " const checked = (id) => { const el = document.getElementById(id);"
        " return !!(el && el.checked); };"
        f" const out = {{}}; for (const id of {json.dumps(list(fields))}) out[id] = value(id);"
        f" for (const id of {json.dumps(list(checkboxes))}) out[id] = checked(id);"
        f" const holder = refs[{_ref(pad_id)}]; const pad = holder && holder.current;"
        " if (!pad || typeof pad.isEmpty !== 'function' || pad.isEmpty())"
        "  return {...out, empty: true, data: ''};"
        " return {...out, empty: false, data: pad.toDataURL('image/png')};"
        " } catch (e) { return {error: String(e)}; } })()"
    )


def clear_script(pad_id: str) -> str:
    return (f"(() => {{ try {{ const h = refs[{_ref(pad_id)}]; h && h.current && "
            "h.current.clear(); } catch (e) {} return true; })()")


def keep_on_resize_script(pad_id: str) -> str:
    """The library clears the pad on every window resize (clear_on_resize), and a phone's
    browser resizes the window when its address bar hides during a scroll. Instead: resize the
    canvas only when its width changes (rotation), and redraw the strokes already made."""
    return (
        "(() => { if (window.__rxSignaturePadResize) return true;"
        " window.__rxSignaturePadResize = true; let width = 0;"
        " const fit = () => { try {"
        f"  const h = refs[{_ref(pad_id)}]; const pad = h && h.current; if (!pad) return;"
        "  const canvas = pad.getCanvas(); if (!canvas || canvas.offsetWidth === width) return;"
        "  width = canvas.offsetWidth; const strokes = pad.toData();"
        "  const ratio = Math.max(window.devicePixelRatio || 1, 1);"
        "  canvas.width = canvas.offsetWidth * ratio; canvas.height = canvas.offsetHeight * ratio;"
        "  canvas.getContext('2d').scale(ratio, ratio); pad.clear();"
        "  if (strokes && strokes.length) pad.fromData(strokes);"
        " } catch (e) {} };"
        " window.addEventListener('resize', fit);"
        " const wait = setInterval(() => { const h = refs[" + _ref(pad_id) + "];"
        "  if (h && h.current) { clearInterval(wait); fit(); } }, 100);"
        " setTimeout(() => clearInterval(wait), 20000); return true; })()"
    )


def signature_pad(pad_id: str, label: rx.Var | str, height: str = "200px") -> rx.Component:
    """The pad in a bordered box, sized by CSS; the canvas's pixels follow its size."""
    return rx.box(
        SignatureCanvas.create(
            id=pad_id,
            pen_color="#111133",
            clear_on_resize=False,
            canvas_props={
                "className": "signature-canvas",
                "role": "img",
                "aria-label": label,
                "style": {"width": "100%", "height": height, "display": "block",
                          "touchAction": "none", "cursor": "crosshair"},
            },
        ),
        on_mount=rx.call_script(keep_on_resize_script(pad_id)),
        border="2px dashed var(--gray-8)", border_radius="8px", background="white",
        class_name="w-full", max_width="640px",
    )
