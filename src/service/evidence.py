"""The evidence upload: a blob first, then the command that records it.

The bytes are kept before the event that points at them is appended: a crash
in between leaves an unreferenced blob (harmless: blobs are content-addressed
and the next upload of the same bytes reuses it), never an event pointing at
nothing. A file whose bytes prove no accepted media type is discarded before
it is kept, and so is a file whose upload names an evidence request it cannot
fulfil (checked on the dispute as it is now; the command checks again). A kept
blob is never deleted when the command is then refused, because the same bytes
may already back another dispute's evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from domain import guards
from domain.application import CommandResult, DisputeApp
from domain.errors import DomainError
from domain.evidence_requests import request_to_fulfil
from domain.values import Action, Actor, EvidenceKind
from service.commands import CommandRequest, CommandService, Outcome
from service.media import sniff_media_type
from service.ports import BlobStore, PendingBlob

ACCEPTED = "JPEG, PNG, WEBP, GIF, MP4 or PDF"


def _refuse(error: DomainError, _: Mapping[str, Any]) -> CommandResult:
    raise error


class UnsupportedMediaType(Exception):
    """The file's leading bytes are none of the accepted evidence types."""


class IncompleteUpload(Exception):
    """The upload ended before the sender's message did: its bytes are not the file."""


@dataclass
class EvidenceUploads:
    app: DisputeApp
    blobs: BlobStore
    clock: Callable[[], datetime]

    def ensure_may_submit(self, dispute_id: UUID, actor: Actor) -> None:
        """Refuse before a large body is read when the upload could never be recorded."""
        guards.check(self.app.dispute_for(dispute_id, actor), Action.SUBMIT_EVIDENCE, actor, self.clock())

    def submit(
        self,
        commands: CommandService,
        request: CommandRequest,
        dispute_id: UUID,
        upload: PendingBlob,
        kind: EvidenceKind,
        description: str,
        request_id: str | None = None,
    ) -> Outcome:
        if not upload.complete:
            self.blobs.discard(upload)
            raise IncompleteUpload("the upload ended before the file did")
        media_type = sniff_media_type(upload.head)
        if media_type is None:
            self.blobs.discard(upload)
            raise UnsupportedMediaType(f"evidence must be {ACCEPTED}")
        if request_id is not None:
            try:
                dispute = self.app.dispute_for(dispute_id, request.ctx.actor)
                request_to_fulfil(dispute, request.ctx.actor, request.ctx.at, request_id)
            except DomainError as refused:
                self.blobs.discard(upload)
                # Through the command service, so an Idempotency-Key records the refusal.
                return commands.run(request, partial(_refuse, refused))
        key = self.blobs.commit(upload)
        return commands.run(
            request,
            lambda kw: self.app.submit_evidence(
                dispute_id,
                request.ctx,
                kind=kind,
                description=description,
                sha256=upload.sha256,
                size=upload.size,
                media_type=media_type,
                blob_key=key,
                request_id=request_id,
                **kw,
            ),
        )
