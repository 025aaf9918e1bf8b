"""`make gradescope`: the autograder zip to upload to Gradescope.

    build/gradescope/autograder.zip
        setup.sh          installs convgrade from wheels/ (offline) into /opt/convgrade/venv
        run_autograder    grades /autograder/submission into /autograder/results/results.json
        convgrade.json    the grading configuration: rubric and the course secret
        python-version    the Python the wheels are for (setup.sh looks for it)
        wheels/           convgrade, its dependencies and pip, for CPython 3.11 manylinux x86_64

The wheels are the cluster node image's (``grader.deploy.node_image.build_node_context``):
downloaded once into build/wheels and reused, so re-building needs no network.

The course secret decides every student's hidden cases. It is taken from the given
configuration; when that has none, a random one is made and written into the zip (and
said so): then every rebuild changes the hidden cases, so keep the configuration.

Run as ``python -m grader.deploy.gradescope_zip [--config rubric.json] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import zipfile
from pathlib import Path

from grader.grading.config import GradingConfig
from grader.deploy.node_image import build_node_context
from grader.sandbox.image import BUILD_DIR, REPO_ROOT, WHEEL_PYTHON

SCRIPTS = REPO_ROOT / "gradescope"
EXECUTABLE, PRIVATE, PLAIN = 0o755, 0o600, 0o644


def zip_config(config_path: Path | None) -> tuple[dict, bool]:
    """The configuration to ship (validated), and whether a secret was made for it."""
    raw = json.loads(config_path.read_text()) if config_path else {}
    GradingConfig.load(config_path)  # refuse a broken configuration here, not on Gradescope
    made = not raw.get("seed_secret")
    if made:
        raw["seed_secret"] = secrets.token_hex(32)
    return raw, made


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build(out_dir: Path, config_path: Path | None = None, log=print) -> Path:
    staging = BUILD_DIR / "gradescope-wheels"
    build_node_context(staging, log=lambda message: log(message, file=sys.stderr))
    config, made = zip_config(config_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "autograder.zip"
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for script in ("setup.sh", "run_autograder"):
            _add(archive, script, (SCRIPTS / script).read_bytes(), EXECUTABLE)
        _add(archive, "convgrade.json", json.dumps(config, indent=2).encode() + b"\n", PRIVATE)
        _add(archive, "python-version", f"{WHEEL_PYTHON}\n".encode(), PLAIN)
        for wheel in sorted((staging / "wheels").glob("*.whl")):
            _add(archive, f"wheels/{wheel.name}", wheel.read_bytes(), PLAIN)
    partial.replace(target)
    shutil.rmtree(staging, ignore_errors=True)
    if made:
        log("note: the configuration had no seed_secret: a random one is in the zip's convgrade.json. Keep "
            "that file (pass it as CONFIG next time), or every rebuild changes the hidden cases.", file=sys.stderr)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="rubric configuration (JSON) to ship, with seed_secret")
    parser.add_argument("--out", type=Path, default=BUILD_DIR / "gradescope")
    args = parser.parse_args()
    print(build(args.out, args.config))


if __name__ == "__main__":
    main()
