"""Phases for tests/test_host_budget.py, run in grader.intake.host_budget's child (imported there
as ``tests.budget.phases`` from the checkout): each misbehaves in one way a student's text
could make an analysis misbehave."""


def echo(request: dict) -> dict:
    return {"echo": request}


def loop_forever(request: dict) -> None:
    while True:
        pass


def allocate(request: dict) -> int:
    block = bytearray(request["bytes"])  # touched by the allocation itself: a real 4 GiB
    return len(block)


def answer_of(request: dict) -> str:
    return "x" * request["chars"]


def recurse(request: dict) -> int:
    def down(n: int) -> int:
        return down(n + 1) + 1

    return down(0)


def fail(request: dict) -> None:
    raise ValueError("a bug in the phase")
