"""openSMILE feature sets (the ``opensmile`` package) as serbench extractors.

Naming (every ``opensmile.FeatureSet`` at three levels)::

    <set>_lld          frame-level low-level descriptors, (T, D)
    <set>_lld_de       LLDs followed by their deltas, (T, 2 D)
    <set>_functionals  utterance-level functionals, (D,)
    <set>_windows      the functionals of sliding windows (``window`` s long, every ``hop``
                       s; 1.0 and 0.25 by default), (T, D): a short sequence of segment
                       descriptors for sequence models on small corpora

where ``<set>`` is the FeatureSet's config name in lower case with its version spelled
out: ``compare_2016``, ``gemapsv01a`` (``FeatureSet.GeMAPS``), ``gemapsv01b``,
``egemapsv01a`` (``FeatureSet.eGeMAPS``), ``egemapsv01b``, ``egemapsv02``, ``emobase``,
``is09``, ``is10``, ``is11``, ``is12``, ``is13``.

``_lld_de`` concatenates the LLDs with deltas computed by :func:`serbench.features.deltas.delta`,
openSMILE's own regression (``deltawin=2``), because the ``opensmile`` package's
``LowLevelDescriptors_Deltas`` level returns the deltas alone, two frames longer than the
LLDs, and does not exist for the (e)GeMAPS sets. One openSMILE pass per file.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

from serbench.errors import ConfigError
from serbench.features.deltas import delta

#: serbench set name -> ``opensmile.FeatureSet`` member name
SETS: dict[str, str] = {
    "compare_2016": "ComParE_2016",
    "gemapsv01a": "GeMAPS",
    "gemapsv01b": "GeMAPSv01b",
    "egemapsv01a": "eGeMAPS",
    "egemapsv01b": "eGeMAPSv01b",
    "egemapsv02": "eGeMAPSv02",
    "emobase": "emobase",
    "is09": "IS09",
    "is10": "IS10",
    "is11": "IS11",
    "is12": "IS12",
    "is13": "IS13",
}
#: serbench level suffix -> (openSMILE level, serbench FeatureSpec level)
LEVELS: dict[str, tuple[str, str]] = {
    "lld": ("lld", "frames"),
    "lld_de": ("lld", "frames"),
    "functionals": ("func", "functionals"),
    "windows": ("func", "frames"),
}
#: default window and hop (seconds) of the ``windows`` level
WINDOW_SECONDS, HOP_SECONDS = 1.0, 0.25
CONFIG_DIR = Path(__file__).parent / "configs"


def opensmile_version() -> str:
    """The installed ``opensmile`` package's version (part of every cache key)."""
    from importlib.metadata import version

    return version("opensmile")


class OpenSmileExtractor:
    """One openSMILE configuration at one level, called on a mono signal.

    Args:
        feature_set: an ``opensmile.FeatureSet`` member name (``"eGeMAPSv02"``) or the
            path of a config that uses openSMILE's external source/sink template.
        level: ``"lld"``, ``"lld_de"``, ``"functionals"`` or ``"windows"``; for a custom config, the
            sink level name(s) it writes are given by ``sink_level``.
        options: values for the config's ``\\cm[...]`` options (e.g. ``frameSize``).
        window, hop: the ``windows`` level's window length and step in seconds.
        sample_rate: the rate the cache resamples audio to; ``None`` keeps each file's
            own rate (openSMILE's standard sets are defined for any rate, and their
            published numbers are computed at the native rate).
    """

    def __init__(
        self,
        feature_set: str,
        level: str = "functionals",
        *,
        options: Mapping[str, Any] | None = None,
        sample_rate: int | None = 16000,
        sink_level: str | None = None,
        window: float = WINDOW_SECONDS,
        hop: float = HOP_SECONDS,
    ):
        if level not in LEVELS:
            raise ConfigError(f"openSMILE level {level!r} is not one of {sorted(LEVELS)}")
        if not (window > 0 and hop > 0):
            raise ConfigError(f"openSMILE windows: window={window!r} and hop={hop!r} must be "
                              "positive numbers of seconds (--feature-param window=1.0)")
        self.window, self.hop = float(window), float(hop)
        self.feature_set = feature_set
        self.sl_level = level
        self.options = dict(options or {})
        self.sample_rate = sample_rate
        self.sink_level = sink_level
        self.level: Literal["frames", "functionals"] = LEVELS[level][1]  # type: ignore[assignment]
        #: audio shorter than this is zero-padded before extraction (see quality.py);
        #: covers the longest analysis window of the shipped configs (60 ms) twice over.
        self.min_seconds = 0.12

    @cached_property
    def smile(self) -> Any:
        import opensmile

        if self.feature_set in opensmile.FeatureSet.__members__:
            fs: Any = opensmile.FeatureSet[self.feature_set]
            lvl: Any = opensmile.FeatureLevel(LEVELS[self.sl_level][0])
        else:
            fs = str(self.feature_set)
            lvl = self.sink_level or LEVELS[self.sl_level][0]
        import warnings

        with warnings.catch_warnings():  # deprecated v01a sets are offered on purpose
            warnings.simplefilter("ignore", UserWarning)
            return opensmile.Smile(fs, lvl, options=self.options or None, loglevel=0)

    @cached_property
    def names(self) -> list[str]:  # type: ignore[override]
        base = list(self.smile.feature_names)
        if self.sl_level == "lld_de":
            return base + [f"{n}_de" for n in base]
        return base

    @property
    def backend(self) -> dict[str, Any]:
        return {"opensmile": opensmile_version()}

    def raw(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """The openSMILE output as a float32 (T, D) array (T = 1 for functionals)."""
        frame = self.smile.process_signal(signal, sample_rate)
        values = np.array(frame.to_numpy(dtype=np.float32), copy=True)
        return values

    def windows(self, n_samples: int, sample_rate: int) -> list[tuple[int, int]]:
        """(start, end) samples of the ``windows`` level: every ``hop`` s from the start,
        plus one window ending at the signal's end when the last one stops more than half
        a hop short of it; a signal shorter than a window is one window."""
        width = int(round(self.window * sample_rate))
        step = max(1, int(round(self.hop * sample_rate)))
        if n_samples <= width:
            return [(0, n_samples)]
        spans = [(start, start + width) for start in range(0, n_samples - width + 1, step)]
        if n_samples - spans[-1][1] > step // 2:
            spans.append((n_samples - width, n_samples))
        return spans

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        if self.sl_level == "windows":  # (T windows, D functionals)
            return np.stack([self.raw(signal[a:b], sample_rate).reshape(-1)
                             for a, b in self.windows(len(signal), sample_rate)])
        values = self.raw(signal, sample_rate)
        if self.level == "functionals":
            return values.reshape(-1)
        if self.sl_level == "lld_de":
            values = np.concatenate([values, delta(values, 2)], axis=1)
        return values


def build(params: Mapping[str, Any]) -> OpenSmileExtractor:
    """Extractor for ``params = {"set": <serbench set name>, "level": <level>,
    "sample_rate": "native" | <Hz>}`` (plus ``window`` and ``hop`` in seconds for the
    ``windows`` level).

    openSMILE's own sets run at each file's native rate by default, as openSMILE and
    nkululeko do (resampling nEMO's 24 kHz audio to 16 kHz moves eGeMAPS+SVM by ~2
    points of UA); ``sample_rate=16000`` resamples first.
    """
    try:
        member = SETS[params["set"]]
    except KeyError:
        raise ConfigError(
            f"openSMILE feature params {dict(params)} need 'set' in {sorted(SETS)}"
        ) from None
    rate = params.get("sample_rate", "native")
    if rate != "native" and not (isinstance(rate, int) and rate > 0):
        raise ConfigError(
            f"openSMILE feature param sample_rate={rate!r}: use 'native' or a rate in Hz"
        )
    window, hop = params.get("window", WINDOW_SECONDS), params.get("hop", HOP_SECONDS)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (window, hop)):
        raise ConfigError(f"openSMILE feature params window={window!r}, hop={hop!r}: give "
                          "seconds as numbers (--feature-param window=1.0 --feature-param hop=0.25)")
    return OpenSmileExtractor(
        member, params.get("level", "functionals"),
        sample_rate=None if rate == "native" else int(rate), window=window, hop=hop,
    )
