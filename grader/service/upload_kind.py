"""The checks an upload passes before its 202: cheap, by its bytes, nothing of it parsed as code.

    .py     Python source text: it decodes (UTF-8, or the encoding its coding line names),
            holds no NUL byte, and fits the loader's per-file cap
    .ipynb  looks like JSON (an object: ``{`` first and ``}`` last, a UTF-8 BOM aside)
    .zip    the zip magic, then its central directory only (no member is decompressed):
            the member count, the declared sizes and compression ratios, names that would
            escape (``..``, absolute, a drive letter), control characters such as NUL in
            names, symlinks, encryption: the loader's own member checks (zip_members)

Each is linear in the upload's size, and a zip's directory is read only when its end
record declares at most MAX_ZIP_ENTRIES entries, so a hostile directory costs
microseconds. The loader's full check (parsing, the functions it defines) runs after the
202, in grader.service.upload_check's processes; what it refuses becomes `rejected`.
"""

from __future__ import annotations

import codecs
import io
import struct
import tokenize
import zipfile

from grader.errors import SubmissionError
from grader.intake.limits import LoadLimits
from grader.intake.zip_members import validated_members

KINDS = (".py", ".zip", ".ipynb")
MAX_ZIP_ENTRIES = 10_000
"""Entries in a zip's directory, folders and tool debris included: five times the loader's file cap."""
_END_OF_DIRECTORY = b"PK\x05\x06"
_ZIP_MAGICS = (b"PK\x03\x04", _END_OF_DIRECTORY)  # an archive's first member, or an empty archive


def quick_refusal(suffix: str, data: bytes, limits: LoadLimits = LoadLimits()) -> str | None:
    """Why the upload is refused before it is stored; None when it may be stored and checked."""
    try:
        {".py": _python_text, ".ipynb": _json_like, ".zip": _zip_directory}[suffix](data, limits)
    except SubmissionError as refused:
        return str(refused)
    return None


def _python_text(data: bytes, limits: LoadLimits) -> None:
    if len(data) > limits.max_file_bytes:
        raise SubmissionError(f"the file holds {len(data)} bytes, over the {limits.max_file_bytes}-byte per-file limit")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)  # the first two lines only
        data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        raise SubmissionError(f"the file is not Python source text: it does not decode ({exc})",
                              "save it as UTF-8 text") from None
    if b"\0" in data:
        raise SubmissionError("the file is not Python source text: it holds a NUL byte",
                              "upload the .py file itself, not a compiled or binary file")


def _json_like(data: bytes, limits: LoadLimits) -> None:
    if len(data) > limits.max_notebook_bytes:
        raise SubmissionError(f"notebook holds {len(data)} bytes, over the {limits.max_notebook_bytes}-byte limit")
    text = data.removeprefix(codecs.BOM_UTF8).strip()
    if not (text.startswith(b"{") and text.endswith(b"}")):
        raise SubmissionError("notebook is not valid JSON: a notebook file is one JSON object ({ ... })",
                              "open it in Jupyter and save it again, or submit cs231n/layers.py instead")


def _zip_directory(data: bytes, limits: LoadLimits) -> None:
    hint = "make it with a zip tool, or submit the folder"
    if not data.startswith(_ZIP_MAGICS):
        raise SubmissionError("not a valid zip archive: it does not start as a zip file does", hint)
    end = data.rfind(_END_OF_DIRECTORY, max(0, len(data) - (1 << 16) - 22))  # the end record, comment aside
    if end < 0 or len(data) < end + 22:
        raise SubmissionError("not a valid zip archive: it has no end of central directory", hint)
    entries = struct.unpack_from("<H", data, end + 10)[0]
    if entries > MAX_ZIP_ENTRIES:  # 0xFFFF (a zip64 archive's mark) included
        raise SubmissionError(f"archive declares {entries} entries, over the {MAX_ZIP_ENTRIES}-entry limit", hint)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if len(archive.infolist()) > MAX_ZIP_ENTRIES:
                raise SubmissionError(f"archive has over {MAX_ZIP_ENTRIES} entries", hint)
            validated_members(archive, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise SubmissionError(f"not a valid zip archive: {exc}", hint) from None
