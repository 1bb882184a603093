"""`GET /graphs/<token>.png`: a notification's graph image, without sign-in (see
`notify/images.py` for what the token reveals and how long it lasts)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from sabamon.server.notify import images

from .session import State

router = APIRouter()
CACHE_SECONDS = 3600
"""How long a fetcher may keep its copy: short next to the image's own lifetime, and never
past its end."""


@router.get("/graphs/{name}")
async def graph_image(name: str, state: State) -> Response:
    now = state.now()
    found = await images.find(state.store, name, now)
    if found is None:
        message = "no such graph image (unknown or expired: images last a week)"
        return JSONResponse({"error": {"message": message}}, status_code=404)
    png, expires_at = found
    headers = {  # a copy kept no longer than the image itself: past its end it is gone
        "Cache-Control": f"public, max-age={min(CACHE_SECONDS, expires_at - now)}",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(png, media_type="image/png", headers=headers)
