"""What every release loader shares: finding the release on disk, recognising the wrong
one, reading options, and turning rows into a manifest.

A release is read where it lies, in the layout its distributor ships: nothing is
converted or copied (except eNTERFACE's audio, which is extracted from video once and
cached). When the folder is missing, belongs to another corpus, or lacks a part of the
release, the loader stops with a :class:`~serbench.errors.DataNotFoundError` that says
what was found, what was expected and what to do.

This module imports nothing heavy at import time (polars is imported inside functions),
so that registering the corpora stays cheap.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serbench.errors import ConfigError, DataNotFoundError
from serbench.paths import corpus_dir

if TYPE_CHECKING:
    import polars as pl

logger = logging.getLogger(__name__)

#: Marker checks for each release: a function of a folder saying "this is that corpus".
#: Used to tell a user who pointed one corpus's loader at another corpus's folder.
_MARKERS: dict[str, tuple[str, Callable[[Path], bool]]] = {
    "iemocap": (
        "IEMOCAP (Session1..5/)",
        lambda p: any((p / f"Session{i}").is_dir() for i in range(1, 6)),
    ),
    "enterface": (
        "eNTERFACE'05 ('subject N/' folders)",
        lambda p: any(re.fullmatch(r"subject \d+", c.name, re.I) for c in _dirs(p)),
    ),
    "ravdess": (
        "RAVDESS (Actor_NN/ folders)",
        lambda p: any(re.fullmatch(r"Actor_\d\d", c.name) for c in _dirs(p)),
    ),
    "cremad": ("CREMA-D (AudioWAV/)", lambda p: (p / "AudioWAV").is_dir()),
    "msp-podcast": (
        "MSP-Podcast (Audios/ and Labels/)",
        lambda p: (p / "Audios").is_dir() and (p / "Labels").is_dir(),
    ),
    "nemo": ("nEMO (samples/ and data.tsv)", lambda p: (p / "data.tsv").is_file()),
    "emodb": (
        "EmoDB (wav/03a01Fa.wav-style files)",
        lambda p: _has_emodb_names(p / "wav") or _has_emodb_names(p),
    ),
}

_EMODB_NAME = re.compile(r"^\d\d[ab]\d\d[WLEAFTN][a-z]\.wav$")


def _dirs(path: Path) -> list[Path]:
    try:
        return [c for c in path.iterdir() if c.is_dir()]
    except OSError:
        return []


def _has_emodb_names(path: Path) -> bool:
    try:
        return any(_EMODB_NAME.match(c.name) for c in path.iterdir())
    except OSError:
        return False


def detect_releases(path: Path) -> list[str]:
    """Names of the corpora whose release layout ``path`` looks like."""
    if not path.is_dir():
        return []
    return [name for name, (_, check) in _MARKERS.items() if check(path)]


def env_hint(name: str) -> str:
    """The two ways of pointing serbench at a corpus's data, for error messages."""
    return (
        f"Point serbench at it with `--data DIR` (the release folder), or put or link the "
        f"release at SERBENCH_DATA/{name} (now {corpus_dir(name)})."
    )


def find_root(
    name: str,
    data: Path | None,
    obtain: str,
    looks_right: Callable[[Path], bool],
    expected: str,
) -> Path:
    """The release folder of corpus ``name``, or a DataNotFoundError saying what to do.

    Args:
        name: the corpus name.
        data: the user's ``--data`` (``None``: ``SERBENCH_DATA/<name>``).
        obtain: where to get the corpus (printed when it is missing).
        looks_right: whether a folder holds this corpus's release layout.
        expected: the layout, in words, for the message (e.g. ``"Session1..5/"``).

    A folder holding exactly one sub-folder with the release (an unpacked archive, e.g.
    ``SERBENCH_DATA/iemocap/IEMOCAP_full_release``) is accepted in its place.
    """
    root = Path(data).expanduser() if data is not None else corpus_dir(name)
    source = "--data" if data is not None else f"SERBENCH_DATA/{name}"
    if not root.exists():
        raise DataNotFoundError(
            f"corpus {name!r}: no data at {root} (from {source}).\n{obtain}\n{env_hint(name)}"
        )
    if not root.is_dir():
        raise DataNotFoundError(
            f"corpus {name!r}: {root} (from {source}) is a file; the {name} loader reads "
            f"the release folder ({expected}). {env_hint(name)}"
        )
    if looks_right(root):
        return root
    inner = [c for c in _dirs(root) if looks_right(c)]
    if len(inner) == 1:
        return inner[0]
    others = [o for o in detect_releases(root) if o != name]
    if others:
        described = " and ".join(_MARKERS[o][0] for o in others)
        hint = " or ".join(f"`--corpus {o}`" for o in others)
        raise DataNotFoundError(
            f"corpus {name!r}: {root} (from {source}) looks like {described}, not {name}. "
            f"Use {hint} for this folder, or point --data at the {name} release "
            f"(expected {expected})."
        )
    raise DataNotFoundError(
        f"corpus {name!r}: {root} (from {source}) does not hold the {name} release "
        f"(expected {expected}).\n{obtain}\n{env_hint(name)}"
    )


def incomplete(name: str, root: Path, problem: str, fix: str) -> DataNotFoundError:
    """A DataNotFoundError for a release with a part missing."""
    return DataNotFoundError(f"corpus {name!r}: the release at {root} is incomplete: {problem}. {fix}")


def check_options(name: str, options: Mapping[str, str], allowed: Mapping[str, str]) -> None:
    """Raise ConfigError for an option the corpus does not know (``allowed``: key -> help)."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        listing = "; ".join(f"{k}: {v}" for k, v in allowed.items()) or "(none)"
        raise ConfigError(
            f"corpus {name!r} has no option(s) {unknown}. Its options: {listing}."
        )


def option_choice(
    name: str, options: Mapping[str, str], key: str, choices: Sequence[str], default: str
) -> str:
    """The value of option ``key``, one of ``choices``."""
    value = str(options.get(key, default)).strip().lower()
    if value not in choices:
        raise ConfigError(
            f"corpus {name!r}: option {key}={value!r} is not one of {list(choices)}."
        )
    return value


def option_bool(name: str, options: Mapping[str, str], key: str, default: bool) -> bool:
    """The value of a yes/no option (true/false, yes/no, 1/0, on/off)."""
    if key not in options:
        return default
    value = str(options[key]).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"corpus {name!r}: option {key}={options[key]!r} must be true or false.")


def wavs(folder: Path, pattern: str = "*.wav") -> list[Path]:
    """Audio files under ``folder`` matching ``pattern``, sorted; macOS ``._`` resource
    forks (present in several released archives) are skipped."""
    return sorted(p for p in folder.glob(pattern) if not p.name.startswith("._") and p.is_file())


def lfs_pointers(paths: Iterable[Path], limit: int = 20) -> list[Path]:
    """Which of the first ``limit`` files are Git LFS pointers rather than audio (a
    release cloned from GitHub or Hugging Face without ``git lfs pull``)."""
    found = []
    for i, path in enumerate(paths):
        if i >= limit:
            break
        try:
            with open(path, "rb") as fh:
                head = fh.read(40)
        except OSError:
            continue
        if head.startswith(b"version https://git-lfs"):
            found.append(path)
    return found


def check_not_lfs(name: str, root: Path, paths: Sequence[Path]) -> None:
    """Stop if the audio files are Git LFS pointers, with the command that fetches them."""
    pointers = lfs_pointers(paths)
    if pointers:
        raise incomplete(
            name,
            root,
            f"{pointers[0]} (and maybe others) is a Git LFS pointer, not audio",
            f"Run `git lfs pull` inside {root} to download the audio.",
        )


def make_manifest(rows: list[dict[str, Any]], schema: Mapping[str, Any]) -> pl.DataFrame:
    """A manifest from row dicts, with the column types of ``schema`` (column -> polars
    dtype); rows are sorted by ``utt_id`` so the manifest is the same on every machine."""
    import polars as pl

    frame = pl.DataFrame(rows, schema=dict(schema)) if rows else pl.DataFrame(schema=dict(schema))
    return frame.sort("utt_id")


def warn_unlabelled(name: str, paths: Sequence[Path], where: str) -> None:
    """Log (not raise) audio files that have no label: they are left out of the manifest."""
    if paths:
        shown = ", ".join(str(p) for p in paths[:5])
        more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
        logger.warning(
            "corpus %r: %d audio file(s) have no label in %s and are left out: %s%s",
            name, len(paths), where, shown, more,
        )


def build_corpus(
    spec: Any,
    manifest: pl.DataFrame,
    label_maps: Mapping[str, Any],
    root: Path,
    *,
    protocol_options: Mapping[str, Mapping[str, Any]] | None = None,
    fingerprint_extra: Mapping[str, Any] | None = None,
) -> Any:
    """The :class:`serbench.corpora.base.Corpus` of a release (spec: its CorpusSpec)."""
    from serbench.corpora.base import Corpus

    return Corpus(
        name=spec.name,
        manifest=manifest,
        label_maps=dict(label_maps),
        default_label_map=spec.default_label_map,
        default_protocol=spec.default_protocol,
        root=root,
        fingerprint_extra={"loader_version": spec.version, **(fingerprint_extra or {})},
        protocol_options=dict(protocol_options or {}),
    )
