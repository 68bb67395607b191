"""Annotate many photos: one pipeline per process, on every core or on a Ray cluster.

Workers only compute: each loads a photo (from its path, or from bytes the
driver sends to a cluster that may not see this disk), runs the pipeline,
draws the result and returns the encoded image with its JSON record. The
driver (see `annotate_run.py`) does every write, in one place, in an order
that survives a kill.
"""
from __future__ import annotations

import hashlib
import os
import signal
import tempfile
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from kise_desktop.core.results import frame_record


class WorkerFailure(Exception):
    """A worker process could not start, or died (killed, out of memory); the message says which,
    `advice` what to do next. What the workers finished is kept: the driver has written it."""

    def __init__(self, message: str, advice: str) -> None:
        super().__init__(message, advice)
        self.message, self.advice = message, advice

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a worker needs to build its own pipeline (picklable, small)."""
    model_path: str
    sidecar_path: str | None
    detector_settings: Any            # a detector settings dataclass (frozen, picklable)
    lang: str = "ko"
    classifier_threads: int = 1
    opencv_threads: int = 0           # 0 = OpenCV's default (all cores); 1 per process in a pool
    model_bytes: bytes | None = None  # for cluster workers that do not share this disk
    sidecar_bytes: bytes | None = None
    mirror: str | None = None         # on/off/auto (classifier.MIRROR_MODES); None = the sidecar's
    # The kind itself (filled in from the settings): a worker registers it if its process has not
    # (a kind registered at run time exists only in the process that registered it).
    detector_definition: Any = None

    def __post_init__(self) -> None:
        if self.detector_definition is None:
            from kise_desktop.core.detectors import kind_of

            object.__setattr__(self, "detector_definition", kind_of(self.detector_settings))

    @property
    def detector_kind(self) -> str:
        """The detector's name in the results ("haar", "hog", ...)."""
        return self.detector_definition.name


@dataclass(frozen=True)
class PhotoJob:
    index: int                        # position in the input list (results keep this order)
    path: str                         # as the user named it
    data: bytes | None = None         # the file's bytes (cluster runs); None = read `path`


@dataclass
class PhotoOutcome:
    index: int
    record: dict[str, Any] | None     # image record without file/output (see results.frame_record)
    image: bytes | None               # the annotated image, encoded like its input (JPEG or PNG)
    suffix: str = ".png"
    error: str | None = None          # the photo cannot be read: one line naming it
    notes: list[str] = field(default_factory=list)


def output_suffix(path: str | Path) -> str:
    return ".jpg" if Path(path).suffix.lower() in (".jpg", ".jpeg") else ".png"


def build_pipeline(config: PipelineConfig):
    """A pipeline for this process (the model is read from bytes into a private folder on clusters)."""
    import cv2

    from kise_desktop.core.classifier import EmotionClassifier
    from kise_desktop.core.detectors import ensure_registered
    from kise_desktop.core.pipeline import Pipeline

    if config.opencv_threads:
        cv2.setNumThreads(config.opencv_threads)
    model, sidecar = config.model_path, config.sidecar_path
    if config.model_bytes is not None:
        folder = Path(tempfile.mkdtemp(prefix="kise-model-"))
        model = str(folder / Path(config.model_path).name)
        Path(model).write_bytes(config.model_bytes)
        if config.sidecar_bytes is not None:
            sidecar = str(folder / "sidecar.json")
            Path(sidecar).write_bytes(config.sidecar_bytes)
    classifier = EmotionClassifier(model, sidecar, num_threads=config.classifier_threads, mirror=config.mirror)
    ensure_registered(config.detector_definition)
    return Pipeline(classifier, config.detector_settings, smoothing=0.0)


def process_photo(pipeline: Any, job: PhotoJob, lang: str, kind: str = "") -> PhotoOutcome:
    """Load, analyse, draw and encode one photo; a photo that cannot be read is an outcome, not an exception."""
    import cv2

    from kise_desktop.core.render import draw_results
    from kise_desktop.core.sources import SourceError, load_image_info

    try:
        loaded = load_image_info(job.path, data=job.data)
    except SourceError as exc:
        return PhotoOutcome(job.index, None, None, error=str(exc))
    pipeline.reset_tracks()  # photos are unrelated: no smoothing or ids across them
    try:
        result = pipeline.analyze(loaded.image_bgr)
        annotated = draw_results(loaded.image_bgr, result, lang=lang)
    except Exception as exc:  # noqa: BLE001  one photo the detectors choke on must not end the batch
        height, width = loaded.image_bgr.shape[:2]
        return PhotoOutcome(job.index, None, None,
                            error=f"{job.path}: could not be analysed ({width}x{height}): {type(exc).__name__}: {exc}")
    suffix = output_suffix(job.path)
    ok, encoded = cv2.imencode(suffix, annotated)
    if not ok:
        return PhotoOutcome(job.index, None, None, error=f"{job.path}: cannot encode the annotated image")
    record = frame_record(result, detector=result.detector or kind, scale=loaded.scale)
    record.pop("time_s")                  # photos have no time
    for number, face in enumerate(record["faces"], start=1):
        # The tracker's ids run on across photos; numbering per photo keeps a photo's results
        # the same whichever process, and after how many other photos, it ran.
        face["track_id"] = number
    record["original_size"] = list(loaded.original_size)
    record["scale"] = round(loaded.scale, 6)
    return PhotoOutcome(job.index, record, encoded.tobytes(), suffix, notes=list(loaded.notes))


# -- runners: each calls on_done(outcome) in this process, in completion order ------------------

def run_here(jobs: Iterable[PhotoJob], config: PipelineConfig, on_done: Callable[[PhotoOutcome], None],
             pipeline: Any = None) -> None:
    pipeline = pipeline or build_pipeline(config)
    for job in jobs:
        on_done(process_photo(pipeline, job, config.lang, config.detector_kind))


_worker_pipeline: Any = None
_worker_config: PipelineConfig | None = None
_worker_start_error: str = ""


def _init_worker(config: PipelineConfig) -> None:
    global _worker_pipeline, _worker_config, _worker_start_error
    # Ctrl-C goes to the whole process group: the driver handles it, workers just stop when told.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_config = config
    try:
        _worker_pipeline = build_pipeline(config)
    except Exception as exc:    # noqa: BLE001  (kept for the first job to report: a raising initializer
        # prints a traceback from the child and breaks the pool, with the reason lost on the way)
        _worker_start_error = f"{type(exc).__name__}: {exc}"


def _work(job: PhotoJob) -> PhotoOutcome:
    assert _worker_config is not None
    if _worker_start_error:
        raise WorkerFailure(f"a worker process could not build its pipeline ({_worker_start_error})",
                            "--jobs 1 runs in this process instead")
    return process_photo(_worker_pipeline, job, _worker_config.lang, _worker_config.detector_kind)


def run_pool(jobs: Iterable[PhotoJob], config: PipelineConfig, workers: int,
             on_done: Callable[[PhotoOutcome], None]) -> None:
    """`workers` processes (spawned: no OpenCV or TFLite state forked mid-use), a bounded window of work."""
    import multiprocessing

    executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(config,))
    window = 4 * workers                  # flat memory whatever the folder size
    pending: set[Future] = set()
    queue: Iterator[PhotoJob] = iter(jobs)
    clean = False
    try:
        for job in queue:
            pending.add(executor.submit(_work, job))
            if len(pending) >= window:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    raise WorkerFailure("a worker process died (killed, or out of memory?)",
                                        "rerun the same command to finish") from None
                on_done(outcome)
            for job in queue:
                pending.add(executor.submit(_work, job))
                if len(pending) >= window:
                    break
        clean = True
    finally:
        # Interrupted (Ctrl-C, a full disk): the queued photos are cancelled and each worker ends
        # after the photo it has (photos are size-capped: about a second). Terminating the workers
        # instead could cut one off mid-way through sending a result, and the pool's reader then
        # waited for the rest forever: `kise annotate` hung on exit in about 1 run in 40.
        executor.shutdown(wait=True, cancel_futures=not clean)


# -- Ray: a module-level cache gives each worker process one pipeline per config -------------

_ray_pipelines: dict[str, Any] = {}


def config_key(config: PipelineConfig) -> str:
    digest = hashlib.sha256(repr((config.model_path, config.sidecar_path, config.detector_settings, config.lang,
                                  config.classifier_threads, config.mirror)).encode())
    if config.model_bytes:
        digest.update(config.model_bytes)
    return digest.hexdigest()


def ray_process(config: PipelineConfig, key: str, job: PhotoJob) -> PhotoOutcome:
    pipeline = _ray_pipelines.get(key)
    if pipeline is None:
        _ray_pipelines.clear()            # one pipeline per worker process
        pipeline = _ray_pipelines[key] = build_pipeline(config)
    return process_photo(pipeline, job, config.lang, config.detector_kind)


def run_ray(jobs: Iterable[PhotoJob], config: PipelineConfig, on_done: Callable[[PhotoOutcome], None],
            address: str, py_modules: Iterable[str | Path] = ()) -> None:
    """On a Ray cluster: the driver sends each photo's bytes and writes what comes back."""
    import ray

    from kise_desktop.core import cluster

    started = cluster.connect(address, py_modules=py_modules)
    try:
        config_ref = ray.put(config)
        key = config_key(config)
        task = ray.remote(num_cpus=1, max_retries=1)(ray_process)

        def with_bytes() -> Iterator[tuple[int, tuple]]:
            for job in jobs:
                try:
                    data = Path(job.path).read_bytes()
                except OSError:
                    data = None           # the worker reports it, with the same words as a local run
                yield job.index, (config_ref, key, PhotoJob(job.index, job.path, data))

        def failed(index: int, exc: BaseException) -> None:
            raise cluster.ClusterError(f"a Ray worker died on input #{index + 1} "
                                       f"({str(exc).strip().splitlines()[0][:160]}); rerun to resume")

        cluster.run_windowed(task, with_bytes(), on_done=lambda _i, outcome: on_done(outcome), on_failure=failed)
    finally:
        if started:
            cluster.shutdown()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                 # not Linux
        return max(1, os.cpu_count() or 1)
