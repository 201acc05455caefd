"""The public ``/verify`` page: a pasted code, a photo of the QR, the verdict in plain words;
and in a real browser (Debian chromium driven by Playwright) on a phone-sized screen."""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from PIL import Image, ImageFilter

from oberih.api.app import create_app
from oberih.documents import qr_png
from tests.integration.api.conftest import NOW, World, citizen

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _issue(world: World, person_id: uuid.UUID) -> str:
    response = world.client.post("/api/v1/me/documents", headers=world.headers(citizen(person_id)))
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


def test_the_form_is_a_plain_page(world: World) -> None:
    page = world.client.get("/verify")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="viewport"' in page.text and 'name="photo"' in page.text


def test_a_pasted_code_is_valid_and_a_changed_one_is_not(world: World) -> None:
    code = _issue(world, world.kyiv_person)
    valid = world.client.post("/verify", data={"code": code})
    assert 'data-reason="ok"' in valid.text
    assert "Документ дійсний" in valid.text and "The document is valid" in valid.text
    assert "Шевченко" in valid.text and "Shevchenko" in valid.text
    tampered = code[:-3] + ("A" if code[-3] != "A" else "B") + code[-2:]
    refused = world.client.post("/verify", data={"code": tampered})
    assert 'data-reason="ok"' not in refused.text and "Шевченко" not in refused.text


def test_a_photo_of_the_qr_is_read(world: World) -> None:
    code = _issue(world, world.kyiv_person)
    response = world.client.post(
        "/verify", files={"photo": ("qr.png", qr_png(code, scale=5), "image/png")}
    )
    assert 'data-reason="ok"' in response.text
    not_a_picture = world.client.post(
        "/verify", files={"photo": ("qr.png", b"not an image", "image/png")}
    )
    assert 'data-reason="malformed"' in not_a_picture.text


def _phone_photo(code: str, directory: Path) -> Path:
    """A 3000 x 2400 JPEG of the QR on a grainy background, about 1.4 MB."""
    qr = Image.open(io.BytesIO(qr_png(code, scale=12))).convert("RGB")
    grain = Image.effect_noise((3000, 2400), 25).convert("RGB").filter(ImageFilter.GaussianBlur(1))
    photo = Image.blend(grain, Image.new("RGB", grain.size, (200, 190, 180)), 0.5)
    photo.paste(qr, (900, 500))
    path = directory / "photo.jpg"
    photo.save(path, "JPEG", quality=95)
    assert path.stat().st_size > 1 << 20
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(world: World) -> Iterator[str]:
    """The same app and database behind a real HTTP server, for the browser."""
    app = create_app(world.settings, engine=world.engine, clock=lambda: NOW)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _require_chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI (scripts/services installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")


@pytest.mark.browser
def test_the_page_in_a_phone_browser(
    world: World, served: str, tmp_path: Path, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("one engine is enough for the browser check")
    _require_chromium()
    from playwright.sync_api import sync_playwright

    code = _issue(world, world.kyiv_person)
    picture = tmp_path / "qr.png"
    picture.write_bytes(qr_png(code, scale=6))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            page.goto(f"{served}/verify")
            page.set_input_files("#photo", str(picture))
            page.click("button[type=submit]")
            page.wait_for_selector(".verdict")
            assert page.get_attribute(".verdict", "data-reason") == "ok"
            assert "Документ дійсний" in page.inner_text(".verdict")
            page.screenshot(path="/tmp/oberih-verify-valid.png", full_page=True)
            page.goto(f"{served}/verify")
            page.fill("#code", code[:-2] + "00")
            page.click("button[type=submit]")
            page.wait_for_selector(".verdict")
            assert page.get_attribute(".verdict", "data-reason") != "ok"
            page.screenshot(path="/tmp/oberih-verify-invalid.png", full_page=True)
            # A phone photo above the 1 MiB body limit: the page scales it down first.
            page.goto(f"{served}/verify")
            page.set_input_files("#photo", str(_phone_photo(code, tmp_path)))
            page.click("button[type=submit]")
            page.wait_for_selector(".verdict")
            assert page.get_attribute(".verdict", "data-reason") == "ok"
        finally:
            browser.close()


def test_anonymous_checks_are_rate_limited_per_address(world: World) -> None:
    statuses = [world.client.post("/verify", data={"code": "MR1:X"}).status_code for _ in range(40)]
    assert statuses[0] == 200 and statuses[-1] == 429
