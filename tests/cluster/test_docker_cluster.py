"""The cluster as separate hosts: the project's node image (grader/deploy/node_image.py) runs a
Dask scheduler and two `convgrade worker`s as containers on a private Docker network;
this process is the client. One worker is killed mid-batch."""

from __future__ import annotations

import os
import secrets
import time

import pytest

import grader.batch.run as batch_run
from grader.batch.grade_all import grade_all
from grader.grading.result import GradeResult
from tests.cluster.test_cluster import count_writes, make_class

pytestmark = [pytest.mark.cluster, pytest.mark.docker]

TEST_LABEL = "convgrade.cluster-test"


def wait_for_log(container, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in container.logs().decode(errors="replace"):
        container.reload()
        assert container.status in ("created", "running"), container.logs().decode(errors="replace")
        assert time.monotonic() < deadline, f"{container.name}: no {text!r}: {container.logs().decode()}"
        time.sleep(0.3)


def test_scheduler_and_two_workers_as_hosts_on_a_private_network(tmp_path, docker_client, quick_config,
                                                                   monkeypatch):
    from grader.deploy.node_image import ensure_node_image

    image = ensure_node_image(client=docker_client, log=None)
    token = secrets.token_hex(4)
    # internal: the hosts reach each other and this machine, nothing beyond it.
    network = docker_client.networks.create(f"convgrade-test-{token}", driver="bridge", internal=True,
                                            labels={TEST_LABEL: "1"})
    containers = []
    usable = sorted(os.sched_getaffinity(0))
    try:
        def host(name: str, command: list[str]):
            containers.append(docker_client.containers.run(
                image, command, name=f"convgrade-{name}-{token}", hostname=name, network=network.name,
                detach=True, user="1000:1000", mem_limit="2g", labels={TEST_LABEL: "1"}))
            return containers[-1]

        scheduler = host("scheduler", ["python3", "-m", "distributed.cli.dask_scheduler", "--host", "0.0.0.0",
                                       "--port", "8786", "--no-dashboard"])
        address_inside = f"tcp://convgrade-scheduler-{token}:8786"
        workers = [host(f"worker{i}", ["convgrade", "worker", address_inside, "--cores", str(usable[i % len(usable)])])
                   for i in (0, 1)]
        for worker in workers:
            wait_for_log(worker, "joined")
        scheduler.reload()
        ip = scheduler.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]

        expected = make_class(tmp_path / "subs", 2, sleep_s=1.5)
        writes = count_writes(monkeypatch)
        killed = []
        real_collect = batch_run.BatchRun._collect

        def kill_worker0_after_the_first_result(self, executor, student, attempt, outcome):
            if not killed:
                workers[0].kill()  # SIGKILL: the host is gone, with whatever it was grading
                killed.append(student.id)
            return real_collect(self, executor, student, attempt, outcome)

        monkeypatch.setattr(batch_run.BatchRun, "_collect", kill_worker0_after_the_first_result)
        summary = grade_all(tmp_path / "subs", tmp_path / "out", sandbox_name="process", config=quick_config,
                            scheduler=f"tcp://{ip}:8786", progress=True)

        assert killed
        assert summary.counts["graded"] == len(expected) and summary.counts["not_gradable"] == 0
        hosts = []
        for student_id, score in expected.items():
            result = GradeResult.model_validate_json((tmp_path / "out" / "results" / f"{student_id}.json").read_bytes())
            assert (result.gradable, result.submission.id, result.score) == (True, student_id, score), result.failure
            assert writes[f"{student_id}.json"] == 1
            if result.environment is not None:
                hosts.append(result.environment.host)
        assert set(hosts) <= {"worker0", "worker1"} and "worker1" in hosts
        assert hosts.count("worker0") < len(hosts) // 2  # worker0 died after the first result
    finally:
        for container in containers:
            container.remove(force=True)
        network.remove()
