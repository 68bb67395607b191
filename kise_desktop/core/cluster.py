"""Ray: join a cluster (or start a local one) and run many small tasks through it.

Shared by `kise annotate --address` and `python -m training.prepare` (the
training code imports this module, never the other way round). A cluster that
refuses us becomes one `ClusterError` line that says what to do:

- unreachable: nothing listens at the address (checked with a plain TCP
  connect first: Ray itself retries a dead address for minutes);
- authentication: a Ray >= 2.5x cluster started with token authentication
  (`RAY_AUTH_MODE=token`) wants the same mode and its token on our side;
- version mismatch: the cluster runs another Ray or Python version.
"""
from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

RAY_DEFAULT_TEMP = Path("/tmp/ray/ray_current_cluster")   # where `ray start` notes the running cluster
CONNECT_TIMEOUT_S = 3.0


class ClusterError(Exception):
    """Ray could not be started or joined; the message says what to do."""


def _host_port(address: str) -> tuple[str, int] | None:
    text = address.split("://", 1)[-1]
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail in a second, with advice, where Ray would retry an address that nobody serves."""
    if address == "auto":
        if not os.environ.get("RAY_ADDRESS") and not RAY_DEFAULT_TEMP.is_file():
            raise ClusterError("--address auto: no running Ray cluster found on this machine; start one with "
                               "`ray start --head --port=6379` or pass HOST:PORT")
        return
    target = _host_port(address)
    if target is None:
        raise ClusterError(f"--address {address}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection(target, timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ClusterError(f"cannot reach a Ray cluster at {address} ({reason}): start one there with "
                           f"`ray start --head --port={target[1]}`, or check the address") from None


def refusal(address: str, exc: BaseException, native_log: str = "") -> str:
    """One line for an exception raised while joining `address` (`native_log`: what Ray's C++ side printed)."""
    text = f"{type(exc).__name__}: {exc}\n{native_log}"
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    if "invalidauthtoken" in text.lower() or "unauthenticated" in text.lower() or "authentication" in text.lower():
        return (f"the Ray cluster at {address} refused us: it uses token authentication; export "
                f"RAY_AUTH_MODE=token and the cluster's token as RAY_AUTH_TOKEN (`ray get-auth-token` on the "
                f"head prints it), then rerun")
    if "version mismatch" in text.lower():
        return (f"the Ray cluster at {address} runs another Ray or Python version ({first}); install the "
                f"cluster's versions here (`pip install ray==<its version>`) or start a matching cluster")
    return f"cannot join the Ray cluster at {address} ({first})"


def connect(address: str | None, num_cpus: int | None = None, py_modules: Iterable[str | Path] = ()) -> bool:
    """ray.init for a cluster (`address`) or a local Ray; True if this call started it (so must shut it down)."""
    import ray

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    if address:
        check_reachable(address)
        kwargs["address"] = address
        modules = [str(m) for m in py_modules]
        if modules:
            # Cluster workers may not have this checkout: ship the packages they import.
            kwargs["runtime_env"] = {"py_modules": modules}
    else:
        kwargs["num_cpus"] = num_cpus
    with _native_stderr_captured() as captured:
        try:
            ray.init(**kwargs)
        except Exception as exc:  # noqa: BLE001 - Ray raises many types here; all mean "not joined"
            if not address:
                raise ClusterError(f"cannot start a local Ray ({str(exc).strip().splitlines()[0][:200]})") from None
            raise ClusterError(refusal(address, exc, captured())) from None
    return True


@contextlib.contextmanager
def _native_stderr_captured() -> Iterator[Callable[[], str]]:
    """While joining, Ray's C++ client prints a line per retry to fd 2; keep them for the refusal
    message (the reason, e.g. InvalidAuthToken, is often only there) instead of the terminal."""
    with tempfile.TemporaryFile() as log:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield lambda: ""
            return

        def text() -> str:
            log.flush()
            log.seek(0)
            return log.read().decode("utf-8", "replace")[-20000:]

        os.dup2(log.fileno(), 2)
        try:
            yield text
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def shutdown() -> None:
    import ray

    ray.shutdown()


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_windowed(task: Any, items: Iterable[tuple[Any, tuple]], on_done: Callable[[Any, Any], None],
                 on_failure: Callable[[Any, BaseException], None], window: int | None = None,
                 cancel_wait_s: float = 30.0) -> None:
    """Run `task.remote(*args)` for each (key, args) with at most `window` tasks in flight.

    Results come back in completion order through `on_done(key, value)`; a task
    that dies (its worker killed, say) goes to `on_failure(key, error)`. On an
    interruption (Ctrl-C, an error in a callback) the tasks still in flight
    are waited for (up to `cancel_wait_s`, then cancelled) before this returns,
    so none of them works on after the caller has decided what is done.
    """
    import ray

    window = window or max(2, 2 * cluster_cpus())   # bounded: a million items must not be a million refs
    pending: dict[Any, Any] = {}
    queue = iter(items)

    def refill() -> None:
        for key, args in queue:
            pending[task.remote(*args)] = key
            if len(pending) >= window:
                break

    refill()
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                key = pending.pop(ref)
                try:
                    value = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    on_failure(key, exc)
                    continue
                on_done(key, value)
            refill()
    except BaseException:
        # Let the tasks in flight (one item each) finish first, and cancel only those still running
        # after `cancel_wait_s`. Cancelling at once raced the tasks' replies: Ray 2.60's driver then
        # fails a RAY_CHECK ("Tried to complete task that was not pending", the race of
        # ray-project/ray#54798) and exits with status 1, taking the caller with it (seen once in CI).
        if pending:
            _, running = ray.wait(list(pending), num_returns=len(pending), timeout=cancel_wait_s)
            for ref in running:
                ray.cancel(ref, force=True)
        raise
