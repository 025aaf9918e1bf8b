"""Line profiles: each measured function once more under the line profiler, in the
student's worker, after every timed trial; feedback only (see speed_feedback)."""

from __future__ import annotations

import numpy as np

from . import speed_feedback
from .deadline import Deadline
from .worker_pair import WorkerPair
from .workers import CallRequest


class Profiler:
    def __init__(self, pack, workers: WorkerPair, deadline: Deadline, events: list[str]):
        self.pack, self.workers, self.deadline, self.events = pack, workers, deadline, events
        self.names = pack.STUDENT_FUNCTIONS  # call name -> the student's function
        self.calls = {call.name: call for call in pack.CALLS}  # in the pack's order

    def profile_functions(self, timing: list[dict], seed: int, size: str, kept: tuple | None = None) -> list[dict]:
        """A profile per measured function (``timing``'s rows), in the pack's call order.
        ``kept``: (worker, case, {label: slot}) the timing phase left in the student's worker
        (its last timed call pair's kept results, TimingPhase.kept_for_profile): a later
        call is then profiled on that case without running the earlier ones again. Its
        slots are forgotten here, whatever is profiled."""
        try:
            return self._profile_functions(timing, seed, size, kept)
        finally:
            if kept is not None and kept[0] is self.workers.student:
                self.workers.forget(list(kept[2].values()))

    def _profile_functions(self, timing: list[dict], seed: int, size: str, kept: tuple | None) -> list[dict]:
        profiles = []
        measured = {row["call"]: row for row in timing if row.get("measured")}
        rng = np.random.default_rng([seed, 11])
        ready: dict[str, str] = {}
        if kept is not None and kept[0] is self.workers.student and self.workers.student.alive:
            case, ready = kept[1], dict(kept[2])
        else:
            case = self.pack.speed_case(rng, -200, size)
        order = list(self.calls)
        for fn in reversed(order):  # last first: a later call's earlier ones run unprofiled for what they keep
            budget = min(speed_feedback.PROFILE_BUDGET_S, self.deadline.time_left() / 4)
            if fn not in measured or budget <= 0.05 or not self.workers.ensure_student():
                continue
            # The timed trials' own limit for a call; the profiled call stops itself at its budget.
            timeout = self.deadline.call_timeout(measured[fn]["reference_median_s"])
            if kept is None or kept[0] is not self.workers.student:
                ready = {}  # the worker that held them was restarted
            needs = set(self.calls[fn].needs)
            if ready and all(label in ready for label in needs if label in self._kept_labels(fn)):
                made = {label: slot for label, slot in ready.items() if label in needs}
            else:
                made = self._keep_for(fn, case, timeout)
            if isinstance(made, str):
                self.events.append(f"no line profile of {self.names[fn]}: {made}")
                continue
            args, inputs = case.arguments(fn, made)
            request = CallRequest(self.names[fn], args, [], inputs, op="profile", extra={"budget_s": budget})
            outcome = self.workers.student.call(request, timeout)
            if made and not set(made.values()) <= set(ready.values()):
                self.workers.forget(list(made.values()))
            profile = speed_feedback.clean_profile(outcome.feedback.get("profile"), fn, budget) if outcome.ok else None
            if profile is not None:
                profiles.append(profile)
            else:
                self.events.append(f"no line profile of {self.names[fn]}: {outcome.message or outcome.status}")
        return sorted(profiles, key=lambda p: order.index(p["function"]))

    def _kept_labels(self, fn: str) -> set[str]:
        """What ``fn`` needs of its earlier calls' kept results."""
        earlier = []
        for call in self.pack.CALLS:
            if call.name == fn:
                break
            earlier += call.kept
        return set(earlier) & set(self.calls[fn].needs)

    def _keep_for(self, fn: str, case, timeout: float) -> dict[str, str] | str:
        """Run, unprofiled, the earlier calls whose kept results ``fn`` needs; returns the
        slots holding them, or why one gave none."""
        made: dict[str, str] = {}
        for earlier in self.pack.CALLS:
            if earlier.name == fn:
                break
            wanted = [label for label in earlier.kept if label in self.calls[fn].needs]
            if not wanted:
                continue
            args, inputs = case.arguments(earlier.name, made)
            slot = f"profile-{wanted[0]}"
            kept = self.workers.student.call(CallRequest(self.names[earlier.name], args, list(earlier.results), inputs,
                                                         slot, may_change=earlier.mutable), timeout)
            if not kept.ok:
                if made:
                    self.workers.forget(list(made.values()))
                return f"its {earlier.name} gave no {wanted[0]} ({kept.status})"
            made[wanted[0]] = slot
        return made
