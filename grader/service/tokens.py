"""Identity: one random bearer token per roster student, and one for staff.

DATA/tokens.csv (``id,token``, mode 0600) is the only place a token is written in the
clear, for staff to hand out (a mail merge); the database keeps SHA-256 hashes. Tokens are
32 random bytes, so an unsalted hash is enough: nothing to guess, nothing to precompute.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
from pathlib import Path

STAFF_ID = "staff"
TOKENS_FILE = "tokens.csv"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def read_tokens(data_dir: Path) -> dict[str, str]:
    path = Path(data_dir) / TOKENS_FILE
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as stream:
        return {row["id"]: row["token"] for row in csv.DictReader(stream)}


def write_tokens(data_dir: Path, tokens: dict[str, str]) -> None:
    """Replace DATA/tokens.csv atomically, readable by its owner only."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "token"])
    for student_id, token in tokens.items():
        writer.writerow([student_id, token])
    path = Path(data_dir) / TOKENS_FILE
    temp = path.with_name(f".{TOKENS_FILE}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(buffer.getvalue())
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def ensure_tokens(data_dir: Path, student_ids: list[str]) -> dict[str, str]:
    """Every roster student and staff has a token (new ones added, existing ones kept)."""
    tokens = read_tokens(data_dir)
    changed = False
    for student_id in [STAFF_ID, *student_ids]:
        if student_id not in tokens:
            tokens[student_id] = new_token()
            changed = True
    if changed or not (Path(data_dir) / TOKENS_FILE).exists():
        write_tokens(data_dir, tokens)
    return tokens


def rotate(data_dir: Path, student_id: str) -> str:
    tokens = read_tokens(data_dir)
    if student_id not in tokens:
        raise KeyError(student_id)
    tokens[student_id] = new_token()
    write_tokens(data_dir, tokens)
    return tokens[student_id]
