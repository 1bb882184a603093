"""`GET /graphs/<token>.png`: a notification's graph image, without sign-in (see
`notify/images.py` for what the token reveals and how long it lasts)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from sabamon.server.notify import images

from .session import State

router = APIRouter()
CACHE_SECONDS = 3600
"""How long a fetcher may keep its copy: short next to the image's own lifetime."""


@router.get("/graphs/{name}")
async def graph_image(name: str, state: State) -> Response:
    png = await images.find(state.store, name, state.now())
    if png is None:
        message = "no such graph image (unknown or expired: images last a week)"
        return JSONResponse({"error": {"message": message}}, status_code=404)
    headers = {
        "Cache-Control": f"public, max-age={CACHE_SECONDS}",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(png, media_type="image/png", headers=headers)
