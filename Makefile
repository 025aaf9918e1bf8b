# convgrade: every target creates the virtual environment it needs on the way.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

SUBMISSION ?= submissions/examples/fast_strided.py
SANDBOX ?= process
FORMAT ?= json
OUT ?=
CONFIG ?=

.PHONY: student-kit bench-similarity bench-finals
.PHONY: venv test test-fast grade grade-all bench-batch bench-service bench-rush bench bench-machine bench-grader bench-stability bench-tricks bench-sandbox image node-image clean-containers clean gradescope

# Silent, and everything on stderr: `make grade > result.json` must leave pure JSON on stdout,
# even on the first run that creates the environment.
$(VENV)/.installed: pyproject.toml
	@echo "creating $(VENV) and installing convgrade (about a minute)" >&2
	@$(PYTHON) -m venv $(VENV) >&2
	@$(PY) -m pip install --quiet --upgrade pip >&2
	@# PYTHONWARNINGS: setuptools' generic "editable installation" advisory is noise on every first run.
	@PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[test,service]' >&2
	@touch $@

venv: $(VENV)/.installed $(VENV)/similarity-packages/.installed

# The [similarity] extra (copydetect, which brings matplotlib), outside the grading environment:
# grader.similarity appends this folder to sys.path; a student's code never sees it.
$(VENV)/similarity-packages/.installed: pyproject.toml $(VENV)/.installed
	@$(PY) -m pip install --quiet --upgrade --target $(VENV)/similarity-packages \
		$$($(PY) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["similarity"])') >&2
	@touch $@

test: venv
	$(PY) -m pytest

# The fast loop: tests/unit, the tests that start no process (its conftest fails one that tries).
test-fast: venv
	$(PY) -m pytest -q tests/unit

# '@': make must not echo the command onto stdout, where the JSON goes.
grade: venv
	@$(PY) -m grader grade '$(SUBMISSION)' --sandbox $(SANDBOX) --format $(FORMAT) $(if $(OUT),--out '$(OUT)') $(if $(CONFIG),--config '$(CONFIG)') $(if $(ASSIGNMENT),--assignment '$(ASSIGNMENT)')

# Grade a whole class into OUT (default out/ here; `make grade` takes an empty OUT as stdout).
SUBMISSIONS ?= submissions/examples
grade-all: venv
	@$(PY) -m grader grade-all '$(SUBMISSIONS)' --out '$(or $(OUT),out)' --sandbox $(SANDBOX) --format $(FORMAT) $(if $(JOBS),--jobs $(JOBS)) $(if $(CONFIG),--config '$(CONFIG)') $(if $(ASSIGNMENT),--assignment '$(ASSIGNMENT)') $(if $(ROSTER),--roster '$(ROSTER)') $(if $(ONLY),--only '$(ONLY)')

# Whole-class throughput with --jobs 1 and 2 (the in-process Dask cluster) and on a scheduler
# plus one `convgrade worker` per core (separate processes); the fast examples' speed figures side by side.
bench-batch: venv
	$(PY) bench/bench_batch.py --sandbox $(SANDBOX) --cluster

# Finals run twice on a class of examples and variants: orders agree, paired per-round ratios' CV
FINALS_ROUNDS ?= 4
bench-finals: venv
	$(PY) bench/bench_finals.py --sandbox $(SANDBOX) --rounds $(FINALS_ROUNDS)

bench: venv
	$(PY) bench/bench_reference.py

# A grading's GFLOP/s and percent of peak for the reference against bench_reference.py's, side by side
# for three rounds: both figures, their ratio, the load average (run it on a quiet machine).
bench-machine: venv
	$(PY) bench/bench_machine_figures.py

# `convgrade serve` on a scheduler and workers of this machine: time to feedback, the
# acknowledgement latency of a 200-upload burst, and the server's CPU per submission.
bench-service: venv
	$(PY) bench/bench_service.py

# The deadline rush on `convgrade serve`: a seeded class of STUDENTS over 10 minutes replayed
# COMPRESS times faster, 300 live-board streams open; in-process, then one and two worker
# hosts (network namespaces: needs root); against an ideal fair queue of the same arrivals.
STUDENTS ?= 40
COMPRESS ?= 20
bench-rush: venv
	$(PY) bench/bench_rush.py --students $(STUDENTS) --compress $(COMPRESS)

REPEATS ?= 5
bench-grader: venv
	$(PY) bench/bench_grader.py --sandbox $(SANDBOX) --repeats $(REPEATS)

# Issue 9's stability target alone: 5 regradings each of two submissions, a memory-heavy
# neighbour on the other core in every other round.
bench-stability: venv
	$(PY) bench/bench_grader.py --sandbox $(SANDBOX) --parts 2 --repeats $(REPEATS)

ROUNDS ?= 2
bench-tricks: venv
	$(PY) bench/bench_tricks.py --sandbox $(SANDBOX) --rounds $(ROUNDS)

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis

# The sandbox image convgrade:<context hash> (+ :latest); a no-op when up to date.
# Falls back to a local Debian base (docker/build-base.sh) when python:3.11-slim cannot be had.
image: venv
	$(PY) -m grader.sandbox.image

# The cluster node image convgrade-node:<hash>: the sandbox image plus convgrade and Dask,
# for scheduler and worker containers (tests/cluster, Kubernetes).
node-image: venv
	$(PY) -m grader.deploy.node_image

# Force-remove leftover sandbox containers (label convgrade=1); also ends running gradings.
clean-containers: venv
	$(PY) -m grader clean-containers

# Process vs docker backend: end-to-end wall time and where the docker time goes.
bench-sandbox: venv
	$(PY) bench/bench_sandbox.py --repeats $(REPEATS)

# The student self-check kit: build/student-kit.zip (grader/kit builds the kit the pack declares,
# or the generic one of every layer's notebook cases for a pack or bundle without one;
# no reference code ships), with submit.py (`convgrade submit` for students, needs httpx).
student-kit: venv
	$(PY) -m grader.kit.build --out build/student-kit.zip $(if $(ASSIGNMENT),--assignment '$(ASSIGNMENT)')

# Similarity report over a synthetic class of 300 (convgrade similarity's scaling target).
bench-similarity: venv
	$(PY) bench/bench_similarity.py --students 300

# Gradescope's autograder: build/gradescope/autograder.zip (setup.sh, run_autograder, the
# configuration with the course secret, offline wheels). See docs/course-staff.md#gradescope.
gradescope: venv
	$(PY) -m grader.deploy.gradescope_zip $(if $(CONFIG),--config '$(CONFIG)')
