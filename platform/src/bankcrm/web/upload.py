"""Receiving an upload: the multipart body streamed to a temporary file, never held whole.

The file part is written to disk as it arrives, hashed (SHA-256, for "the same file
twice") and counted; past the size limit the upload is refused with 413 before the rest
is read. Other form fields are small and kept in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from bankcrm.web.problems import FieldError, Problem

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
MAX_FIELD_BYTES = 64 * 1024
FILE_FIELD = "file"


def max_upload_bytes() -> int:
    """The size limit of an uploaded file (``BANKCRM_IMPORT_MAX_BYTES``, default 100 MB)."""
    return int(os.environ.get("BANKCRM_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class StoredUpload:
    path: Path
    file_name: str
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        _remove(self.path)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        f"the file is larger than the import limit of {limit / 1024 / 1024:.0f} MB: split it",
        [FieldError("body.file", "too large")],
        "too_large",
    )


async def receive(
    content_type: str, stream: AsyncIterator[bytes], limit: int | None = None
) -> StoredUpload:
    """Parse a ``multipart/form-data`` body from ``stream`` into a :class:`StoredUpload`."""
    limit = max_upload_bytes() if limit is None else limit
    media_type, options = parse_options_header(content_type or "")
    boundary = options.get("boundary", "")
    if media_type != "multipart/form-data" or not boundary:
        raise Problem(
            415,
            "upload the file as multipart/form-data with a part named 'file'",
            [FieldError("body", "not multipart/form-data")],
            "unsupported_media_type",
        )
    handle, name = tempfile.mkstemp(prefix="bankcrm-upload-")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    file_name = ""
    fields: dict[str, str] = {}
    current: MultipartSegment | None = None
    buffer = bytearray()
    seen_file = False
    try:
        with os.fdopen(handle, "wb") as output, PushMultipartParser(boundary) as parser:
            async for chunk in stream:
                for event in parser.parse(chunk):
                    if isinstance(event, MultipartSegment):
                        current = event
                        buffer.clear()
                        if event.name == FILE_FIELD:
                            if seen_file:
                                raise Problem(422, "upload one file per request", code="invalid")
                            seen_file = True
                            file_name = os.path.basename(event.filename or "upload")
                    elif event is None:
                        if current is not None and current.name != FILE_FIELD:
                            fields[current.name or ""] = buffer.decode("utf-8", "replace")
                        current = None
                    elif current is not None and current.name == FILE_FIELD:
                        size += len(event)
                        if size > limit:
                            raise _too_large(limit)
                        digest.update(event)
                        output.write(event)
                    else:
                        buffer.extend(event)
                        if len(buffer) > MAX_FIELD_BYTES:
                            raise Problem(422, "a form field is too long", code="invalid")
            parser.parse(b"")
    except MultipartError as exc:
        _remove(path)
        raise Problem(400, f"the multipart body is malformed: {exc}", code="malformed") from exc
    except BaseException:
        _remove(path)
        raise
    if not seen_file:
        _remove(path)
        raise Problem(
            422,
            "no file: send it in a form part named 'file'",
            [FieldError("body.file", "required")],
            "invalid",
        )
    return StoredUpload(path, file_name, size, digest.hexdigest(), fields)
