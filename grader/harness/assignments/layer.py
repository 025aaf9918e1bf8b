"""What every forward/backward layer pack shares: how a check is named and the order
of the checks a grading reports. A pack passes its own names and result labels."""

from __future__ import annotations

INPUTS_CHECK = {"id": "inputs-unchanged", "name": "inputs are left unchanged", "function": "both",
                "group": "inputs_unchanged"}

# Rubric groups that check a property of the calls rather than their answers, and the
# functions whose calls they cover. Such a group earns its points only when at least
# one of those calls returned a correct output: code that crashes, returns garbage or
# does nothing leaves its inputs unchanged too, and earns nothing for it (the host's
# scoring applies this rule; the harness still reports what it saw).
PROPERTY_GROUPS = {"inputs_unchanged": ("forward", "backward")}


def check_identity(student_functions: dict[str, str], case_id: str, case_group: str, function: str,
                   label: str) -> dict[str, str]:
    """id, name, function and rubric group of one check: the harness records checks under
    these, and the host builds the same list when a submission cannot even be loaded.
    A backward with one result (dx alone) still names it, so ids keep one shape."""
    name = student_functions[function]
    return {
        "id": f"{function}/{case_id}" + (f"/{label}" if function == "backward" else ""),
        "name": f"{name} {label}, {case_id.replace('-', ' ')} case",
        "function": function,
        "group": f"{function}_{case_group}",
    }


def check_plan(student_functions: dict[str, str], backward_results: list[str], inputs_check: dict[str, str],
               hidden_count: int) -> list[dict[str, str]]:
    """Every check a grading reports, in order: the notebook's forward and backward
    cases, then each hidden case (forward and backward), then the inputs check."""
    plan = []
    cases = [("notebook-forward", "notebook", ("forward",)), ("notebook-backward", "notebook", ("backward",))]
    cases += [(f"hidden-{i + 1}", "hidden", ("forward", "backward")) for i in range(hidden_count)]
    for case_id, group, graded in cases:
        if "forward" in graded:
            plan.append(check_identity(student_functions, case_id, group, "forward", "out"))
        if "backward" in graded:
            plan += [check_identity(student_functions, case_id, group, "backward", label)
                     for label in backward_results]
    return plan + [inputs_check]


def bound_checks(student_functions: dict[str, str], backward_results: list[str]):
    """A pack's ``check_identity(case_id, case_group, function, label)`` and
    ``check_plan(hidden_count)``, bound to its function names and result labels."""
    def identity(case_id: str, case_group: str, function: str, label: str) -> dict[str, str]:
        return check_identity(student_functions, case_id, case_group, function, label)

    def plan(hidden_count: int) -> list[dict[str, str]]:
        return check_plan(student_functions, backward_results, INPUTS_CHECK, hidden_count)

    return identity, plan


def is_hidden_check(check_id: str) -> bool:
    """Whether a check id (as ``check_identity`` makes it) belongs to a hidden case."""
    parts = check_id.split("/")
    return len(parts) > 1 and parts[1].startswith("hidden")


def worker_address_space_bytes(arena: tuple[int, int], limits: dict) -> int:
    """A worker's RLIMIT_AS: the student's memory limit, the arena it maps (request,
    response), and the address space Python, numpy and BLAS take on top."""
    request, response = arena
    return limits["memory_bytes"] + request + response + limits["address_space_overhead_bytes"]
