"""One `kise annotate` output folder: plan, resume, record and finish a run without losing data.

The folder holds, besides the annotated images:

- `results.jsonl`: the journal. A header naming the run's settings, then one
  line per finished input (its image record, or why it could not be read),
  appended as each finishes. It is what a rerun resumes from.
- `results.json` / `results.csv`: built from the journal at the end of every
  run, interrupted or not, atomically (a reader sees the old file or the new).
  `"complete": false` in results.json says some inputs are still to do.

Order of writes for one photo: the image goes to a hidden temporary name, then
its journal line, then the rename to its final name. A kill before the journal
line leaves only a temporary file (removed by the next run); after it, the
next run finishes the rename. So a rerun after any interruption skips exactly
the finished inputs and the results hold each input once.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from kise_desktop.core.batch import PhotoOutcome, output_suffix
from kise_desktop.core.results import (
    PHOTO_CSV_HEADER, SCHEMA_VERSION, Journal, atomic_write, document, named_error, photo_rows, tmp_name,
)

JOURNAL_NAME = "results.jsonl"
JSON_NAME = "results.json"
CSV_NAME = "results.csv"
RESULT_NAMES = (JOURNAL_NAME, JSON_NAME, CSV_NAME)
JOURNAL_KIND = "kise-annotate-journal"
TOOL = "kise annotate"


class RunRefused(Exception):
    """The output folder cannot be used as asked; the message says why and what to do."""


def file_digest(path: str | Path | None) -> str:
    if not path:
        return ""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same path, a symbolic link to it or a hard link."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def input_key(path: Path) -> str:
    """How an input is known across runs: its absolute path with links resolved."""
    return str(path.resolve())


def recorded_outputs(folder: Path) -> set[Path]:
    """Annotated images a KISE run wrote into `folder`, from its journal or results.json."""
    outputs: set[Path] = set()
    journal = folder / JOURNAL_NAME
    if journal.is_file():
        with contextlib.suppress(OSError):
            for record in _read_records(journal):
                if record.get("output"):
                    outputs.add(folder / Path(record["output"]).name)
    results = folder / JSON_NAME
    if results.is_file():
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            for image in json.loads(results.read_text(encoding="utf-8")).get("images", []):
                if image.get("output"):
                    outputs.add(folder / Path(image["output"]).name)
    return outputs


def _read_records(path: Path) -> Iterator[dict[str, Any]]:
    for _offset, _length, record in _journal_lines(path):
        yield record


def _journal_lines(path: Path) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(offset, length, record) of each whole, readable line; stops at a torn tail."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise named_error(exc, path) from None
    with fh:
        offset = 0
        for line in fh:
            if not line.endswith(b"\n"):
                return
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return
            if isinstance(record, dict):
                yield offset, len(line), record
            offset += len(line)


@dataclass
class PlannedPhoto:
    index: int
    path: Path
    output: Path


@dataclass
class AnnotateRun:
    """The state of one output folder for one set of settings (see the module doc)."""

    outdir: Path
    identity: dict[str, Any]                 # what must match to resume: model, sidecar, detector, language
    model_name: str
    model_path: str
    detector: dict[str, Any]                 # settings_dict of the detector
    overwrite: bool = False
    resumed: int = 0                         # inputs already done by an earlier run
    errors_now: list[str] = field(default_factory=list)
    _journal: Journal | None = None
    _done: dict[str, Path] = field(default_factory=dict)        # key -> output of each annotated input
    _failed: set[str] = field(default_factory=set)             # keys that could not be read, this run
    _planned: dict[int, PlannedPhoto] = field(default_factory=dict)
    _inputs: list[Path] = field(default_factory=list)

    @property
    def journal_path(self) -> Path:
        return self.outdir / JOURNAL_NAME

    # -- before anything is written ------------------------------------------------

    def check_outputs_against(self, inputs: Iterable[Path]) -> None:
        """Refuse, before writing anything, results files that are (links to) inputs."""
        inputs = list(inputs)
        for name in RESULT_NAMES:
            target = self.outdir / name
            for path in inputs:
                if target.exists() and same_file(target, path):
                    raise RunRefused(f"{target}: is the input {path} (a link to it?); choose another -o folder")
        journal = self.journal_path
        if journal.is_symlink() or (journal.exists() and journal.stat().st_nlink > 1):
            raise RunRefused(f"{journal}: is a link to another file; KISE appends to this file, so it "
                             f"refuses to; remove the link or choose another -o folder")

    def open(self, inputs: list[Path]) -> list[PlannedPhoto]:
        """Resume, replace (--overwrite) or start the folder's run; the inputs still to do, with their outputs."""
        self.check_outputs_against(inputs)
        try:
            self.outdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise named_error(exc, exc.filename or self.outdir) from None
        if not self.outdir.is_dir():
            raise RunRefused(f"{self.outdir}: not a folder")
        header: dict[str, Any] | None = None
        if self.journal_path.exists():
            header = next(_read_records(self.journal_path), None)
            if header is not None and header.get("kind") != JOURNAL_KIND:
                raise RunRefused(f"{self.journal_path}: not a KISE journal; move it away or choose another -o folder")
            if header is not None and header.get("identity") != self.identity and not self.overwrite:
                theirs = header.get("identity", {})
                differ = sorted(k for k in set(theirs) | set(self.identity) if theirs.get(k) != self.identity.get(k))
                raise RunRefused(f"{self.outdir}: holds a run with other settings ({', '.join(differ)}); "
                                 f"rerun with --overwrite to replace it, or choose another -o folder")
        elif any((self.outdir / n).exists() for n in (JSON_NAME, CSV_NAME)) and not self.overwrite:
            raise RunRefused(f"{self.outdir}: holds results of an earlier run that cannot be resumed; "
                             f"rerun with --overwrite to replace them, or choose another -o folder")
        if self.overwrite:
            self._remove_previous_run(inputs)
        self._remove_stray_temporaries()
        self._journal = Journal(self.journal_path, {"kind": JOURNAL_KIND, "schema_version": SCHEMA_VERSION,
                                                    "identity": self.identity, "detector": self.detector})
        self._load_done()
        self._inputs = list(inputs)
        return self._plan(inputs)

    def _remove_previous_run(self, inputs: list[Path]) -> None:
        """--overwrite: delete what an earlier run wrote here (never an input, never a file it did not list)."""
        for output in recorded_outputs(self.outdir):
            if output.is_file() and not any(same_file(output, p) for p in inputs):
                output.unlink()
        for name in RESULT_NAMES:
            with contextlib.suppress(FileNotFoundError):
                (self.outdir / name).unlink()

    def _remove_stray_temporaries(self) -> None:
        """Temporary files of a killed run: finish renames the journal vouches for, delete the rest."""
        if self.journal_path.exists():
            for record in _read_records(self.journal_path):
                if record.get("output"):
                    output = self.outdir / Path(record["output"]).name
                    tmp = tmp_name(output)
                    if tmp.is_file() and not output.exists():
                        os.replace(tmp, output)
        for tmp in self.outdir.glob(".*.kise-tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    def _load_done(self) -> None:
        # Only photos that were annotated count as done: a rerun tries unreadable ones again
        # (a permission fixed, a file replaced); they fail fast when nothing changed.
        for record in _read_records(self.journal_path):
            if "key" in record and record.get("output"):
                self._done[record["key"]] = self.outdir / Path(record["output"]).name

    def _plan(self, inputs: list[Path]) -> list[PlannedPhoto]:
        taken = set(self._done.values())
        todo: list[PlannedPhoto] = []
        for index, path in enumerate(inputs):
            if input_key(path) in self._done:
                self.resumed += 1
                continue
            output = self._free_name(path, taken)
            planned = PlannedPhoto(index, path, output)
            self._planned[index] = planned
            todo.append(planned)
        return todo

    def _free_name(self, path: Path, taken: set[Path]) -> Path:
        """`stem_kise.jpg`, numbered when taken by this run or by any file already there (a user's own)."""
        suffix = output_suffix(path)
        candidate = self.outdir / f"{path.stem}_kise{suffix}"
        n = 2
        while candidate in taken or candidate.exists() or candidate.is_symlink():
            candidate = self.outdir / f"{path.stem}_kise-{n}{suffix}"
            n += 1
        taken.add(candidate)
        return candidate

    # -- during the run -----------------------------------------------------------

    def record(self, outcome: PhotoOutcome) -> None:
        """Write one finished photo: image to a temporary name, journal line, rename (see module doc)."""
        assert self._journal is not None
        planned = self._planned.pop(outcome.index)
        key = input_key(planned.path)
        if outcome.record is None:
            self._journal.append({"file": str(planned.path), "key": key, "error": outcome.error})
            self._failed.add(key)
            return
        output = planned.output
        tmp = tmp_name(output)
        try:
            with open(tmp, "xb") as fh:    # x: never through a link someone left at that name
                fh.write(outcome.image or b"")
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise named_error(exc, output) from None
        self._journal.append({"file": str(planned.path), "key": key, "output": str(output), **outcome.record})
        try:
            os.replace(tmp, output)
        except OSError as exc:
            raise named_error(exc, output) from None
        self._done[key] = output

    @property
    def done(self) -> int:
        """Inputs finished: annotated (by any run) or found unreadable (by this one)."""
        return len(self._done) + len(self._failed)

    # -- at the end (also after an interruption) ----------------------------------

    def finish(self, extra_errors: Iterable[str] = ()) -> dict[str, int]:
        """Close the journal and write results.json / results.csv from it, atomically; counts."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        index: dict[str, tuple[int, int]] = {}
        failures: dict[str, str] = {}
        order: list[str] = []
        for offset, length, record in _journal_lines(self.journal_path):
            key = record.get("key")
            if key is None:
                continue
            if "error" in record:
                failures[key] = str(record["error"])     # the last attempt's words
                continue
            if key not in index:
                order.append(key)
            index[key] = (offset, length)
        wanted = [input_key(p) for p in self._inputs]
        ranked = {k: i for i, k in enumerate(wanted)}
        order.sort(key=lambda k: ranked.get(k, len(ranked)))   # input order; earlier extra inputs after
        errors = [msg for key, msg in failures.items() if key not in index and (key in ranked or not ranked)]
        errors.extend(extra_errors)
        errors.extend(self.errors_now)
        complete = all(k in self._done or k in self._failed for k in wanted)
        faces = 0

        def images() -> Iterator[dict[str, Any]]:
            with self.journal_path.open("rb") as fh:
                for key in order:
                    offset, length = index[key]
                    fh.seek(offset)
                    record = json.loads(fh.read(length))
                    record.pop("key", None)
                    yield record

        def write_json(fh: IO[str]) -> None:
            # Streamed record by record: memory stays flat however many photos there are.
            doc = document(TOOL, self.model_name, self.model_path, [self.detector], errors=errors, complete=complete)
            head = json.dumps(doc, indent=2, ensure_ascii=False)
            before, after = head.split('"images": []', 1)
            fh.write(before + '"images": [')
            nonlocal faces
            faces = 0
            for n, image in enumerate(images()):
                faces += len(image["faces"])
                fh.write(("," if n else "") + "\n    " + json.dumps(image, ensure_ascii=False))
            fh.write("\n  ]" + after if order else "]" + after)

        def write_csv(fh: IO[str]) -> None:
            import csv

            writer = csv.writer(fh)
            writer.writerow(PHOTO_CSV_HEADER)
            for image in images():
                writer.writerows(photo_rows(image))

        atomic_write(self.outdir / JSON_NAME, write_json)
        atomic_write(self.outdir / CSV_NAME, write_csv)
        return {"images": len(order), "errors": len(errors), "faces": faces, "complete": int(complete)}
