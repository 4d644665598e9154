"""The transparency log: signed checkpoints, the verifier key, inclusion and
consistency proofs (auditors, agents), and a dispute's verifiable bundle (auditors)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from api import examples as ex
from api.audit_models import CheckpointPage, ConsistencyOut, InclusionOut
from api.deps import CallerDep, ServicesDep
from api.listing import CheckpointListCaller
from api.pagination import BIGINT, CursorParam, Limit, page
from api.problems import ApiProblem
from api.routers.audit import cursor_position
from api.routers.common import DISPUTE_READ, READ, DisputeId, read_docs
from domain.values import Actor
from domain.visibility import Read, ensure_may_read
from service import bundle, log_reads
from service.checkpoints import Checkpointer
from service.hub import Services

router = APIRouter(tags=["audit"])
LOG_READ = (*READ, "role_not_allowed")
TEXT = "text/plain; charset=utf-8"
OCTET_STREAM = "application/octet-stream"


def text_response(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": description, "content": {"text/plain": {"schema": {"type": "string"}, "example": example}}}
    }


def checkpointer(svc: Services, actor: Actor) -> Checkpointer:
    ensure_may_read(actor, Read.TRANSPARENCY_LOG)
    if svc.checkpoints is None:
        raise ApiProblem(503, "unavailable", "this process signs no checkpoints", {"Retry-After": "1"})
    return svc.checkpoints


def latest_note(checkpoints: Checkpointer) -> str:
    latest = checkpoints.store.latest() or checkpoints.issue(empty=True)
    assert latest is not None, "the first checkpoint is always issued"
    return latest.note


def problem(error: log_reads.LogReadError) -> ApiProblem:
    return ApiProblem(404 if isinstance(error, log_reads.LeafNotFound) else 422, error.code, str(error))


@router.get(
    "/v1/audit/log/checkpoint",
    operation_id="get_log_checkpoint",
    response_class=PlainTextResponse,
    responses={
        **read_docs(*LOG_READ),
        **text_response("the latest signed checkpoint (C2SP signed note)", ex.CHECKPOINT_NOTE),
    },
    summary="The latest signed checkpoint of the transparency log",
)
async def checkpoint(svc: ServicesDep, actor: CallerDep) -> PlainTextResponse:
    """The C2SP tlog-checkpoint (origin, tree size, base64 root hash) in a signed
    note, as text. The first is issued on first request if none exists yet."""
    note = await run_in_threadpool(lambda: latest_note(checkpointer(svc, actor)))
    return PlainTextResponse(note, media_type=TEXT)


@router.get(
    "/v1/audit/log/checkpoints",
    operation_id="list_log_checkpoints",
    response_model=CheckpointPage,
    response_description="a page of checkpoints, oldest first",
    responses=read_docs(*LOG_READ, "invalid_cursor", "unknown_parameter"),
    summary="Every signed checkpoint issued so far",
)
async def checkpoints(
    svc: ServicesDep, actor: CheckpointListCaller, limit: Limit = 50, cursor: CursorParam = None
) -> JSONResponse:
    """Each with its tree size, base64 root hash, time of issue and signed note."""
    store = checkpointer(svc, actor).store
    after = cursor_position(cursor, "tree_size") - 1 if cursor else -1
    rows = await run_in_threadpool(store.page, after, limit + 1)
    items = [c.document() for c in rows]
    for item in items:
        item["issued_at"] = item["issued_at"].isoformat().replace("+00:00", "Z")  # type: ignore[attr-defined]
    return JSONResponse(page(items, limit, lambda c: {"tree_size": c["tree_size"] + 1}))


@router.get(
    "/v1/audit/log/key",
    operation_id="get_log_key",
    response_class=PlainTextResponse,
    responses={**read_docs(*LOG_READ), **text_response("the verifier key (note vkey format)", ex.VKEY)},
    summary="The key that verifies checkpoints: <name>+<key id>+<base64(0x01 || Ed25519 public key)>",
)
async def key(svc: ServicesDep, actor: CallerDep) -> PlainTextResponse:
    """Compare it with the key published out of band before trusting a checkpoint."""
    checkpointer(svc, actor)
    assert svc.signer is not None
    return PlainTextResponse(svc.signer.verifier.vkey + "\n", media_type=TEXT)


@router.get(
    "/v1/audit/log/inclusion",
    operation_id="get_log_inclusion",
    response_model=InclusionOut,
    response_description="the event's leaf and its RFC 9162 inclusion proof",
    responses=read_docs(*LOG_READ, "leaf_not_found", "leaf_not_in_tree", "tree_size_unknown"),
    summary="Prove the event at a position is in the tree of a signed size",
)
async def inclusion(
    svc: ServicesDep,
    actor: CallerDep,
    position: Annotated[int, Query(ge=1, le=BIGINT, description="the event's position (X-Position)")],
    tree_size: Annotated[int | None, Query(ge=1, le=BIGINT, description="default: the latest checkpoint's")] = None,
) -> Any:
    """`tree_size` must not be above the latest checkpoint's (422 `tree_size_unknown`)."""
    store = checkpointer(svc, actor).store
    try:
        return await run_in_threadpool(log_reads.inclusion, svc.views, store, position, tree_size)
    except log_reads.LogReadError as e:
        raise problem(e) from None


@router.get(
    "/v1/audit/log/consistency",
    operation_id="get_log_consistency",
    response_model=ConsistencyOut,
    response_description="the RFC 9162 consistency proof between two tree sizes",
    responses=read_docs(*LOG_READ, "tree_size_unknown"),
    summary="Prove the tree of one size is a prefix of the tree of a larger size",
)
async def consistency(
    svc: ServicesDep,
    actor: CallerDep,
    old: Annotated[int, Query(alias="from", ge=1, le=BIGINT, description="the older tree size")],
    new: Annotated[int, Query(alias="to", ge=1, le=BIGINT, description="the newer tree size (<= latest checkpoint)")],
) -> Any:
    """`from` must not exceed `to` (422 `validation_error`), nor `to` the latest checkpoint
    (422 `tree_size_unknown`)."""
    store = checkpointer(svc, actor).store
    try:
        return await run_in_threadpool(log_reads.consistency, svc.views, store, old, new)
    except log_reads.LogReadError as e:
        raise problem(e) from None


BUNDLE = {
    "description": f"a ZIP archive, served as {OCTET_STREAM}: events.jsonl, checkpoint.txt, key.txt, proofs.json, "
    "evidence.json and, with include=files, files/<sha256>",
    "headers": {
        "Content-Disposition": {"description": 'attachment; filename="dispute-<id>.zip"', "schema": {"type": "string"}}
    },
    "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}, "example": "(the ZIP archive)"}},
}


@router.get(
    "/v1/disputes/{dispute_id}/bundle",
    operation_id="get_dispute_bundle",
    response_class=StreamingResponse,
    responses={**read_docs(*DISPUTE_READ, "role_not_allowed", "not_caught_up", "integrity_error"), 200: BUNDLE},
    summary="A dispute's file anyone can verify offline (scripts/verify_bundle.py)",
)
async def dispute_bundle(
    dispute_id: DisputeId,
    svc: ServicesDep,
    actor: CallerDep,
    include: Annotated[str | None, Query(pattern="^files$", description="`files`: add the evidence files")] = None,
) -> StreamingResponse:
    """Every event as recorded, a signed checkpoint covering them, the verifier
    key, an inclusion proof per event, and the evidence digests (auditors)."""
    archive = await run_in_threadpool(make_bundle, svc, dispute_id, actor, include == "files")
    return StreamingResponse(
        bundle.chunks(archive),
        media_type=OCTET_STREAM,
        headers={"Content-Disposition": f'attachment; filename="dispute-{dispute_id}.zip"'},
    )


def make_bundle(svc: Services, dispute_id: UUID, actor: Actor, include_files: bool) -> Any:
    if svc.checkpoints is None or svc.signer is None:
        raise ApiProblem(503, "unavailable", "this process signs no checkpoints", {"Retry-After": "1"})
    sources = bundle.BundleSources(svc.app, svc.views, svc.checkpoints, svc.blobs, svc.signer.verifier)
    try:
        return bundle.build_bundle(sources, dispute_id, actor, include_files)
    except bundle.TreeBehind as behind:
        raise ApiProblem(503, "not_caught_up", f"{behind}; retry shortly", {"Retry-After": "1"}) from None
