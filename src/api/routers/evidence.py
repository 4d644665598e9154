"""Evidence files: streamed upload into the blob store, checked download."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import TypeAdapter, ValidationError

from api.commands import command_request, execute
from api.deps import CallerDep, ServicesDep
from api.problems import ApiProblem, responses
from api.readiness import wait_for_event_store
from api.routers.common import IDEMPOTENCY_DOC, IF_MATCH_DOC, MinPosition, command_docs
from api.schemas import EvidenceOut, Text
from api.uploads import EvidenceForm, read_evidence_form
from domain.values import Actor, EvidenceKind
from domain.visibility import Read, ensure_may_read
from service.commands import Outcome
from service.evidence import IncompleteUpload, UnsupportedMediaType
from service.hub import Services
from service.ports import BlobIntegrityError

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
    if not idempotency_key:
        # With an Idempotency-Key a refusal must be recorded under the key (with
        # the file's fingerprint), so such requests refuse on the command path.
        await run_in_threadpool(svc.evidence.ensure_may_submit, dispute_id, actor)
    form = await read_evidence_form(request, svc.blobs, svc.settings.max_evidence_bytes)
    try:
        kind, description = _checked_fields(form)
    except BaseException:
        form.discard()
        raise
    upload = form.file
    assert upload is not None
    body = {"kind": kind.value, "description": description, "sha256": upload.sha256}
    command = command_request(svc, request, actor, body, "evidence", 201)

    def submit() -> Outcome:
        try:
            return svc.evidence.submit(svc.commands, command, dispute_id, upload, kind, description)
        except UnsupportedMediaType as unsupported:
            raise ApiProblem(415, "unsupported_media_type", str(unsupported)) from None
        except IncompleteUpload as incomplete:
            raise ApiProblem(422, "upload_incomplete", str(incomplete)) from None

    return await run_in_threadpool(execute, svc, command, submit)


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
