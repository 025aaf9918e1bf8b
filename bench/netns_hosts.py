"""Worker hosts as network namespaces of this machine (``ip netns`` + a veth pair each).

Each host has its own network stack: its own loopback and one link to this machine
(10.254.N.2, this side 10.254.N.1/30) and a route to the first host's link address on
this side (where the scheduler listens), no route anywhere else: a worker in it reaches
the scheduler only over its link, as a worker on another machine would over the network. The
namespaces are named after this process, so two runs never share one, and ``remove``
deletes each namespace, which deletes its veth pair with it. Needs root (CAP_NET_ADMIN).
"""

from __future__ import annotations

import os
import subprocess


class NetnsHosts:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.links: list[str] = []

    @staticmethod
    def _ip(*argv: str, netns: str | None = None) -> None:
        prefix = ["ip", "netns", "exec", netns] if netns else []
        subprocess.run([*prefix, "ip", *argv], check=True, capture_output=True, timeout=30)

    def add(self, index: int) -> tuple[str, str, str]:
        """Host ``index`` (1..250): (namespace name, this side's address, the host's address)."""
        name = f"cgrush-{os.getpid()}-{index}"
        here, there = f"cgr{os.getpid() % 100000}h{index}", f"cgr{os.getpid() % 100000}n{index}"
        mine, its = f"10.254.{index}.1", f"10.254.{index}.2"
        self._ip("netns", "add", name)
        self.names.append(name)
        self._ip("link", "add", here, "type", "veth", "peer", "name", there)
        self.links.append(here)
        self._ip("link", "set", there, "netns", name)
        self._ip("addr", "add", f"{mine}/30", "dev", here)
        self._ip("link", "set", here, "up")
        self._ip("addr", "add", f"{its}/30", "dev", there, netns=name)
        self._ip("link", "set", there, "up", netns=name)
        self._ip("link", "set", "lo", "up", netns=name)
        if index != 1:
            self._ip("route", "add", f"{self.scheduler_address()}/32", "via", mine, netns=name)
        return name, mine, its

    @staticmethod
    def scheduler_address() -> str:
        """This machine's side of host 1's link: every host can reach it, and nothing outside."""
        return "10.254.1.1"

    @staticmethod
    def run_in(name: str, argv: list[str]) -> list[str]:
        """``argv`` as run inside host ``name`` (``ip netns exec`` execs it: same pid)."""
        return ["ip", "netns", "exec", name, *argv]

    def remove(self) -> None:
        for name in reversed(self.names):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        for link in self.links:  # gone with its namespace, unless a failure left it on this side
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=30)
        self.names.clear()
        self.links.clear()
