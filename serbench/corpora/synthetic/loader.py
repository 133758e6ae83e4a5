"""The ``synthetic`` corpus: loader, options and label maps.

Options (``--corpus-option KEY=VALUE``):

- ``size``: ``small`` (default; 336 utterances, about 5 s of CPU to generate), ``full``
  (5,166 utterances, 4.3 hours of audio, 480 MB, like IEMOCAP's 5,531; about a minute of
  CPU, spread over 2 worker processes) or ``tiny`` (60 utterances, for tests).
- ``seed``: integer, default 0. Same seed and generator version: the same bytes.
- ``workers``: processes used to generate (default: up to 2).

``--data DIR`` generates into (or reads from) ``DIR`` instead of ``SERBENCH_DATA/synthetic``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from serbench.components import LabelMap
from serbench.corpora.base import Corpus
from serbench.corpora.synthetic.design import EMOTIONS, SIZES
from serbench.corpora.synthetic.generate import ensure_generated, read_info, read_manifest
from serbench.errors import ConfigError
from serbench.paths import corpus_dir

NAME = "synthetic"
OPTIONS = ("size", "seed", "workers", "progress")
DEFAULT_SIZE = "small"

_CLASSES4 = ("angry", "happy", "neutral", "sad")
LABEL_MAPS: dict[str, LabelMap] = {
    "4class": LabelMap(
        name="4class",
        mapping={"angry": "angry", "happy": "happy", "excited": "happy", "neutral": "neutral",
                 "sad": "sad"},
        classes=_CLASSES4,
        description="angry, happy (+ excited), neutral, sad; frustrated dropped (as IEMOCAP)",
    ),
    "4class-nomerge": LabelMap(
        name="4class-nomerge",
        mapping={c: c for c in _CLASSES4},
        classes=_CLASSES4,
        description="angry, happy, neutral, sad; excited and frustrated dropped",
    ),
    "5class": LabelMap(
        name="5class",
        mapping={c: c for c in ("angry", "excited", "frustrated", "neutral", "sad")},
        classes=("angry", "excited", "frustrated", "neutral", "sad"),
        description="angry, excited, frustrated, neutral, sad; happy dropped",
    ),
}
assert all(set(m.mapping) <= set(EMOTIONS) for m in LABEL_MAPS.values())


def parse_options(options: Mapping[str, str]) -> tuple[str, int, int | None, bool]:
    """``(size, seed, workers, progress)`` from ``--corpus-option`` pairs.

    Raises:
        ConfigError: an unknown option or a bad value, naming the valid ones.
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(
            f"corpus {NAME!r} has no option(s) {unknown}; known: {', '.join(OPTIONS)} "
            "(e.g. --corpus-option size=full)"
        )
    size = str(options.get("size", DEFAULT_SIZE)).strip().lower()
    if size not in SIZES:
        raise ConfigError(
            f"corpus {NAME!r}: size {size!r} is not one of {', '.join(SIZES)} "
            "(e.g. --corpus-option size=full)"
        )
    values: dict[str, int | None] = {}
    for key, default in (("seed", 0), ("workers", None)):
        raw = options.get(key)
        if raw is None or str(raw).strip() == "":
            values[key] = default
            continue
        try:
            values[key] = int(str(raw).strip())
        except ValueError:
            raise ConfigError(f"corpus {NAME!r}: {key}={raw!r} must be an integer") from None
    seed, workers = values["seed"], values["workers"]
    assert seed is not None
    if seed < 0:
        raise ConfigError(f"corpus {NAME!r}: seed={seed} must be >= 0")
    if workers is not None and workers < 1:
        raise ConfigError(f"corpus {NAME!r}: workers={workers} must be >= 1")
    progress = str(options.get("progress", "true")).strip().lower() not in ("0", "false", "no")
    return size, seed, workers, progress


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Generate the corpus on first use (into ``data`` or ``SERBENCH_DATA/synthetic``) and
    return it; later calls read what is on disk."""
    size, seed, workers, progress = parse_options(options)
    root = Path(data) if data is not None else corpus_dir(NAME)
    folder = ensure_generated(root, size, seed, workers=workers, progress=progress)
    return Corpus(
        name=NAME,
        manifest=read_manifest(folder),
        label_maps=dict(LABEL_MAPS),
        default_label_map="4class",
        default_protocol="loso",
        root=folder,
        fingerprint_extra=read_info(folder),
    )
