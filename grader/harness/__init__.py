"""The trusted harness: runs inside the sandbox with numpy and the standard library only.

    __main__   reads the job, prints the one JSON report
    run        the grading: workers, checks, timing, report
    assignments  the assignment packs (everything specific to one assignment) and their registry
    workers    the harness's side of a worker process (start, call, deadline, kill)
    worker     the worker itself (runs the untrusted module; believed in nothing)
    protocol   framing and the shared-memory arena, used by both sides
    checks     output checks in a fixed order (None, type, shape, dtype, finite, values)
    timing     the one clock, medians, confidence intervals, trial budget
    lockdown   namespaces, resource limits, private uids, session keyring
    seccomp    the workers' system-call deny list (classic BPF, installed before exec)
    text       student text made safe: valid Unicode, control characters escaped, byte caps
"""
