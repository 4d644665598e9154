"""Streaming multipart parsing for evidence uploads.

The file part goes straight into the blob store as it arrives (hashed and
counted on the way), so an upload over the limit is refused as soon as it
passes the limit, without buffering the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.problems import ApiProblem
from service.ports import BlobStore, BlobTooLarge, PendingBlob

MAX_FIELD_BYTES = 16 * 1024
MULTIPART_OVERHEAD = 64 * 1024


@dataclass
class EvidenceForm:
    blobs: BlobStore
    limit: int
    fields: dict[str, str] = field(default_factory=dict)
    file: PendingBlob | None = None
    _header_name: bytes = b""
    _header_value: bytes = b""
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _field: str | None = None
    _buffer: bytearray = field(default_factory=bytearray)
    _in_file: bool = False
    ended: bool = False  # the closing boundary arrived: the body is whole

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: setattr(self, "_header_name", self._header_name + d[s:e]),
            "on_header_value": lambda d, s, e: setattr(self, "_header_value", self._header_value + d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers, self._field, self._in_file = {}, None, False
        self._buffer = bytearray()

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name == "file":
            if self.file is not None:
                raise ApiProblem(422, "validation_error", "send exactly one file per upload")
            self.file = self.blobs.receive(self.limit)
            self._in_file = True
        else:
            self._field = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            assert self.file is not None
            self.file.write(data[start:end])
            return
        self._buffer += data[start:end]
        if len(self._buffer) > MAX_FIELD_BYTES:
            raise ApiProblem(422, "validation_error", f"form field {self._field!r} is too long")

    def _part_end(self) -> None:
        if self._field is not None:
            try:
                self.fields[self._field] = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiProblem(422, "validation_error", f"form field {self._field!r} is not UTF-8") from None

    def _end(self) -> None:
        self.ended = True
        if self.file is not None:
            self.file.complete = True

    def discard(self) -> None:
        if self.file is not None:
            self.blobs.discard(self.file)
            self.file = None


async def read_evidence_form(request: Request, blobs: BlobStore, limit: int) -> EvidenceForm:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise ApiProblem(415, "multipart_required", "upload evidence as multipart/form-data")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise ApiProblem(413, "evidence_too_large", f"a file may be at most {limit} bytes")
    form = EvidenceForm(blobs, limit)
    parser = MultipartParser(params[b"boundary"], form.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except BlobTooLarge:
        form.discard()
        raise ApiProblem(413, "evidence_too_large", f"a file may be at most {limit} bytes") from None
    except MultipartParseError as e:
        form.discard()
        raise ApiProblem(422, "validation_error", f"malformed multipart body: {e}") from None
    except BaseException:
        form.discard()
        raise
    if not form.ended:  # python-multipart's finalize() does not check this
        form.discard()
        raise ApiProblem(422, "upload_incomplete", "the multipart body ended before its closing boundary")
    return form
