"""The front page: what this service is and where to go (no personal data, no login)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["operations"])

HOME = """<!doctype html>
<html lang="uk"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Оберіг · oberih</title>
<style>
 body{font-family:system-ui,"DejaVu Sans",sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;
      line-height:1.5;color:#1a1a1a}
 a{display:block;font-size:1.2rem;margin:.6rem 0} small{color:#555}
</style></head><body>
<h1>Оберіг · oberih</h1>
<p>Реєстр призовників, військовозобов'язаних та резервістів.<br>
<small>Register of conscripts, persons liable for military service and reservists.
All data in a demo register is synthetic.</small></p>
<a href="/verify">Перевірити документ · Verify a registration document</a>
<a href="/docs">API (OpenAPI 3.1) · for officers, commissions, employers and registers</a>
<a href="/api/v1/documents/trust-list">Довірені ключі · Trust list of document signers</a>
<a href="/health/ready">Стан сервісу · Service status</a>
</body></html>"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home() -> HTMLResponse:
    return HTMLResponse(HOME)
