"""/admin/reload: swap in an edited ontology without a restart (bearer token from settings)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from pydantic import BaseModel

from kg_service.errors import Forbidden, Problem, Unauthorized
from kg_service.reload import ReloadRejected, reload_state

router = APIRouter(prefix="/admin", tags=["operations"])


class ReloadRejectedProblem(Problem):
    slug, status, title = "reload-rejected", 422, "The new ontology was rejected; the old one keeps serving"


class ReloadResponse(BaseModel):
    status: str
    version: str
    previous_version: str


def check_token(request: Request) -> None:
    token = request.app.state.settings.admin_token
    if not token:
        raise Forbidden("Reload over HTTP is disabled.", hint="Start the service with KG_ADMIN_TOKEN set, or send SIGHUP.")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("This operation needs a bearer token.", hint="Send Authorization: Bearer <KG_ADMIN_TOKEN>.",
                           headers={"WWW-Authenticate": 'Bearer realm="kg-service"'})
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Forbidden("The bearer token is not the admin token.")


@router.post("/reload", response_model=ReloadResponse, summary="Reload ontology/ atomically (admin)")
def reload(request: Request) -> ReloadResponse:
    """Loads and validates the ontology directory again; on success swaps it in, on failure answers 422 with
    the validation report and keeps serving the old graph."""
    check_token(request)
    try:
        result = reload_state(request.app.state.kg, request.app.state.settings)
    except ReloadRejected as exc:
        raise ReloadRejectedProblem("The reloaded ontology failed its checks.", report=exc.report) from exc
    return ReloadResponse(status="reloaded" if result.changed else "unchanged", version=result.version,
                          previous_version=result.previous_version)
