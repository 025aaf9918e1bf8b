"""Assignment packs: everything specific to one assignment, one module each, and the
registry that names them. Nothing outside this folder knows an assignment's function
names, arguments, cases or sizes; the harness, sandbox, timing, scoring and
leaderboard code read them from the pack the grading's configuration names.

A pack is a module (numpy and the standard library only: it runs inside the sandbox)
that defines every name in ``PACK_NAMES``; ``tests/test_packs.py`` checks each
registered pack against that list, and docs/contributing.md's "Adding an assignment" says
what each name means.

A bundle (``BUNDLES``) is an assignment made of several packs graded together from one
file (``bundle.Bundle``): ``get`` returns it where it returns a pack.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Registered packs: the name a course writes (``--assignment``, the config's
# ``assignment``) -> the module in this folder.
PACKS = {
    "cs231n-conv": "cs231n_conv",
    "cs231n-maxpool": "cs231n_maxpool",
    # Assignment 2's other layers: each a pack alone, and a layer of the cs231n-a2 bundle.
    "cs231n-affine": "cs231n_affine",
    "cs231n-relu": "cs231n_relu",
    "cs231n-batchnorm": "cs231n_batchnorm",  # bn_param carried as a dict of arrays
    "cs231n-spatial-batchnorm": "cs231n_spatial_batchnorm",
    "cs231n-layernorm": "cs231n_layernorm",
    "cs231n-spatial-groupnorm": "cs231n_groupnorm",
    "cs231n-dropout": "cs231n_dropout",  # checked by property (its mask is random)
    "cs231n-svm-loss": "cs231n_svm_loss",  # the loss layers: one call each, "loss"
    "cs231n-softmax-loss": "cs231n_softmax_loss",
}
DEFAULT = "cs231n-conv"

# Registered bundles: an assignment graded as several packs from one file, in one grading
# (one sandbox, one worker pair, one result). Adding a pack to a bundle is adding its name
# here; its checks are then namespaced by layer (see bundle.Bundle).
BUNDLES = {
    # Every layer of assignment 2's layers.py, in the order the file defines them.
    "cs231n-a2": ("cs231n-affine", "cs231n-relu", "cs231n-batchnorm", "cs231n-layernorm", "cs231n-dropout",
                  "cs231n-conv", "cs231n-maxpool", "cs231n-spatial-batchnorm", "cs231n-spatial-groupnorm",
                  "cs231n-svm-loss", "cs231n-softmax-loss"),
}
# The packs whose layer the course races (the notebook prints a speedup): timed inside a
# bundle by default; a bundle's other layers are timed only when the configuration asks.
# Batchnorm's notebook races backward_alt against backward too, but timing its five calls
# took a full-size cs231n-a2 grading from about 2.3x to about 3.9x a conv-only grading
# (issue 26's target: at most 2.5x), so a course that wants it sets timing.layers.
RACING = frozenset({"cs231n-conv", "cs231n-maxpool"})

# What a pack declares (see docs/contributing.md, "Adding an assignment").
PACK_NAMES = (
    "NAME", "TITLE", "SUBJECT", "STUDENT_FUNCTIONS", "REFERENCE_FUNCTIONS", "REFERENCE_ENTRY", "PARAM_NAME",
    "CALLS", "INPUT_NAMES", "STAND_INS", "SANDBOX_PACKAGES", "KIT", "STARTER_TEMPLATE",
    "DEFAULT_RUBRIC", "PROPERTY_GROUPS", "INPUTS_CHECK", "HIDDEN_SHAPES", "SPEED_SIZES",
    "check_identity", "check_plan", "notebook_cases", "hidden_cases", "published_note", "wrong_answer_note",
    "speed_case", "speed_case_name", "timed_flops", "same_shape_gemm", "arena_sizes", "worker_address_space_bytes",
    "expected_outputs",
)


class UnknownAssignment(ValueError):
    pass


def names() -> list[str]:
    """Every name ``--assignment`` takes: the packs, then the bundles."""
    return [*PACKS, *BUNDLES]


def get(name: str):
    """The pack registered under ``name``, or the bundle (``bundle.Bundle``, which
    declares what the host reads of a pack)."""
    if name in BUNDLES:
        from .bundle import Bundle

        return Bundle.named(name, tuple(get(member) for member in BUNDLES[name]), RACING)
    if name not in PACKS:
        raise UnknownAssignment(f"unknown assignment {name!r}; known: {', '.join(sorted(names()))}")
    return importlib.import_module(f"{__name__}.{PACKS[name]}")


def settings_of(pack) -> dict[str, tuple[str, ...]]:
    """The settings a course may choose for the assignment (config ``pack_settings``): a pack's
    ``SETTINGS`` (name -> allowed values, the default first), a bundle's as "<layer>.<name>"."""
    if is_bundle(pack):
        return {f"{layer.key}.{name}": values for layer in pack.layers
                for name, values in getattr(layer.pack, "SETTINGS", {}).items()}
    return dict(getattr(pack, "SETTINGS", {}))


def settings_problem(pack, settings: dict[str, str]) -> str:
    """Why ``settings`` are not choices the assignment offers, or '' (the configuration,
    the harness job and ``configure`` all ask this)."""
    allowed = settings_of(pack)
    for name, value in settings.items():
        if name not in allowed:
            return f"{name!r}: {pack.NAME} has " + (f"the settings {', '.join(allowed)}" if allowed else "no settings")
        if value not in allowed[name]:
            return f"{name!r}: {value!r} is not one of {', '.join(allowed[name])}"
    return ""


def configure(pack, settings: dict[str, str]) -> None:
    """Apply a course's chosen settings inside the harness: each sets the pack module's
    attribute of its name in capitals (dropout's p_meaning: P_MEANING), which the pack reads
    when it builds cases and checks. Every setting not chosen goes back to its default
    first, so nothing of an earlier grading in the same process stays (the harness runs one
    grading per process; tests run many)."""
    problem = settings_problem(pack, settings)
    if problem:
        raise ValueError(f"pack_settings {problem}")
    for name, values in settings_of(pack).items():
        key, _, setting = name.rpartition(".")
        module = importlib.import_module(pack.layer(key).pack.__name__) if key else pack
        setattr(module, setting.upper(), settings.get(name, values[0]))


def is_bundle(pack) -> bool:
    return bool(getattr(pack, "IS_BUNDLE", False))


def default() -> ModuleType:
    return get(DEFAULT)


def kit(pack: ModuleType) -> ModuleType:
    """The pack's student self-check kit (a folder of this one, named by ``KIT``)."""
    if pack.KIT is None:
        raise UnknownAssignment(f"{pack.NAME} has no student self-check kit")
    return importlib.import_module(f"{__name__}.{pack.KIT}")


def sandbox_packages() -> dict[str, str]:
    """Every pack's extra distributions, pinned ({name: version}): the Docker image
    installs them all, so one image grades every registered assignment."""
    wanted: dict[str, str] = {}
    for name in PACKS:
        for distribution, version in get(name).SANDBOX_PACKAGES.items():
            if wanted.setdefault(distribution, version) != version:
                raise ValueError(f"assignment packs pin {distribution} to both {wanted[distribution]} and {version}")
    return wanted


def missing_packages(pack: ModuleType) -> list[str]:
    """The pack's extra distributions that this interpreter lacks (or has at another
    version): a grading without them would fail every student's import, so the harness
    refuses to grade instead (the grader's failure, never a zero)."""
    from importlib import metadata

    missing = []
    for distribution, version in pack.SANDBOX_PACKAGES.items():
        try:
            found = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found = None
        if found != version:
            missing.append(f"{distribution}=={version}" + (f" (found {found})" if found else ""))
    return missing
