"""The witness's HTTP face (c2sp.org/tlog-witness): `POST /add-checkpoint` and, for monitors,
`GET /<sha256(origin) hex>/checkpoint` (its latest cosigned checkpoint with the log's signature and its
cosignature). Served by `gongjian witness serve` (interfaces/cli_witness.py); the logic is
application/witness.py."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from application.witness import MAX_BODY, Witness, origin_hash


def witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("request too large\n", status_code=413)
        answer = await run_in_threadpool(witness.add_checkpoint, body)
        # the header as given: `text/x.tlog.size` exactly (a media type would get "; charset=utf-8")
        return Response(answer.body, status_code=answer.status, headers={"content-type": answer.content_type})

    async def checkpoint(request: Request) -> Response:
        wanted = request.path_params["origin_hash"]
        for origin in witness.logs:
            if origin_hash(origin) == wanted:
                state = await run_in_threadpool(witness.state, origin)
                if state is not None:
                    return PlainTextResponse(state[1])
        return PlainTextResponse("no checkpoint cosigned for this log\n", status_code=404)

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )
