"""Evidence files: streamed upload into the blob store, checked download."""

from __future__ import annotations

import logging
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import TypeAdapter, ValidationError

from api.commands import command_request, execute
from api.deps import CallerDep, ServicesDep
from api.problems import ApiProblem
from api.readiness import wait_for_event_store
from api.routers.common import (
    DISPUTE_READ,
    DisputeId,
    EvidenceId,
    IdempotencyKey,
    IfMatch,
    MinPosition,
    command_docs,
    read_docs,
)
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
                        "request_id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "the evidence request this upload answers (`evidence_requests[].id`), "
                            "which must be open and addressed to the uploader; without it, a party's upload "
                            "answers its oldest open request, if any",
                        },
                    },
                },
                "example": {"file": "(the file's bytes)", "kind": "photo", "description": "the box"},
            }
        },
    }
}
OCTET_STREAM = "application/octet-stream"
DOWNLOAD_HEADERS = {
    "X-Media-Type": {
        "description": "the file's real media type, read from its bytes at upload: " + ", ".join(EXTENSIONS),
        "schema": {"type": "string", "enum": list(EXTENSIONS)},
    },
    "ETag": {"description": "the file's sha256 in quotes", "schema": {"type": "string"}},
    "Content-Disposition": {"description": 'attachment; filename="<evidence id>.<ext>"', "schema": {"type": "string"}},
}
DOWNLOAD = {
    "description": f"the file's bytes, always as {OCTET_STREAM}; its real media type is in X-Media-Type",
    "headers": DOWNLOAD_HEADERS,
    "content": {OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}, "example": "(the file's bytes)"}},
}
UPLOAD_CODES = (
    "evidence_request_not_found",
    "evidence_request_not_open",
    "evidence_window_closed",
    "evidence_too_large",
    "evidence_quota_exceeded",
    "unsupported_media_type",
    "multipart_required",
    "upload_incomplete",
)


def _checked_request_id(form: EvidenceForm) -> str | None:
    named = form.fields.get("request_id")
    if named is None:
        return None
    try:
        return str(UUID(named))
    except ValueError:
        raise ApiProblem(422, "validation_error", "request_id must be an evidence request's id (a UUID)") from None


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
    operation_id="submit_evidence",
    response_model=EvidenceOut,
    response_description="the evidence recorded; Location is its download URL",
    responses=command_docs(201, *UPLOAD_CODES),
    openapi_extra=UPLOAD_SCHEMA,
    summary="Upload an evidence file (JPEG, PNG, WEBP, GIF, MP4 or PDF)",
)
async def submit_evidence(
    dispute_id: DisputeId,
    request: Request,
    svc: ServicesDep,
    actor: CallerDep,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A party or an agent uploads one file (multipart/form-data: `file`, `kind`,
    `description`, optional `request_id`). Its media type is read from its bytes;
    it is streamed to the blob store and hashed as it arrives. A party's upload
    fulfils the evidence request it names, or else its oldest open one."""
    if not idempotency_key:
        # With an Idempotency-Key a refusal must be recorded under the key (with
        # the file's fingerprint), so such requests refuse on the command path.
        await run_in_threadpool(svc.evidence.ensure_may_submit, dispute_id, actor)
    form = await read_evidence_form(request, svc.blobs, svc.settings.max_evidence_bytes)
    try:
        kind, description = _checked_fields(form)
        request_id = _checked_request_id(form)
    except BaseException:
        form.discard()
        raise
    upload = form.file
    assert upload is not None
    body = {"kind": kind.value, "description": description, "sha256": upload.sha256, "request_id": request_id}
    command = command_request(svc, request, actor, body, "evidence", 201)

    def submit() -> Outcome:
        try:
            return svc.evidence.submit(svc.commands, command, dispute_id, upload, kind, description, request_id)
        except UnsupportedMediaType as unsupported:
            raise ApiProblem(415, "unsupported_media_type", str(unsupported)) from None
        except IncompleteUpload as incomplete:
            raise ApiProblem(422, "upload_incomplete", str(incomplete)) from None

    return await run_in_threadpool(execute, svc, command, submit)


@router.get(
    "/{evidence_id}/content",
    operation_id="download_evidence",
    response_class=StreamingResponse,
    responses={
        **read_docs(*DISPUTE_READ, "role_not_allowed", "evidence_not_found", "integrity_error"),
        200: DOWNLOAD,
    },
    summary="Download an evidence file, checked against its recorded sha256",
)
async def download_evidence(
    dispute_id: DisputeId,
    evidence_id: EvidenceId,
    svc: ServicesDep,
    actor: CallerDep,
    x_min_position: MinPosition = None,
) -> StreamingResponse:
    """The file's bytes as `application/octet-stream` (one media type for every
    file), its real media type in `X-Media-Type`, `ETag` its sha256. The bytes
    are re-hashed first: a file that no longer matches is refused (500)."""
    await wait_for_event_store(svc, x_min_position)
    return await run_in_threadpool(checked_download, svc, dispute_id, str(evidence_id), actor)


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
        "X-Media-Type": found.media_type,
    }
    return StreamingResponse(chunks, media_type=OCTET_STREAM, headers=headers)
