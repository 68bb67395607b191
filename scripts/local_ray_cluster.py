"""A real Ray cluster on this machine, loopback only, for tests and benchmarks.

    python scripts/local_ray_cluster.py --token   # prints the address and env, stops on Enter

`ray start --head --block` in its own process group, every port chosen free
(so it never collides with another cluster on the machine), optional token
authentication (the RAY_AUTH_MODE=token a Ray 2.60 cluster may run with). It
is stopped by its process group id, never with `ray stop` (which stops every
Ray on the machine).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_range(size: int = 40) -> int:
    """The first port of `size` consecutive ports that are free now."""
    for _ in range(200):
        base = secrets.randbelow(20000) + 30000
        ok = True
        for port in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


@dataclass
class LocalCluster:
    address: str
    env: dict[str, str]                 # what a client needs (the token, when there is one)
    process: subprocess.Popen
    temp_dir: Path
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        pgid = self.process.pid
        for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)
        self.process.wait(timeout=10)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def ray_executable() -> str:
    beside = Path(sys.executable).with_name("ray")
    return str(beside) if beside.is_file() else "ray"


def start(num_cpus: int = 2, token: bool = False, timeout_s: float = 60.0) -> LocalCluster:
    temp_dir = Path(tempfile.mkdtemp(prefix="kise-ray-"))
    port = free_port()
    workers = free_range()
    cmd = [ray_executable(), "start", "--head", "--block", "--disable-usage-stats",
           "--node-ip-address=127.0.0.1", f"--port={port}", f"--num-cpus={num_cpus}",
           "--include-dashboard=false", f"--temp-dir={temp_dir}",
           f"--ray-client-server-port={free_port()}", f"--dashboard-port={free_port()}",
           f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
           f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
           f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}",
           f"--min-worker-port={workers}", f"--max-worker-port={workers + 39}"]
    client_env: dict[str, str] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    if token:
        client_env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
        env.update(client_env)
    log = temp_dir / "ray-start.log"
    with log.open("w") as fh:
        process = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    cluster = LocalCluster(f"127.0.0.1:{port}", client_env, process, temp_dir, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")[-2000:]
            cluster.stop()
            raise RuntimeError(f"ray start exited with {process.returncode}: {text}")
        if "Ray runtime started" in log.read_text(errors="replace"):
            return cluster
        time.sleep(0.3)
    cluster.stop()
    raise RuntimeError(f"ray start did not come up in {timeout_s:.0f} s")


if __name__ == "__main__":
    c = start(token="--token" in sys.argv)
    print(f"address {c.address}")
    for k, v in c.env.items():
        print(f"export {k}={v}")
    try:
        input("Enter stops the cluster ")
    finally:
        c.stop()
