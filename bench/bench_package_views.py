"""Package views benchmark (not a test): what a grading pays to give each worker only the
packages it may import (grader/harness/student_packages.py).

    python bench/bench_package_views.py [--repeat N] [DISTRIBUTION ...]   (as root, Linux)

Per run, in a fresh process as a harness would: resolving the three sets (the student's:
numpy and the named distributions; the reference's; the worker's own), making their three
views (folders of links), and the chroot's extra mounts (each site-packages covered, the
allowed entries bound back), against a worker root built without them. A grading takes
about 3 s; these are milliseconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ONE_RUN = r'''
import json, os, sys, tempfile, time
started = time.perf_counter()
from grader.harness import lockdown, student_packages as sp
from grader.harness.workspace import package_sites
imported = time.perf_counter()
sets = {"student": sp.for_student(sys.argv[1:]), "reference": sp.resolve(sp.ALWAYS), "worker": sp.resolve(sp.WORKER_ONLY)}
resolved = time.perf_counter()
folder = tempfile.mkdtemp(prefix="bench-views-")
for role, found in sets.items():
    sp.build_view(os.path.join(folder, role), found.entries)
linked = time.perf_counter()
entries = tuple({e.path: e for found in sets.values() for e in found.entries}.values())
sites = package_sites(entries)
lockdown.isolate_namespaces()  # the mounts below vanish with this process
roots = []
for packages in (None, sites):
    root = tempfile.mkdtemp(prefix="bench-root-")
    begun = time.perf_counter()
    lockdown.build_worker_root(root, read_only=[sys.base_prefix, folder], writable=[], packages=packages)
    roots.append(time.perf_counter() - begun)
print(json.dumps({"import_ms": 1e3 * (imported - started), "resolve_ms": 1e3 * (resolved - imported),
                  "views_ms": 1e3 * (linked - resolved), "mounts_ms": 1e3 * (roots[1] - roots[0]),
                  "entries": len(entries), "sites": len(sites)}))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("distributions", nargs="*", help="the course's packages (e.g. scipy)")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run([sys.executable, "-c", ONE_RUN, *args.distributions], capture_output=True, text=True,
                              cwd=root, check=True)
        runs.append(json.loads(done.stdout))
    for key in ("resolve_ms", "views_ms", "mounts_ms"):  # importing the harness is paid today already
        values = sorted(run[key] for run in runs)
        print(f"{key:11s} median {values[len(values) // 2]:7.2f}  min {values[0]:7.2f}  max {values[-1]:7.2f}")
    print(f"{runs[0]['entries']} entries in {runs[0]['sites']} site folders; packages: numpy "
          + " ".join(args.distributions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
