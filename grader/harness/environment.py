"""The runtime a grading was timed on (Python, numpy, BLAS, CPU model), for the report
and for the identity of cached machine figures."""

from __future__ import annotations

import platform

import numpy as np


def environment() -> dict:
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        info = config.get("Build Dependencies", {}).get("blas", {})
        blas = f"{info.get('name', 'unknown')} {info.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode; the name is informative only
        pass
    cpu_model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"python": platform.python_version(), "numpy": np.__version__, "blas": blas, "cpu_model": cpu_model}
