"""What a submission may bring: the caps on its size, and the tool debris never copied.

Every refusal quotes the number and its cap. The caps are checked on the sizes a folder
or an archive declares (``folder_scan``, ``zip_members``) and again on the bytes actually
read (``staging``), so a header that lies cannot fill the disk.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024

# Tool and OS debris, never part of what the student wrote; not copied, not counted.
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX"})

# Text and notebooks compress 3-10x; a ratio of hundreds only matters when it lets a
# small member turn into a big one. Small members (a file of zeros, a blank .npy) may
# compress enormously and are harmless, so the ratio is only checked above this size.
RATIO_CHECK_MIN_BYTES = 1 * MiB


@dataclass(frozen=True)
class LoadLimits:
    """Caps on what a submission may bring; every refusal quotes the number and its cap."""

    max_total_bytes: int = 20 * MiB
    """Uncompressed total of all the files kept."""
    max_files: int = 2000
    max_file_bytes: int = 5 * MiB
    """Per file; a notebook (which carries its plots) may use up to max_notebook_bytes."""
    max_compression_ratio: float = 200
    max_notebook_bytes: int = 20 * MiB


def per_file_cap(rel: str, limits: LoadLimits) -> int:
    # A notebook carries its plots as base64; a few MiB is normal for one.
    if rel.lower().endswith(".ipynb"):
        return max(limits.max_file_bytes, limits.max_notebook_bytes)
    return limits.max_file_bytes
