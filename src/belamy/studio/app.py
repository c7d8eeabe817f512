"""The studio's HTTP routes (Starlette): a thin translation of `service.Studio` to JSON and files.

Routes take opaque tile ids, never paths; every file sent is checked by the studio's guard
first. Failures a user's folder can cause answer as data (a tile's `problem`); a bad parameter is
a 400 with one line; anything unexpected is a one-line JSON 500, never an HTML error page.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from belamy.core.errors import BelamyError
from belamy.studio.paths import is_tile_id
from belamy.studio.query import QueryError
from belamy.studio.service import Studio
from belamy.studio.thumbs import ThumbError

STATIC = Path(__file__).parent / "static"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
MAX_BODY = 64 * 1024
NO_STORE = {"cache-control": "no-store"}


def _error(status: int, text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=status, headers=NO_STORE)


def build_app(studio: Studio, csrf: str) -> Starlette:
    """The Starlette app over `studio`; `csrf` goes into the page for its POSTs to send back."""
    # The front end is a dozen small files: read once into memory, which is also the allowlist.
    static = {p.name: (p.read_bytes(), TYPES[p.suffix]) for p in STATIC.iterdir() if p.is_file() and p.suffix in TYPES}
    page = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{CSRF}}", csrf)

    def tile_or_404(request: Request) -> Any:
        tid = request.path_params["tid"]
        tile = studio.library.get(tid) if is_tile_id(tid) else None
        if tile is None:
            studio.refresh()
            tile = studio.library.get(tid) if is_tile_id(tid) else None
        return tile

    async def index(request: Request) -> Response:
        return Response(page, media_type=TYPES[".html"], headers=NO_STORE)

    async def asset(request: Request) -> Response:
        found = static.get(request.path_params["name"])
        if found is None:
            return _error(404, "no such file")
        return Response(found[0], media_type=found[1], headers={"cache-control": "no-cache"})

    def renders(request: Request) -> Response:
        return JSONResponse(studio.page(request.query_params), headers=NO_STORE)

    def facets(request: Request) -> Response:
        return JSONResponse(studio.facets(), headers=NO_STORE)

    def detail(request: Request) -> Response:
        tile = tile_or_404(request)
        return _error(404, "no such render") if tile is None else JSONResponse(studio.detail(tile), headers=NO_STORE)

    def changes(request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            return _error(400, "since must be a whole number")
        return JSONResponse(studio.changes(since), headers=NO_STORE)

    def status(request: Request) -> Response:
        return JSONResponse(studio.status(), headers=NO_STORE)

    async def json_body(request: Request) -> dict[str, Any] | Response:
        raw = await request.body()
        if len(raw) > MAX_BODY or request.headers.get("content-type", "").split(";")[0] != "application/json":
            return _error(415, "send the change as a small JSON object")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "the body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "send the change as a JSON object")
        return body

    async def mark(request: Request) -> Response:
        tile = await run_in_threadpool(tile_or_404, request)
        if tile is None:
            return _error(404, "no such render")
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        return JSONResponse(await run_in_threadpool(studio.set_mark, tile, body), headers=NO_STORE)

    async def start_job(request: Request) -> Response:
        body = await json_body(request)
        if isinstance(body, Response):
            return body
        return JSONResponse(await run_in_threadpool(studio.start_job, body), headers=NO_STORE)

    def taste(request: Request) -> Response:
        return JSONResponse(studio.taste()[0], headers=NO_STORE)

    def jobs(request: Request) -> Response:
        return JSONResponse(studio.job_list(), headers=NO_STORE)

    def rescan(request: Request) -> Response:
        studio.library.scan(force=True)
        studio.identity.prime(studio.library.tiles())
        return JSONResponse(studio.status(), headers=NO_STORE)

    def original(request: Request) -> Response:
        tile = tile_or_404(request)
        real = studio.readable.resolved(tile.path) if tile is not None and not tile.is_folder else None
        if real is None:
            return _error(404, "no such render" if tile is None else f"{tile.name}: {tile.problem or 'gone'}")
        return FileResponse(real, media_type="image/png", headers={"cache-control": "no-cache"})

    async def thumb(request: Request) -> Response:
        tile = await run_in_threadpool(tile_or_404, request)
        if tile is None or tile.is_folder:
            return _error(404, "no such render" if tile is None else tile.problem)
        path = studio.thumbs.ready(tile)
        if path is None:
            try:
                path = await asyncio.wait_for(asyncio.wrap_future(studio.thumbs.request(tile)), timeout=60)
            except ThumbError as exc:
                return _error(422, f"{tile.name}: {exc}")
            except asyncio.TimeoutError:
                return _error(503, "thumbnail not ready yet")
        real = studio.readable.resolved(path)
        if real is None:
            return _error(404, "thumbnail gone")
        return FileResponse(real, media_type="image/webp", headers={"cache-control": "private, max-age=600"})

    def nearest(request: Request) -> Response:
        tile = tile_or_404(request)
        if tile is None:
            return _error(404, "no such render")
        try:
            path = studio.nearest_image(tile)
        except BelamyError as exc:
            return _error(404, str(exc))
        real = studio.readable.resolved(path)
        if real is None:
            return _error(404, "nearest image gone")
        return FileResponse(real, media_type="image/webp", headers={"cache-control": "private, max-age=600"})

    async def user_error(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    async def unexpected(request: Request, exc: Exception) -> Response:
        return _error(500, f"studio error: {type(exc).__name__}: {exc}")

    routes = [
        Route("/", index), Route("/static/{name}", asset),
        Route("/api/renders", renders), Route("/api/facets", facets), Route("/api/status", status),
        Route("/api/changes", changes), Route("/api/render/{tid}", detail),
        Route("/api/mark/{tid}", mark, methods=["POST"]), Route("/api/jobs", jobs), Route("/api/taste", taste),
        Route("/api/job", start_job, methods=["POST"]), Route("/api/rescan", rescan, methods=["POST"]),
        Route("/file/{tid}", original), Route("/thumb/{tid}", thumb),
        Route("/nearest/{tid}", nearest),
    ]
    return Starlette(routes=routes, exception_handlers={BelamyError: user_error, QueryError: user_error,
                                                        Exception: unexpected})
