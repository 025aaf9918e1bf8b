"""The host's machine cache: each assignment size's peak and reference figures, measured
once per host by a grading's reference worker and kept for the gradings after it.

One JSON file on the host, outside every sandbox: {"<assignment>/<size>": entry}, an entry
being what the harness reported (``{"identity", "figures", "measured_at"}``). The harness
uses a cached entry only when its identity is exactly its own (this host's name, CPU,
numpy, BLAS, Python, the size and the reference's code; ``speed_feedback.cached_figures``),
so a new CPU, numpy or reference is measured anew and replaces the entry. Nothing of a
student's reaches the file: the harness writes the entry from the reference worker's times,
the host validates it before storing it and again before sending it, and the file's folder
is hidden from the sandbox like the results.

Its place: $CONVGRADE_MACHINE_CACHE, else the user's cache folder (XDG_CACHE_HOME or
~/.cache)/convgrade/machine.json: every way of grading on a host (grade, grade-all, the
service, a cluster worker) shares it, which is what "once per host" needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
from pathlib import Path

from grader.atomic_write import write_atomic
from grader.harness.speed_feedback import valid_figures


def hidden_paths(path: Path) -> tuple[Path, ...]:
    """What a grading hides of the cache: the host's figures, which no student reads or plants
    (on a rung that can hide paths). Its folder, unless that folder also holds the gradings'
    own temporary folders (a cache set to /tmp/...): then only the file, where it exists."""
    folder = path.parent.resolve()
    scratch = Path(tempfile.gettempdir()).resolve()
    if folder.is_dir() and folder != scratch and folder not in scratch.parents:
        return (folder,)
    return (path.resolve(),) if path.is_file() else ()


def default_path() -> Path:
    if os.environ.get("CONVGRADE_MACHINE_CACHE"):
        return Path(os.environ["CONVGRADE_MACHINE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "convgrade" / "machine.json"


def key(assignment: str, size: str) -> str:
    return f"{assignment}/{size}"


def host_name() -> str:
    """The host's name as the identity has it (a container's own name would change every run)."""
    return socket.gethostname()


def valid_entry(entry: object, assignment: str, size: str) -> bool:
    """An entry of the harness's shape for this assignment and size, its figures plausible."""
    if not isinstance(entry, dict) or set(entry) != {"identity", "figures", "measured_at"}:
        return False
    identity = entry["identity"]
    return (isinstance(identity, dict) and identity.get("assignment") == assignment and identity.get("size") == size
            and isinstance(entry["measured_at"], str) and valid_figures(entry["figures"], assignment))


def _read(path: Path) -> dict:
    """The whole cache, or {} when it is missing or unreadable (then it is measured anew)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load(path: Path, assignment: str, size: str) -> dict | None:
    """The cached entry for this assignment and size, or None (missing, malformed or implausible)."""
    entry = _read(path).get(key(assignment, size))
    return entry if valid_entry(entry, assignment, size) else None


def store(path: Path, entry: object, assignment: str, size: str) -> bool:
    """Keep a harness's new entry (replacing the old one for this assignment and size);
    False when it is not valid or the file cannot be written (the next grading measures
    again: the cache saves time, it is never needed for a result)."""
    if not valid_entry(entry, assignment, size):
        return False
    cache = _read(path)
    cache[key(assignment, size)] = entry
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, json.dumps(cache, indent=2, sort_keys=True), mode=0o600)
        return True
    return False


# -- The host's drift: the spread of a figure between gradings, measured by A/A gradings
# (``convgrade doctor --timing``, grader.grading.drift_check). Kept beside the figures under
# "drift/<host>/<size>", so hosts that share one cache file keep their own. The drift is the
# machine's and its neighbours', so every assignment timed at that size uses it: a grading
# sends it to the harness, which uses it (never below the configured constant) for its
# intervals' between-gradings term.

_DRIFT_FIELDS = {"identity", "cv", "cv_upper", "gradings", "figures", "spacing_s", "measured_at"}


def drift_key(host: str, size: str) -> str:
    return f"drift/{host}/{size}"


def host_identity() -> dict:
    """What a drift measurement holds for: this host, its CPU model and core count (the drift
    is the machine's and its neighbours', not numpy's)."""
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    return {"host": host_name(), "cpu_model": cpu_model, "cpus": os.cpu_count()}


def valid_drift(entry: object) -> bool:
    """An entry of drift_check's shape with a plausible spread (0-50%, as the configuration allows)."""
    if not isinstance(entry, dict) or set(entry) != _DRIFT_FIELDS:
        return False
    spreads = (entry["cv"], entry["cv_upper"])
    return (isinstance(entry["identity"], dict)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 0.5 for v in spreads)
            and isinstance(entry["gradings"], int) and entry["gradings"] >= 2
            and isinstance(entry["measured_at"], str) and isinstance(entry["figures"], dict))


def store_drift(path: Path, entry: dict, size: str) -> bool:
    """Keep this host's drift measurement (replacing its earlier one); False when not valid or not written."""
    if not valid_drift(entry):
        return False
    cache = _read(path)
    cache[drift_key(entry["identity"].get("host", ""), size)] = entry
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, json.dumps(cache, indent=2, sort_keys=True), mode=0o600)
        return True
    return False


def load_drift(path: Path, size: str) -> dict | None:
    """This host's drift measurement, if one was made on exactly this host (name, CPU, cores)."""
    identity = host_identity()
    entry = _read(path).get(drift_key(identity["host"], size))
    return entry if valid_drift(entry) and entry["identity"] == identity else None


def drift_for_harness(path: Path, size: str) -> dict | None:
    """What the harness needs of it: {cv (the upper bound), measured_at, gradings}, or None."""
    entry = load_drift(path, size)
    if entry is None:
        return None
    return {"cv": float(entry["cv_upper"]), "measured_at": entry["measured_at"], "gradings": entry["gradings"]}
