"""The calibration targets: what the HTTP stack alone serves on this machine, under the same uvicorn as ours
(its httptools protocol with a response's head and body in one write, kg_service/http_protocol.py; before
6cfa5c2 both ran on uvicorn's stock protocol, as ours did).

`raw` is a bare ASGI app returning fixed bytes (the ceiling of the web server itself); `bare_fastapi` is a
FastAPI route returning the same bytes (the ceiling of a FastAPI answer with no middleware). Before
reading any figure, the harness checks wrk reaches far more on these than on the paths it measures.

    python bench/calibration.py raw --port 8001
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI
from fastapi.responses import Response

BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def raw(scope, receive, send) -> None:
    """Fixed bytes for every HTTP request; lifespan events acknowledged."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": BODY})


bare_fastapi = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@bare_fastapi.get("/healthz")
async def healthz() -> Response:
    return Response(content=BODY, media_type="application/json")


def main() -> None:
    import uvicorn

    from kg_service.http_protocol import CoalescingHttpToolsProtocol

    parser = argparse.ArgumentParser(description="serve a calibration app as ours is served")
    parser.add_argument("app", choices=["raw", "bare_fastapi"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(globals()[args.app], host=args.host, port=args.port, log_level="warning", access_log=False,
                ws="none", http=CoalescingHttpToolsProtocol)


if __name__ == "__main__":
    main()
