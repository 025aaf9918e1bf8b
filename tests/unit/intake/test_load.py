"""grader.intake.load and grader.intake.notebook: staging submissions without running them.

Every fixture (folders, zips, notebooks, hostile archives) is built in tmp_path by the
test that needs it; nothing binary is committed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from grader.errors import SubmissionError, UsageError
from grader.intake.hints import hint_for as import_hints
from grader.intake.load import LoadLimits, load_submission
from grader.intake.notebook import generated_locations, notebook_to_module, relocate

FORWARD = "def conv_forward_naive(x, w, b, conv_param):\n    return x, (x, w, b, conv_param)\n"
BACKWARD = "def conv_backward_naive(dout, cache):\n    return dout, None, None\n"
LAYERS = "import numpy as np\n\n\n" + FORWARD + "\n\n" + BACKWARD
BOTH = ("conv_forward_naive", "conv_backward_naive")
PYTHON2_HINT = "this looks like Python 2 code; the grader runs Python 3"
NOTHING_DEFINED = "no file defines conv_forward_naive or conv_backward_naive"


# --- builders ---------------------------------------------------------------------


def make_folder(top: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return top


def make_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def code_cell(source: str | list[str], outputs: list | None = None) -> dict:
    return {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": outputs or [], "source": source}


def notebook_bytes(cells: list[dict]) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1).encode()


def staged_files(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if not path.is_dir())


def load(path: Path, tmp_path: Path, **kwargs):
    return load_submission(path, tmp_path / "staging", **kwargs)


def load_error(path: Path, tmp_path: Path, **kwargs) -> SubmissionError:
    """The SubmissionError loading raises; also checks that nothing was left staged."""
    with pytest.raises(SubmissionError) as caught:
        load(path, tmp_path, **kwargs)
    assert list((tmp_path / "staging").iterdir()) == []
    return caught.value


# --- .py files --------------------------------------------------------------------


def test_py_file_is_staged_under_its_own_name(tmp_path):
    source = tmp_path / "Alice Smith.py"
    source.write_text(LAYERS)

    loaded = load(source, tmp_path)

    assert loaded.submission_id == "alice-smith"
    assert loaded.source_name == "Alice Smith.py"
    assert loaded.kind == "py"
    assert loaded.entry == "Alice Smith.py"
    assert loaded.functions_found == BOTH
    assert loaded.notes == ()
    assert loaded.sha256 == hashlib.sha256(LAYERS.encode()).hexdigest()
    assert loaded.root.parent == tmp_path / "staging"
    assert staged_files(loaded.root) == ["Alice Smith.py"]
    assert (loaded.root / loaded.entry).read_text() == LAYERS


@pytest.mark.parametrize(
    "name, expected_id",
    [
        pytest.param("Alice Smith.zip", "alice-smith", id="space"),
        pytest.param("Bob.O'Neil_v2.py", "bob-o-neil_v2", id="dot-and-quote"),
        pytest.param("team-7", "team-7", id="folder-keeps-its-whole-name"),
        pytest.param("Zoë.ipynb", "zo-", id="non-ascii"),
    ],
)
def test_submission_id_comes_from_the_name(tmp_path, name, expected_id):
    path = tmp_path / name
    if name.endswith(".zip"):
        make_zip(path, {"layers.py": LAYERS})
    elif name.endswith(".ipynb"):
        path.write_bytes(notebook_bytes([code_cell(LAYERS)]))
    elif name.endswith(".py"):
        path.write_text(LAYERS)
    else:
        make_folder(path, {"layers.py": LAYERS})

    assert load(path, tmp_path).submission_id == expected_id


def test_py_file_defining_one_function_is_loaded_with_a_note(tmp_path):
    source = tmp_path / "half.py"
    source.write_text(FORWARD)

    loaded = load(source, tmp_path)

    assert loaded.functions_found == ("conv_forward_naive",)
    assert loaded.notes == ("half.py defines conv_forward_naive but not conv_backward_naive",)


def test_py_file_defining_neither_function_is_refused(tmp_path):
    source = tmp_path / "empty.py"
    source.write_text("def helper():\n    pass\n")

    error = load_error(source, tmp_path)

    assert error.message == NOTHING_DEFINED
    assert error.hint == "looked for top-level `def` statements in: empty.py"


def test_nested_def_does_not_count_as_top_level(tmp_path):
    source = tmp_path / "nested.py"
    source.write_text("if True:\n    " + FORWARD.replace("\n    ", "\n        "))

    assert load_error(source, tmp_path).message == NOTHING_DEFINED


@pytest.mark.parametrize(
    "source, message, hint",
    [
        pytest.param(
            FORWARD + 'print "done"\n',
            "syntax error in layers.py line 3: Missing parentheses in call to 'print'. Did you mean print(...)?",
            PYTHON2_HINT,
            id="print-statement",
        ),
        pytest.param(
            "try:\n    pass\nexcept ValueError, e:\n    pass\n" + FORWARD,
            "syntax error in layers.py line 3: multiple exception types must be parenthesized",
            PYTHON2_HINT,
            id="except-comma",
        ),
        pytest.param(
            FORWARD + "label = `x`\n",
            "syntax error in layers.py line 3: invalid syntax",
            PYTHON2_HINT,
            id="backticks",
        ),
        pytest.param(
            FORWARD + "pattern = ur'\\d+'\n",
            "syntax error in layers.py line 3: invalid syntax",
            PYTHON2_HINT,
            id="ur-string",
        ),
        pytest.param(
            FORWARD + "mode = 0777\n",
            "syntax error in layers.py line 3: leading zeros in decimal integer literals are not permitted; "
            "use an 0o prefix for octal integers",
            PYTHON2_HINT,
            id="octal",
        ),
        pytest.param(
            "def conv_forward_naive(x, w, b, conv_param)\n    return x\n",
            "syntax error in layers.py line 1: expected ':'",
            None,
            id="python3-typo-no-hint",
        ),
        pytest.param(
            FORWARD + "return 1\n",
            "syntax error in layers.py line 3: 'return' outside function",
            None,
            id="compile-time-only-error",
        ),
        pytest.param(
            FORWARD + "x = 1\0\n",
            "syntax error in layers.py: source code string cannot contain null bytes",
            None,
            id="null-byte",
        ),
    ],
)
def test_syntax_errors_in_the_entry_name_file_and_line(tmp_path, source, message, hint):
    path = tmp_path / "layers.py"
    path.write_text(source)

    error = load_error(path, tmp_path)

    assert (error.message, error.hint) == (message, hint)


# --- folders ----------------------------------------------------------------------


def test_folder_prefers_cs231n_layers_and_skips_tool_debris(tmp_path):
    folder = make_folder(
        tmp_path / "alice",
        {
            "cs231n/__init__.py": "",
            "cs231n/layers.py": LAYERS,
            "cs231n/im2col.py": "def im2col(x):\n    return x\n",
            "scratch.py": FORWARD,
            "old/attempt.py": FORWARD,
            "README.md": "my notes\n",
            "__pycache__/layers.cpython-311.pyc": b"\x00\x01",
            ".git/config": "[core]\n",
            ".ipynb_checkpoints/layers-checkpoint.py": LAYERS,
            "cs231n/__pycache__/im2col.cpython-311.pyc": b"\x00",
        },
    )

    loaded = load(folder, tmp_path)

    assert loaded.kind == "folder"
    assert loaded.source_name == "alice"
    assert loaded.entry == "cs231n/layers.py"
    assert loaded.functions_found == BOTH
    assert loaded.notes == ("2 other files also define conv_forward_naive; using cs231n/layers.py",)
    assert staged_files(loaded.root) == [
        "README.md",
        "cs231n/__init__.py",
        "cs231n/im2col.py",
        "cs231n/layers.py",
        "old/attempt.py",
        "scratch.py",
    ]


@pytest.mark.parametrize(
    "files, entry, found, notes",
    [
        pytest.param(
            {"solutions/deep/impl.py": LAYERS, "mine.py": LAYERS},
            "mine.py",
            BOTH,
            ("1 other file also defines conv_forward_naive and conv_backward_naive; using mine.py",),
            id="two-candidates-shallowest-wins",
        ),
        pytest.param(
            {"ab.py": LAYERS, "a.py": LAYERS},
            "a.py",
            BOTH,
            ("1 other file also defines conv_forward_naive and conv_backward_naive; using a.py",),
            id="same-depth-shortest-wins",
        ),
        pytest.param(
            {"a.py": FORWARD, "deep/down/b.py": LAYERS},
            "deep/down/b.py",
            BOTH,
            ("1 other file also defines conv_forward_naive; using deep/down/b.py",),
            id="defining-both-beats-shallower",
        ),
        pytest.param(
            {"fwd.py": FORWARD, "notes.txt": "todo\n"},
            "fwd.py",
            ("conv_forward_naive",),
            ("fwd.py defines conv_forward_naive but not conv_backward_naive",),
            id="none-defines-both",
        ),
        pytest.param(
            {"cs231n/layers.py": LAYERS, "cs231n/old.py": 'print "hello"\n'},
            "cs231n/layers.py",
            BOTH,
            (
                "cs231n/old.py does not parse (line 1: Missing parentheses in call to 'print'. "
                "Did you mean print(...)?) and was not considered",
            ),
            id="broken-other-file-is-only-a-note",
        ),
    ],
)
def test_folder_entry_choice(tmp_path, files, entry, found, notes):
    loaded = load(make_folder(tmp_path / "sub", files), tmp_path)

    assert (loaded.entry, loaded.functions_found, loaded.notes) == (entry, found, notes)


def test_folder_whose_chosen_entry_does_not_parse_is_refused(tmp_path):
    folder = make_folder(
        tmp_path / "sub",
        {"cs231n/layers.py": FORWARD + BACKWARD + 'print "done"\n', "backup.py": LAYERS},
    )

    error = load_error(folder, tmp_path)

    assert error.message == (
        "syntax error in cs231n/layers.py line 5: Missing parentheses in call to 'print'. Did you mean print(...)?"
    )
    assert error.hint == PYTHON2_HINT


@pytest.mark.parametrize(
    "files, hint",
    [
        pytest.param(
            {"helpers.py": "def pad(x):\n    return x\n", "notes.txt": "todo\n"},
            "looked for top-level `def` statements in: helpers.py",
            id="one-file",
        ),
        pytest.param(
            {f"m{index:02d}.py": "x = 1\n" for index in range(12)},
            "looked for top-level `def` statements in: m00.py, m01.py, m02.py, m03.py, m04.py, m05.py, "
            "m06.py, m07.py, m08.py, m09.py and 2 more",
            id="list-capped-at-ten",
        ),
        pytest.param({"notes.txt": "todo\n"}, "the submission has no .py or .ipynb file", id="no-python"),
    ],
)
def test_folder_with_no_candidate_is_refused(tmp_path, files, hint):
    error = load_error(make_folder(tmp_path / "sub", files), tmp_path)

    assert (error.message, error.hint) == (NOTHING_DEFINED, hint)


def test_folder_with_a_symlink_is_refused(tmp_path):
    folder = make_folder(tmp_path / "sub", {"cs231n/layers.py": LAYERS})
    (folder / "notes").mkdir()
    os.symlink("/etc/passwd", folder / "notes" / "x")

    error = load_error(folder, tmp_path)

    assert error.message == "symlinks are not allowed: notes/x -> /etc/passwd"


def test_folder_with_a_linked_directory_is_refused(tmp_path):
    folder = make_folder(tmp_path / "sub", {"cs231n/layers.py": LAYERS})
    os.symlink(tmp_path, folder / "others")

    assert load_error(folder, tmp_path).message == f"symlinks are not allowed: others -> {tmp_path}"


def test_folder_skips_special_files_with_a_note(tmp_path):
    folder = make_folder(tmp_path / "sub", {"layers.py": LAYERS})
    os.mkfifo(folder / "pipe")

    loaded = load(folder, tmp_path)

    assert loaded.notes == ("skipped 1 special file (fifo, socket or device)",)
    assert staged_files(loaded.root) == ["layers.py"]


@pytest.mark.parametrize(
    "files, limits, message",
    [
        pytest.param(
            {"layers.py": LAYERS, "big.bin": b"x" * 1001},
            LoadLimits(max_file_bytes=1000),
            "file big.bin is 1001 bytes, over the 1000-byte per-file limit",
            id="per-file",
        ),
        pytest.param(
            {"a.bin": b"x" * 600, "b.bin": b"x" * 600},
            LoadLimits(max_total_bytes=1000),
            "folder holds at least 1200 bytes, over the 1000-byte limit (passed at file b.bin)",
            id="total",
        ),
        pytest.param(
            {"a.txt": "", "b.txt": "", "c.txt": "", "d.txt": ""},
            LoadLimits(max_files=3),
            "folder has more than 3 files, over the 3-file limit (passed at file d.txt)",
            id="count",
        ),
    ],
)
def test_folder_caps(tmp_path, files, limits, message):
    error = load_error(make_folder(tmp_path / "sub", files), tmp_path, limits=limits)

    assert error.message == message


def test_folder_with_only_a_notebook_uses_the_notebook(tmp_path):
    folder = make_folder(
        tmp_path / "sub",
        {
            "ConvolutionalNetworks.ipynb": notebook_bytes([code_cell(LAYERS)]),
            "cs231n/data_utils.py": "def load_CIFAR10(root):\n    pass\n",
        },
    )

    loaded = load(folder, tmp_path)

    assert loaded.kind == "folder"
    assert loaded.entry == "ConvolutionalNetworks.py"
    assert loaded.functions_found == BOTH
    assert loaded.notes == (
        "no .py file defines conv_forward_naive or conv_backward_naive; using the code of notebook "
        "ConvolutionalNetworks.ipynb (converted to ConvolutionalNetworks.py)",
    )
    assert "def conv_backward_naive(dout, cache):" in (loaded.root / loaded.entry).read_text()


def test_converted_notebook_never_overwrites_a_student_file(tmp_path):
    folder = make_folder(
        tmp_path / "sub",
        {"conv.ipynb": notebook_bytes([code_cell(LAYERS)]), "conv.py": "# my scratch file\n"},
    )

    loaded = load(folder, tmp_path)

    assert loaded.entry == "conv_from_notebook.py"
    assert (loaded.root / "conv.py").read_text() == "# my scratch file\n"


def test_folder_whose_only_notebook_is_broken_reports_the_notebook_error(tmp_path):
    folder = make_folder(tmp_path / "sub", {"conv.ipynb": b'{"cells": [}', "helpers.py": "x = 1\n"})

    error = load_error(folder, tmp_path)

    assert error.message == "conv.ipynb: notebook is not valid JSON: Expecting value: line 1 column 12 (char 11)"


# --- zip archives -----------------------------------------------------------------


def test_zip_with_a_wrapper_folder(tmp_path):
    archive = tmp_path / "Alice Smith.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("alice/", "")
        zf.writestr("alice/cs231n/", "")
        zf.writestr("alice/cs231n/layers.py", LAYERS)
        zf.writestr("alice/README.md", "hello\n")
        zf.writestr("__MACOSX/alice/cs231n/._layers.py", b"\x00\x05\x16\x07AppleDouble")
        zf.writestr("alice/cs231n/__pycache__/layers.cpython-311.pyc", b"\x00")

    loaded = load(archive, tmp_path)

    assert loaded.kind == "zip"
    assert loaded.submission_id == "alice-smith"
    assert loaded.entry == "alice/cs231n/layers.py"
    assert loaded.functions_found == BOTH
    assert loaded.notes == ()
    assert staged_files(loaded.root) == ["alice/README.md", "alice/cs231n/layers.py"]


def test_zip_and_the_folder_it_was_made_from_have_the_same_hash(tmp_path):
    files = {"alice/cs231n/layers.py": LAYERS, "alice/README.md": "hello\n"}
    archive = make_zip(tmp_path / "alice.zip", files)
    folder = make_folder(tmp_path / "unzipped", files)

    assert load(archive, tmp_path).sha256 == load(folder, tmp_path).sha256


def test_zip_with_backslash_paths_is_staged_as_folders(tmp_path):
    archive = make_zip(tmp_path / "win.zip", {"cs231n\\layers.py": LAYERS})

    loaded = load(archive, tmp_path)

    assert loaded.entry == "cs231n/layers.py"
    assert staged_files(loaded.root) == ["cs231n/layers.py"]


@pytest.mark.parametrize(
    "name, message",
    [
        pytest.param(
            "../evil.py",
            "member ../evil.py has a '..' component, which would write outside the archive's folder",
            id="dot-dot",
        ),
        pytest.param(
            "ok/..\\..\\evil.py",
            "member ok/..\\..\\evil.py has a '..' component, which would write outside the archive's folder",
            id="dot-dot-backslash",
        ),
        pytest.param("/etc/x", "member /etc/x has an absolute path", id="absolute"),
        pytest.param("\\etc\\x", "member \\etc\\x has an absolute path", id="absolute-backslash"),
        pytest.param("C:/Windows/x.py", "member C:/Windows/x.py starts with a drive letter", id="drive-letter"),
        pytest.param("a\x1b[2Jb.py", "member 'a\\x1b[2Jb.py' has control characters in its name", id="control-char"),
    ],
)
def test_zip_member_paths_that_escape_are_refused_before_extracting(tmp_path, name, message):
    # The bad member comes last: nothing, not even the good member before it, may be extracted.
    archive = make_zip(tmp_path / "bad.zip", {"cs231n/layers.py": LAYERS, name: "x = 1\n"})

    assert load_error(archive, tmp_path).message == message


def test_zip_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("cs231n/layers.py", LAYERS)
        link = zipfile.ZipInfo("notes/x")
        link.create_system = 3  # Unix, so that the mode bits are read
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")

    assert load_error(archive, tmp_path).message == "symlinks are not allowed: notes/x -> /etc/passwd"


def test_zip_bomb_is_refused_on_its_compression_ratio(tmp_path):
    archive = tmp_path / "bomb.zip"
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("zeros.bin", "w", force_zip64=True) as member:
            for _ in range(100):
                member.write(zeros)

    error = load_error(archive, tmp_path)

    assert re.fullmatch(
        r"member zeros\.bin expands \d+ times \(\d+ bytes to 104857600\), over the compression ratio limit of 200",
        error.message,
    )


def test_small_highly_compressible_member_is_accepted(tmp_path):
    archive = make_zip(tmp_path / "sub.zip", {"layers.py": LAYERS, "blank.npy": bytes(64 * 1024)})

    assert load(archive, tmp_path).entry == "layers.py"


@pytest.mark.parametrize(
    "members, limits, message",
    [
        pytest.param(
            {"layers.py": LAYERS, "big.bin": b"x" * 1001},
            LoadLimits(max_file_bytes=1000),
            "member big.bin expands to 1001 bytes, over the 1000-byte per-file limit",
            id="per-file",
        ),
        pytest.param(
            {"a.txt": b"x" * 1000, "b.txt": b"x" * 1000, "c.txt": b"x" * 1000},
            LoadLimits(max_total_bytes=2500),
            "archive expands to 3000 bytes, over the 2500-byte limit (passed at member c.txt)",
            id="total",
        ),
        pytest.param(
            {"a.txt": "", "b.txt": "", "c.txt": "", "d.txt": "", "e.txt": ""},
            LoadLimits(max_files=3),
            "archive has 5 files, over the 3-file limit (passed at member d.txt)",
            id="too-many-files",
        ),
        pytest.param(
            {"layers.py": LAYERS, "conv.ipynb": b"x" * 1001},
            LoadLimits(max_file_bytes=500, max_notebook_bytes=1000),
            "member conv.ipynb expands to 1001 bytes, over the 1000-byte per-file limit",
            id="notebook-has-its-own-cap",
        ),
    ],
)
def test_zip_caps_on_declared_sizes(tmp_path, members, limits, message):
    archive = make_zip(tmp_path / "sub.zip", members)

    assert load_error(archive, tmp_path, limits=limits).message == message


def test_zip_member_whose_header_lies_about_its_size_is_refused(tmp_path):
    archive = make_zip(tmp_path / "liar.zip", {"layers.py": LAYERS, "big.bin": bytes(3 * 1024 * 1024)})
    _patch_declared_size(archive, "big.bin", 100)

    error = load_error(archive, tmp_path)

    assert error.message == "not a valid zip archive: member big.bin is corrupt (Bad CRC-32 for file 'big.bin')"


def test_zip_extraction_counts_the_bytes_it_reads(tmp_path, monkeypatch):
    # zipfile itself stops at the declared size; should a decompressor ever hand over
    # more, the cap on bytes actually read still holds.
    archive = make_zip(tmp_path / "sub.zip", {"layers.py": LAYERS, "data.bin": b"x" * 10})
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, info: io.BytesIO(b"x" * 5000))

    error = load_error(archive, tmp_path, limits=LoadLimits(max_file_bytes=4000))

    assert error.message == "member layers.py holds more than 4000 bytes when read, over the 4000-byte per-file limit"


def test_zip_with_two_members_for_one_path_is_refused(tmp_path):
    archive = make_zip(tmp_path / "dup.zip", {"cs231n/layers.py": LAYERS, "cs231n\\layers.py": LAYERS})

    error = load_error(archive, tmp_path)

    assert error.message == "member cs231n\\layers.py clashes with another member of the same path (cs231n/layers.py)"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(LAYERS.encode(), id="python-source"),
        pytest.param(b"", id="empty"),
        pytest.param(b"PK\x03\x04" + bytes(40), id="truncated-header"),
    ],
)
def test_file_that_is_not_a_zip_is_refused(tmp_path, content):
    archive = tmp_path / "fake.zip"
    archive.write_bytes(content)

    assert load_error(archive, tmp_path).message == "not a valid zip archive: File is not a zip file"


def test_zip_member_with_a_cp437_name_is_accepted(tmp_path):
    archive = make_zip(tmp_path / "cafe.zip", {"layers.py": LAYERS, "cafX.txt": "menu\n"})
    _patch_name_bytes(archive, b"cafX.txt", b"caf\x82.txt")  # 0x82 is é in cp437; no UTF-8 flag

    loaded = load(archive, tmp_path)

    assert staged_files(loaded.root) == ["café.txt", "layers.py"]


def test_zip_member_with_a_control_byte_in_a_cp437_name_is_refused(tmp_path):
    archive = make_zip(tmp_path / "bell.zip", {"layers.py": LAYERS, "cafX.txt": "menu\n"})
    _patch_name_bytes(archive, b"cafX.txt", b"caf\x07.txt")

    assert load_error(archive, tmp_path).message == "member 'caf\\x07.txt' has control characters in its name"


def _patch_name_bytes(archive: Path, old: bytes, new: bytes) -> None:
    """Rewrite a member name in place (local header and central directory), same length."""
    data = archive.read_bytes()
    assert len(old) == len(new) and data.count(old) == 2
    archive.write_bytes(data.replace(old, new))


def _patch_declared_size(archive: Path, name: str, size: int) -> None:
    """Make the headers of ``name`` declare ``size`` uncompressed bytes; its data is unchanged."""
    data = bytearray(archive.read_bytes())
    encoded = name.encode()
    # (signature, offset of the uncompressed size, offset of the name): local header, central directory.
    for signature, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = data.index(signature)
        while data[start + name_offset : start + name_offset + len(encoded)] != encoded:
            start = data.index(signature, start + 4)
        struct.pack_into("<I", data, start + size_offset, size)
    archive.write_bytes(bytes(data))


# --- notebooks --------------------------------------------------------------------

SETUP_CELL = [
    "# As usual, a bit of setup\n",
    "import numpy as np\n",
    "from cs231n.data_utils import get_CIFAR10_data\n",
    "%matplotlib inline\n",
    "%load_ext autoreload\n",
    "\n",
    "def rel_error(x, y):\n",
    '    """ returns relative error """\n',
    "    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))\n",
]
EXPERIMENT_CELL = [
    "data = get_CIFAR10_data()\n",
    "for epoch in range(100):\n",
    "    train(model, data)\n",
    "print(rel_error(1, 2))\n",
]


def test_notebook_keeps_only_imports_definitions_and_constants(tmp_path):
    raw = notebook_bytes(
        [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Convolutional networks\n"]},
            code_cell(SETUP_CELL),
            code_cell("!pip install numpy", outputs=[{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]),
            code_cell("PAD = 1\n" + FORWARD + "\n" + BACKWARD),
            code_cell(EXPERIMENT_CELL, outputs=[{"output_type": "display_data", "data": {"image/png": "iVBO"}}]),
            code_cell("%%timeit\nconv_forward_naive(x, w, b, {})\n"),
        ]
    )
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    path.write_bytes(raw)

    loaded = load(path, tmp_path)

    assert loaded.kind == "ipynb"
    assert loaded.entry == "submission.py"
    assert loaded.functions_found == BOTH
    assert loaded.sha256 == hashlib.sha256(raw).hexdigest()
    assert loaded.notes == (
        "notebook: skipped 3 magic/shell lines",
        "notebook: skipped 1 %% magic cell",
        "notebook: dropped import of missing module cs231n.data_utils",
        "notebook: dropped cell 5, line 1, `data = get_CIFAR10_data()`: it runs code at import "
        "(a call: get_CIFAR10_data())",
        "notebook: ignored 2 top-level statements in cell 5 (calls, loops, prints: the grader does not run "
        "experiments, prints or plots)",
    )
    assert staged_files(loaded.root) == ["submission.py"]
    assert (loaded.root / "submission.py").read_text() == (
        "# Generated by convgrade from a notebook: only statements that run no code at import are kept.\n"
        "\n"
        "from __future__ import annotations\n"
        "\n"
        "# notebook cell 2, line 2\n"
        "import numpy as np\n"
        "\n"
        "# notebook cell 2, line 7\n"
        "def rel_error(x, y):\n"
        '    """ returns relative error """\n'
        "    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))\n"
        "\n"
        "# notebook cell 4, line 1\n"
        "PAD = 1\n"
        "\n"
        "# notebook cell 4, line 2\n" + FORWARD.rstrip("\n") + "\n"
        "\n"
        f"# notebook cell 4, line {3 + FORWARD.count(chr(10))}\n" + BACKWARD
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        pytest.param(
            b'{"cells": [}', "notebook is not valid JSON: Expecting value: line 1 column 12 (char 11)", id="bad-json"
        ),
        pytest.param(
            b'{\n "cells": [\n  {"cell_type": "code" "source": ""}\n ]\n}',
            "notebook is not valid JSON: Expecting ',' delimiter: line 3 column 24 (char 37)",
            id="missing-comma",
        ),
        pytest.param(
            b'{"cells": "\xff"}', "notebook is not valid JSON: it is not UTF-8 text (invalid start byte)", id="latin1"
        ),
        pytest.param(b"[" * 100_000, "notebook is not valid JSON: it is nested too deeply to read", id="deep"),
        pytest.param(b"[]", "notebook is not a JSON object but a list", id="not-an-object"),
        pytest.param(
            b'{"nbformat": 3, "worksheets": []}', "notebook is nbformat 3; only nbformat 4 is supported", id="v3"
        ),
        pytest.param(
            b'{"metadata": {}}', "notebook has no 'cells' list (is it an nbformat 4 notebook?)", id="no-cells"
        ),
        pytest.param(
            b'{"cells": [{"cell_type": "code", "source": 42}]}',
            "notebook cell 1 has an invalid 'source' (expected a string or a list of strings)",
            id="bad-source",
        ),
    ],
)
def test_notebook_that_is_not_a_notebook_is_refused(tmp_path, raw, message):
    path = tmp_path / "conv.ipynb"
    path.write_bytes(raw)

    assert load_error(path, tmp_path).message == message


def test_notebook_with_a_syntax_error_in_the_def_cell_is_refused(tmp_path):
    path = tmp_path / "conv.ipynb"
    broken = "def conv_forward_naive(x, w, b, conv_param):\n    print x.shape\n    return x, None\n"
    path.write_bytes(notebook_bytes([code_cell("import numpy as np"), code_cell(broken + BACKWARD)]))

    error = load_error(path, tmp_path)

    assert error.message == (
        "syntax error in notebook cell 2 line 2: Missing parentheses in call to 'print'. Did you mean print(...)?"
    )
    assert error.hint == PYTHON2_HINT


def test_notebook_without_the_functions_is_refused(tmp_path):
    path = tmp_path / "conv.ipynb"
    path.write_bytes(notebook_bytes([code_cell("import numpy as np\nprint(np.pi)\n")]))

    error = load_error(path, tmp_path)

    assert (error.message, error.hint) == (NOTHING_DEFINED, "looked for top-level `def` statements in: conv.ipynb")


def test_notebook_over_its_size_limit_is_refused(tmp_path):
    path = tmp_path / "conv.ipynb"
    path.write_bytes(notebook_bytes([code_cell(LAYERS)]))
    size = path.stat().st_size

    error = load_error(path, tmp_path, limits=LoadLimits(max_notebook_bytes=100))

    assert error.message == f"notebook conv.ipynb is {size} bytes, over the 100-byte limit"


def _convert(cells: list[dict], **kwargs) -> tuple[str, list[str]]:
    source, notes = notebook_to_module(notebook_bytes(cells), BOTH, **kwargs)
    header, body = source.split("from __future__ import annotations\n", 1)
    assert header == "# Generated by convgrade from a notebook: only statements that run no code at import are kept.\n\n"
    compile(source, "submission.py", "exec")
    return body, notes


IGNORED_IN_CELL_1 = ("notebook: ignored {} top-level statement{} in cell 1 (calls, loops, prints: the grader does not "
                     "run experiments, prints or plots)")


@pytest.mark.parametrize(
    "cell, kept, notes",
    [
        pytest.param(
            "x = (7\n     % 3)\nEPS = 1e-8\n",
            "\n# notebook cell 1, line 1\nx = (7\n     % 3)\n\n# notebook cell 1, line 3\nEPS = 1e-8\n",
            [],
            id="modulo-continuation-is-not-a-magic",
        ),
        pytest.param(
            "get_ipython().run_line_magic('matplotlib', 'inline')\nH, W = 4, 4\n",
            "\n# notebook cell 1, line 2\nH, W = 4, 4\n",
            ["notebook: skipped 1 magic/shell line"],
            id="nbconvert-magic",
        ),
        pytest.param(
            "files = !ls\nSIZES: list = [(1, 2)]\n",
            "\n# notebook cell 1, line 2\nSIZES: list = [(1, 2)]\n",
            ["notebook: skipped 1 magic/shell line"],
            id="assigned-shell-output",
        ),
        pytest.param(
            "EPS = 1e-8; train()\n",
            "\n# notebook cell 1, line 1\nEPS = 1e-08\n",
            [IGNORED_IN_CELL_1.format(1, "")],
            id="shared-line-is-unparsed",
        ),
        pytest.param(
            "@staticmethod\ndef helper():\n    %time pass\n",
            "\n# notebook cell 1, line 1\n@staticmethod\ndef helper():\n    pass\n",
            ["notebook: skipped 1 magic/shell line"],
            id="indented-magic-becomes-pass",
        ),
        pytest.param(
            "import os, cs231n.layers as L\nfrom .utils import pad\nfrom numpy import pad\n",
            "\n# notebook cell 1, line 1\nimport os\n\n# notebook cell 1, line 3\nfrom numpy import pad\n",
            ["notebook: dropped import of missing module cs231n.layers",
             "notebook: dropped import of missing module .utils"],
            id="imports-filtered-per-name",
        ),
        pytest.param(
            "net.params['W1'] = 0\nconfig = dict(lr=1)\nclass Model:\n    pass\n",
            "\n# notebook cell 1, line 3\nclass Model:\n    pass\n",
            ["notebook: dropped cell 1, line 2, `config = dict(lr=1)`: it runs code at import (a call: dict(lr=1))",
             IGNORED_IN_CELL_1.format(1, "")],
            id="calls-and-item-assignments-are-dropped",
        ),
        pytest.param(
            "np.pad?\nx = 1\n",
            "",
            ["notebook: dropped cell 1, which does not parse (line 1: invalid syntax)"],
            id="broken-cell-without-required-def",
        ),
        # Issue 14: helpers the conv cell needs are kept when they run nothing at import.
        pytest.param(
            "import numpy as np\npad4 = lambda x, p: np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n"
            "ACTIVATIONS = {'pad': pad4, 'eps': -1e-8 * 2, 'dtype': np.float64}\n",
            "\n# notebook cell 1, line 1\nimport numpy as np\n\n# notebook cell 1, line 2\n"
            "pad4 = lambda x, p: np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n\n# notebook cell 1, line 3\n"
            "ACTIVATIONS = {'pad': pad4, 'eps': -1e-8 * 2, 'dtype': np.float64}\n",
            [],
            id="lambdas-and-tables-of-them-are-kept",
        ),
        pytest.param(
            "import numpy as np\ndtype = np.float\nDTYPE = np.float64\nas_float = lambda x: np.float(x)\n",
            "\n# notebook cell 1, line 1\nimport numpy as np\n\n# notebook cell 1, line 3\nDTYPE = np.float64\n"
            "\n# notebook cell 1, line 4\nas_float = lambda x: np.float(x)\n",
            ["notebook: dropped cell 1, line 2, `dtype = np.float`: np.float does not exist in the grader's numpy "
             "(AttributeError at import)"],
            id="a-removed-numpy-alias-would-fail-the-import",
        ),
        pytest.param(
            "import numpy as np\nx = np.random.randn(2, 3)\nshift = x + 1\ndef f(a, eps=shift):\n    return a\n",
            "\n# notebook cell 1, line 1\nimport numpy as np\n",
            ["notebook: dropped cell 1, line 2, `x = np.random.randn(2, 3)`: it runs code at import (a call: "
             "np.random.randn(2, 3))",
             "notebook: dropped cell 1, line 3, `shift = x + 1`: it uses x, which no kept statement before it "
             "defines",
             "notebook: dropped cell 1, line 4, `def f(a, eps=shift):`: a default value uses shift, which no kept "
             "statement before it defines"],
            id="a-statement-needing-a-dropped-name-is-dropped-too",
        ),
        pytest.param(
            "import numpy as np\ndef conv_forward_naive(x, w, b, p):\n    return TABLE[0](x), None\n"
            "TABLE = [make_padder(1)]\n",
            "\n# notebook cell 1, line 1\nimport numpy as np\n\n# notebook cell 1, line 2\n"
            "def conv_forward_naive(x, w, b, p):\n    return TABLE[0](x), None\n",
            ["notebook: dropped cell 1, line 4, `TABLE = [make_padder(1)]`: it runs code at import (a call: "
             "make_padder(1)); your functions use TABLE, which will then be undefined (NameError)"],
            id="a-dropped-name-the-functions-use-is-named",
        ),
    ],
)
def test_notebook_to_module_cases(cell, kept, notes):
    assert _convert([code_cell(cell)]) == (kept, notes)


# Issue 15, item 13: nothing kept may run student code at import, not even inside a class
# body, a decorator, a default value, a base class or a metaclass.
@pytest.mark.parametrize(
    "cell, reason",
    [
        pytest.param("class Layer:\n    exec('open(1)')\n    def f(self):\n        pass\n",
                     "line 2 of its body: runs code at import (exec('open(1)'))", id="class-body-call"),
        pytest.param("class Layer:\n    x = [print(i) for i in range(3)]\n",
                     "line 2 of its body: runs code at import (a comprehension: [print(i) for i in range(3)])",
                     id="class-body-comprehension"),
        pytest.param("def spy(f):\n    return f\n@spy\ndef g():\n    pass\n",
                     "its decorator @spy would run at import", id="student-decorator"),
        pytest.param("staticmethod = print\n@staticmethod\ndef g():\n    pass\n",
                     "its decorator @staticmethod would run at import", id="shadowed-builtin-decorator"),
        pytest.param("def g(x=print('at import')):\n    pass\n",
                     "a default value runs code at import (a call: print('at import'))", id="default-call"),
        pytest.param("g = lambda x=open('/tmp/y', 'w'): x\n",
                     "it runs code at import (a call: open('/tmp/y', 'w'))", id="lambda-default-call"),
        pytest.param("class Meta(type):\n    pass\nclass Layer(metaclass=Meta):\n    pass\n",
                     "its class keywords (a metaclass) would run code at import", id="metaclass"),
        pytest.param("class Base:\n    def __init_subclass__(cls):\n        pass\nclass Layer(Base):\n    pass\n",
                     "it defines __init_subclass__, which Python calls while defining classes",
                     id="init-subclass"),
        pytest.param("import enum\nclass Color(enum.Enum):\n    RED = 1\n",
                     "its base class enum.Enum is not a class defined in the notebook or a built-in type",
                     id="library-metaclass-base"),
        pytest.param("X = {**dict(a=1)}\n", "it runs code at import (dict unpacking: {**dict(a=1)})",
                     id="dict-unpacking"),
        pytest.param("X = f'{1}'\n", "it runs code at import (an f-string: f'{1}')", id="f-string"),
    ],
)
def test_notebook_keeps_nothing_that_runs_code_at_import(cell, reason):
    body, notes = _convert([code_cell(cell)])
    assert any(note.endswith(": " + reason) for note in notes), notes


def test_notebook_module_runs_nothing_at_import(tmp_path):
    """Importing the converted module calls nothing the student wrote: every dropped statement
    of this notebook would write a file if it ran; the kept ones define what they should."""
    canary = tmp_path / "ran"
    touch = f"open({str(canary)!r}, 'a').write('x')"
    cells = [
        "import numpy as np",
        f"class Layer:\n    {touch}\n",
        f"def spy(f):\n    {touch}\n    return f\n@spy\ndef g():\n    pass\n",
        f"def h(x=({touch})):\n    pass\n",
        f"class Meta(type):\n    def __new__(m, *a):\n        {touch}\n        return type.__new__(m, *a)\n"
        "class K(metaclass=Meta):\n    pass\n",
        f"class Base:\n    def __init_subclass__(cls):\n        {touch}\nclass Sub(Base):\n    pass\n",
        "pad4 = lambda x, p: np.pad(x, p)\nEPS = 1e-8\n",
        "class Kept:\n    'a helper'\n    scale = EPS\n    @staticmethod\n    def pad(x):\n        return pad4(x, 1)\n",
        FORWARD,
    ]
    source, _ = notebook_to_module(notebook_bytes([code_cell(c) for c in cells]), BOTH)
    namespace: dict = {}
    exec(compile(source, "submission.py", "exec"), namespace)
    assert not canary.exists(), source
    assert {"pad4", "EPS", "Kept", "conv_forward_naive", "np", "spy", "Meta"} <= set(namespace)
    assert not {"Layer", "g", "h", "K", "Base", "Sub"} & set(namespace)
    assert namespace["Kept"].pad(namespace["np"].zeros((1, 1))).shape == (3, 3)


def test_notebook_future_imports_move_to_the_top():
    source, notes = notebook_to_module(
        notebook_bytes([code_cell("import numpy as np\n"), code_cell("from __future__ import print_function\n")])
    )

    assert source == (
        "# Generated by convgrade from a notebook: only statements that run no code at import are kept.\n"
        "\n"
        "from __future__ import annotations, print_function\n"
        "\n"
        "# notebook cell 1, line 1\n"
        "import numpy as np\n"
    )
    assert notes == []
    compile(source, "submission.py", "exec")


def test_notebook_to_module_asks_where_modules_are_available():
    source, notes = _convert(
        [code_cell("import numpy as np\nimport matplotlib.pyplot as plt\n")],
        module_available=lambda name: name == "numpy",
    )

    assert source == "\n# notebook cell 1, line 1\nimport numpy as np\n"
    assert notes == ["notebook: dropped import of missing module matplotlib.pyplot"]


def test_tracebacks_point_at_notebook_cells():
    source, _ = notebook_to_module(notebook_bytes([
        code_cell("import numpy as np\n\nEPS = 1"),
        {"cell_type": "markdown", "metadata": {}, "source": "text"},
        code_cell("print('experiment')\n\ndef conv_forward_naive(x, w, b, p):\n    y = x + 1\n    return y / 0, None\n"),
    ]), BOTH)
    generated = source.split("\n").index("    return y / 0, None") + 1
    traceback = (f'Traceback (your code):\n  File "submission.py", line {generated}, in conv_forward_naive\n'
                 "    return y / 0, None\nZeroDivisionError: division by zero")

    assert relocate(traceback, "submission.py", generated_locations(source)) == (
        "Traceback (your code):\n  notebook cell 3, line 5, in conv_forward_naive\n"
        "    return y / 0, None\nZeroDivisionError: division by zero")
    # Another file's lines are left alone.
    assert relocate(traceback, "layers.py", generated_locations(source)) == traceback


# --- hashing and staging ----------------------------------------------------------


def test_sha256_is_stable_and_follows_every_byte(tmp_path):
    folder = make_folder(tmp_path / "sub", {"cs231n/layers.py": LAYERS, "data/w.npy": b"\x00\x01"})

    first = load(folder, tmp_path).sha256
    second = load(folder, tmp_path).sha256
    (folder / "data" / "w.npy").write_bytes(b"\x00\x02")
    changed_byte = load(folder, tmp_path).sha256
    (folder / "data" / "w.npy").rename(folder / "data" / "v.npy")
    renamed = load(folder, tmp_path).sha256

    assert first == second
    assert len({first, changed_byte, renamed}) == 3


def test_staged_copy_is_world_readable_regular_files(tmp_path):
    folder = make_folder(tmp_path / "sub", {"cs231n/layers.py": LAYERS, "run.sh": "echo hi\n"})
    os.chmod(folder / "cs231n" / "layers.py", 0o600)
    os.chmod(folder / "run.sh", 0o4755)
    os.chmod(folder / "cs231n", 0o700)

    loaded = load(folder, tmp_path)

    paths = [loaded.root, *loaded.root.rglob("*")]
    modes = {p.relative_to(loaded.root).as_posix(): stat.S_IMODE(os.lstat(p).st_mode) for p in paths}
    assert modes == {".": 0o755, "cs231n": 0o755, "cs231n/layers.py": 0o644, "run.sh": 0o644}
    assert not any(p.is_symlink() for p in paths)
    assert all(stat.S_ISREG(os.lstat(p).st_mode) for p in paths if p.name in ("layers.py", "run.sh"))


def test_each_load_gets_a_fresh_root(tmp_path):
    source = tmp_path / "layers.py"
    source.write_text(LAYERS)

    first, second = load(source, tmp_path), load(source, tmp_path)

    assert first.root != second.root
    assert first.root.parent == second.root.parent == tmp_path / "staging"


# --- bad paths --------------------------------------------------------------------


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="^submission not found: .*nowhere.py$"):
        load(tmp_path / "nowhere.py", tmp_path)


@pytest.mark.parametrize(
    "name, message",
    [
        pytest.param("answer.txt", "expected a .py file, a folder, a .zip or an .ipynb, got .txt", id="txt"),
        pytest.param("layers.tar.gz", "expected a .py file, a folder, a .zip or an .ipynb, got .gz", id="tarball"),
        pytest.param(
            "README",
            "expected a .py file, a folder, a .zip or an .ipynb, got a file without an extension (README)",
            id="no-extension",
        ),
    ],
)
def test_unknown_extension_is_refused(tmp_path, name, message):
    path = tmp_path / name
    path.write_text(LAYERS)

    with pytest.raises(SubmissionError) as caught:
        load(path, tmp_path)

    assert caught.value.message == message


# --- import hints -----------------------------------------------------------------


@pytest.mark.parametrize(
    "error_text, hint",
    [
        pytest.param(
            "AttributeError: module 'numpy' has no attribute 'int'.\n`np.int` was a deprecated alias",
            "`np.int` was removed from NumPy (use `int` or `np.int64`)",
            id="np-int",
        ),
        pytest.param(
            "AttributeError: module 'numpy' has no attribute 'float'",
            "`np.float` was removed from NumPy (use `float` or `np.float64`)",
            id="np-float",
        ),
        pytest.param(
            "AttributeError: module 'numpy' has no attribute 'bool'",
            "`np.bool` was removed from NumPy (use `bool` or `np.bool_`)",
            id="np-bool",
        ),
        pytest.param(
            "AttributeError: module 'numpy' has no attribute 'object'",
            "`np.object` was removed from NumPy (use `object` or `np.object_`)",
            id="np-object",
        ),
        pytest.param(
            "ModuleNotFoundError: No module named 'numpy.lib.arraypad'",
            "`numpy.lib.arraypad` / `np.lib.pad` no longer exist in NumPy 2: use `np.pad`",
            id="arraypad",
        ),
        pytest.param(
            "AttributeError: module 'numpy.lib' has no attribute 'pad'",
            "`numpy.lib.arraypad` / `np.lib.pad` no longer exist in NumPy 2: use `np.pad`",
            id="np-lib-pad",
        ),
        pytest.param(
            "ModuleNotFoundError: No module named 'past'",
            "`past` is part of a Python 2 compatibility package that is not installed in the grader; "
            "remove the import (the grader runs Python 3)",
            id="past",
        ),
        pytest.param(
            "ModuleNotFoundError: No module named 'future.builtins'",
            "`future.builtins` is part of a Python 2 compatibility package that is not installed in the grader; "
            "remove the import (the grader runs Python 3)",
            id="future",
        ),
        pytest.param(
            "NameError: name 'xrange' is not defined",
            "`xrange` is Python 2; use `range` (the grader runs Python 3)",
            id="xrange",
        ),
        pytest.param(
            'Traceback (most recent call last):\n  File "layers.py", line 3, in <module>\n'
            "    from cs231n.fast_layers import conv_forward_fast\n"
            "ModuleNotFoundError: No module named 'cs231n'",
            "the grader only has your submission's files; include the module or remove the import",
            id="cs231n",
        ),
        pytest.param("AttributeError: module 'numpy' has no attribute 'foo'", None, id="unknown-numpy-name"),
        pytest.param("ModuleNotFoundError: No module named 'torch'",
                     "torch is not installed in the grading environment; remove the import, or ask staff to add it",
                     id="other-module"),
        pytest.param("TypeError: 'float' object cannot be interpreted as an integer",
                     "Python 2 division: use // for shape arithmetic (in Python 3, `/` always gives a float); look "
                     "for a `/` in the sizes or indices computed before the failing line", id="float-size"),
        pytest.param("ModuleNotFoundError: No module named 'numpy.testing._private.nosetester'",
                     "`numpy.testing._private.nosetester` is not in the grading environment's NumPy (a removed or "
                     "private module; editors add such imports on their own); remove the import",
                     id="private-numpy-module"),
        pytest.param("ModuleNotFoundError: No module named 'im2col'",
                     "importing `im2col` inside the cs231n package is a Python 2 implicit relative import of "
                     "cs231n/im2col.py, which is not in your submission; write `from .im2col import ...` and include "
                     "im2col.py", id="implicit-relative-import"),
        pytest.param("NameError: name 'conv_helper' is not defined", None, id="ordinary-name-error"),
        pytest.param("", None, id="empty"),
    ],
)
def test_import_hints(error_text, hint):
    assert import_hints(error_text) == hint


def test_submissions_load_from_many_threads_at_once(tmp_path):
    """The service's request threads and grade-all's in-process workers load at the same
    time: every load stages into its own folder and finds its own functions. (The compiler
    race the service's burst once met, "AST constructor recursion depth mismatch", did not
    reproduce here; grader.intake.quiet_compiler's lock is what keeps it away.)"""
    from concurrent.futures import ThreadPoolExecutor

    from grader.intake.load import load_submission

    body = "\n".join(f"def helper_{i}(x):\n    return [[(x + {i}) * j for j in range(3)] for _ in range(2)]"
                     for i in range(300))
    paths = []
    for n in range(24):
        path = tmp_path / f"s{n}.py"
        path.write_text(body + "\n\ndef conv_forward_naive(x, w, b, conv_param):\n    return None, None\n\n"
                        "def conv_backward_naive(dout, cache):\n    return None, None, None\n")
        paths.append(path)

    def load(job):
        n, path = job
        return load_submission(path, tmp_path / f"staging-{n}").functions_found

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(load, enumerate(paths * 4)))
    assert found == [("conv_forward_naive", "conv_backward_naive")] * 96
