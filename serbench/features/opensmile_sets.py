"""openSMILE feature sets (the ``opensmile`` package) as serbench extractors.

Naming (every ``opensmile.FeatureSet`` at three levels)::

    <set>_lld          frame-level low-level descriptors, (T, D)
    <set>_lld_de       LLDs followed by their deltas, (T, 2 D)
    <set>_functionals  utterance-level functionals, (D,)

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
}
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
        level: ``"lld"``, ``"lld_de"`` or ``"functionals"``; for a custom config, the
            sink level name(s) it writes are given by ``sink_level``.
        options: values for the config's ``\\cm[...]`` options (e.g. ``frameSize``).
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
    ):
        if level not in LEVELS:
            raise ConfigError(f"openSMILE level {level!r} is not one of {sorted(LEVELS)}")
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

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        values = self.raw(signal, sample_rate)
        if self.level == "functionals":
            return values.reshape(-1)
        if self.sl_level == "lld_de":
            values = np.concatenate([values, delta(values, 2)], axis=1)
        return values


def build(params: Mapping[str, Any]) -> OpenSmileExtractor:
    """Extractor for ``params = {"set": <serbench set name>, "level": <level>,
    "sample_rate": "native" | <Hz>}``.

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
    return OpenSmileExtractor(
        member, params.get("level", "functionals"),
        sample_rate=None if rate == "native" else int(rate),
    )
