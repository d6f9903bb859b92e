"""Logo uploads: checked by content, re-encoded, stored in the data folder, audited; a script
named .png and a 50 MB file are refused and nothing is stored."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import select

from rxportal.models import AuditLog
from rxportal.services import branding
from rxportal.services import settings as isp_settings
from rxportal.services.branding import UploadRefused

ACTOR = {"actor_id": 1, "actor_name": "alice"}


def image_bytes(fmt="PNG", size=(300, 100), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def stored_files(data_dir):
    folder = data_dir / "branding"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_a_real_image_is_stored_as_png_in_the_data_folder(session, data_dir, fmt):
    relative = branding.save_logo(session, image_bytes(fmt), **ACTOR)
    session.commit()
    assert isp_settings.get(session, "logo_path") == relative
    path = data_dir / relative
    with Image.open(path) as stored:
        assert stored.format == "PNG" and stored.size == (300, 100)
    assert branding.logo_data_uri(session).startswith("data:image/png;base64,")
    row = session.exec(select(AuditLog)).one()
    assert row.detail == {"setting": "logo_path", "before": "", "after": relative}


def test_a_big_logo_is_scaled_down(session, data_dir):
    relative = branding.save_logo(session, image_bytes(size=(3000, 3000)), **ACTOR)
    with Image.open(data_dir / relative) as stored:
        assert max(stored.size) <= 800


@pytest.mark.parametrize("data", [
    b"#!/bin/sh\nrm -rf /\n",
    b"<script>alert(1)</script>",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,  # a PNG signature and nothing valid after it
    b"",
])
def test_what_is_not_an_image_is_refused_and_nothing_is_stored(session, data_dir, data):
    with pytest.raises(UploadRefused):
        branding.save_logo(session, data, **ACTOR)
    assert stored_files(data_dir) == []
    assert isp_settings.get(session, "logo_path") == ""


def test_a_50_mb_file_is_refused_and_nothing_is_stored(session, data_dir):
    data = image_bytes() + b"\x00" * (50 * 1024 * 1024)
    with pytest.raises(UploadRefused) as error:
        branding.save_logo(session, data, **ACTOR)
    assert error.value.msgid.startswith("This file is too large")
    assert stored_files(data_dir) == []


def test_other_image_formats_and_huge_dimensions_are_refused(session, data_dir):
    with pytest.raises(UploadRefused):
        branding.save_logo(session, image_bytes("BMP"), **ACTOR)
    # A small file that claims enormous dimensions (a decompression bomb).
    with pytest.raises(UploadRefused):
        branding.save_logo(session, image_bytes(size=(5000, 10), color=(0, 0, 0)), **ACTOR)
    assert stored_files(data_dir) == []


def test_logo_path_outside_the_data_folder_is_ignored(session):
    isp_settings.put(session, "logo_path", "../../etc/passwd")
    assert branding.logo_file(session) is None and branding.logo_data_uri(session) == ""


def test_remove_logo(session):
    branding.save_logo(session, image_bytes(), **ACTOR)
    branding.remove_logo(session, **ACTOR)
    assert branding.logo_data_uri(session) == ""
