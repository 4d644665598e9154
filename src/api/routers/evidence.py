"""Evidence files: streamed upload into the blob store, checked download."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import TypeAdapter, ValidationError

from api.commands import handle
from api.container import Services
from api.deps import CallerDep, ServicesDep
from api.problems import ApiProblem, responses
from api.readiness import wait_for_event_store
from api.routers.common import IDEMPOTENCY_DOC, IF_MATCH_DOC, MinPosition, command_docs
from api.schemas import EvidenceOut, Text
from api.uploads import EvidenceForm, read_evidence_form
from domain import guards
from domain.values import Action, Actor, EvidenceKind
from domain.visibility import Read, ensure_may_read
from store.blobs import BlobIntegrityError, sniff_media_type

log = logging.getLogger("disputes.evidence")
DESCRIPTION: TypeAdapter[str] = TypeAdapter(Text)
router = APIRouter(prefix="/v1/disputes/{dispute_id}/evidence", tags=["evidence"])
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "application/pdf": "pdf",
}
UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "kind"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"type": "string", "enum": [k.value for k in EvidenceKind]},
                        "description": {"type": "string", "maxLength": 2000},
                    },
                }
            }
        },
    }
}


def _checked_fields(form: EvidenceForm) -> tuple[EvidenceKind, str]:
    try:
        kind = EvidenceKind(form.fields.get("kind", ""))
    except ValueError:
        raise ApiProblem(422, "validation_error", "kind must be one of " + ", ".join(EvidenceKind)) from None
    description = form.fields.get("description", "")
    try:
        DESCRIPTION.validate_python(description)
    except ValidationError:
        raise ApiProblem(422, "validation_error", "description is longer than 2000 characters") from None
    if form.file is None or form.file.size == 0:
        raise ApiProblem(422, "validation_error", "a non-empty file part named 'file' is required")
    return kind, description


@router.post(
    "",
    status_code=201,
    response_model=EvidenceOut,
    responses=command_docs(201, 403, 409, 412, 413, 415),
    openapi_extra=UPLOAD_SCHEMA,
    summary="Upload an evidence file (JPEG, PNG, WEBP, GIF, MP4 or PDF)",
)
async def submit_evidence(
    dispute_id: UUID,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: Annotated[str | None, Header(description=IF_MATCH_DOC)] = None,
    idempotency_key: Annotated[str | None, Header(description=IDEMPOTENCY_DOC)] = None,
) -> JSONResponse:
    def may_submit() -> None:
        """Refuse before reading a large body when the upload could never be recorded.
        With an Idempotency-Key the refusal must be recorded under the key (with the
        file's fingerprint), so such requests go through the command path instead."""
        if idempotency_key:
            return
        guards.check(svc.app.dispute_for(dispute_id, actor), Action.SUBMIT_EVIDENCE, actor, svc.clock())

    await run_in_threadpool(may_submit)
    form = await read_evidence_form(request, svc.blobs, svc.settings.max_evidence_bytes)
    try:
        kind, description = _checked_fields(form)
        assert form.file is not None
        media_type = sniff_media_type(form.file.head)
        if media_type is None:
            raise ApiProblem(415, "unsupported_media_type", "evidence must be JPEG, PNG, WEBP, GIF, MP4 or PDF")
    except BaseException:
        form.discard()
        raise
    pending = form.file
    # Keep the bytes before recording them: a crash then leaves an unreferenced
    # blob (harmless, content-addressed), never an event pointing at nothing.
    key = await run_in_threadpool(svc.blobs.commit, pending)
    body = {"kind": kind.value, "description": description, "sha256": pending.sha256}
    return await run_in_threadpool(
        handle,
        request,
        svc,
        actor,
        body,
        "evidence",
        201,
        lambda c, kw: svc.app.submit_evidence(
            dispute_id,
            c.ctx,
            kind=kind,
            description=description,
            sha256=pending.sha256,
            size=pending.size,
            media_type=media_type,
            blob_key=key,
            **kw,
        ),
    )


@router.get(
    "/{evidence_id}/content",
    response_class=StreamingResponse,
    responses={
        **responses(401, 403, 404, 422, 500, 503),
        200: {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in EXTENSIONS}},
    },
    summary="Download an evidence file, checked against its recorded sha256",
)
async def download_evidence(
    dispute_id: UUID, evidence_id: str, svc: ServicesDep, actor: CallerDep, x_min_position: MinPosition = None
) -> StreamingResponse:
    await wait_for_event_store(svc, x_min_position)
    return await run_in_threadpool(checked_download, svc, dispute_id, evidence_id, actor)


def checked_download(svc: Services, dispute_id: UUID, evidence_id: str, actor: Actor) -> StreamingResponse:
    dispute = svc.app.dispute_for(dispute_id, actor)
    ensure_may_read(actor, Read.EVIDENCE_FILE)
    found = next((e for e in dispute.evidence if e.id == evidence_id), None)
    if found is None:
        raise ApiProblem(404, "evidence_not_found", "no such evidence in this dispute")
    try:
        chunks = svc.blobs.read(found.blob_key, found.sha256)
    except (BlobIntegrityError, FileNotFoundError) as e:
        log.error("evidence integrity failure for %s/%s: %s", dispute_id, evidence_id, e)
        raise ApiProblem(500, "integrity_error", "the stored file does not match its recorded sha256") from None
    headers = {
        "Content-Length": str(found.size),
        "ETag": f'"{found.sha256}"',
        "Content-Disposition": f'attachment; filename="{found.id}.{EXTENSIONS[found.media_type]}"',
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(chunks, media_type=found.media_type, headers=headers)
