"""The run's feature extraction, applied to recordings outside its corpus.

The extractor is rebuilt from the run's ``config.json`` (feature name, version and
parameters; silence trimming included) and run through the same read/trim/check/repair
path as the feature cache (:func:`serbench.features.cache.extract_rows`), so a file gets
exactly the features it would get as part of a corpus. Nothing is cached: the files are
new and usually few.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError
from serbench.features.table import FeatureTable

#: audio file name endings collected from a folder argument
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".opus")


@dataclass(frozen=True)
class FeatureRecipe:
    """What a run extracted: enough to extract the same features again.

    Attributes:
        name, version: the registered feature and the version the run used.
        params: every parameter, the feature's defaults merged with the run's.
        normalisation: the run's normalisation mode.
    """

    name: str
    version: int
    params: dict[str, Any]
    normalisation: str


@dataclass
class Extracted:
    """Features of the files that could be read, and why the others could not.

    Attributes:
        table: one entry per readable file, keyed by the file's path as given;
            (T, D) frames or (D,) functionals, not normalised.
        failed: path -> reason, for every file left out.
        sample_rate: the rate the extractor read the audio at.
    """

    table: FeatureTable | None
    failed: dict[str, str] = field(default_factory=dict)
    sample_rate: int = 0


def recipe_of(config: Mapping[str, Any], registry: Any) -> FeatureRecipe:
    """The :class:`FeatureRecipe` of a run's ``config.json``.

    Raises:
        ConfigError: the feature is not installed, or installed in another version.
    """
    feature = config["identity"]["feature"]
    spec = registry.feature(feature["name"])
    if spec.version != feature["version"]:
        raise ConfigError(
            f"the run used feature {spec.name!r} version {feature['version']}, but version "
            f"{spec.version} is installed; its features would differ from training. Install "
            "the serbench version the run was made with."
        )
    if spec.level == "tokens":
        raise ConfigError(f"feature {spec.name!r} is built from transcripts, not audio; "
                          "predicting from audio files needs an audio feature")
    params = {**dict(spec.default_params), **dict(feature["params"] or {})}
    return FeatureRecipe(spec.name, spec.version, params, feature["normalisation"])


def audio_files(inputs: Sequence[str | Path]) -> list[Path]:
    """Files named in ``inputs``, a folder standing for its audio files (sorted, recursive).

    A path that does not exist is kept: extraction reports it as unreadable, by name.

    Raises:
        ConfigError: no input, or a folder holding no audio file.
    """
    if not inputs:
        raise ConfigError("give at least one audio file or folder to predict")
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*")
                           if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise ConfigError(f"folder {item} holds no audio file "
                                  f"({', '.join(AUDIO_SUFFIXES)})")
            files.extend(found)
        else:
            files.append(item)
    return files


def build_extractor(recipe: FeatureRecipe, registry: Any) -> tuple[Any, float | None]:
    """(extractor, silence-trim threshold in dB or None), as the feature cache builds them."""
    from serbench.features.trimming import extractor_params, trim_threshold
    from serbench.lazy import resolve

    spec = registry.feature(recipe.name)
    trim_db = trim_threshold(recipe.params, spec.name)
    return resolve(spec.extractor)(extractor_params(recipe.params)), trim_db


def extract_files(files: Sequence[Path], recipe: FeatureRecipe, registry: Any) -> Extracted:
    """Extract the run's features from ``files``; unreadable files are reported, not raised."""
    from serbench.features.cache import extract_rows

    extractor, trim_db = build_extractor(recipe, registry)
    keys = [str(f) for f in files]
    ids, arrays, report = extract_rows(extractor, [(k, k, None, None) for k in keys], trim_db)
    done = set(ids)
    failed: dict[str, str] = {}
    for entry in report:  # quality notes on kept files are not failures
        if entry["utt_id"] not in done and entry["action"] == "excluded":
            failed.setdefault(entry["utt_id"], entry["issue"])
    for key in keys:
        if key not in done and key not in failed:
            failed[key] = "no features could be extracted"
    if not ids:
        return Extracted(None, failed, extractor.sample_rate)
    # extract_rows gives (T, D) or (1, D); functionals tables serve (D,)
    values = {u: a[0] if extractor.level == "functionals" else a for u, a in zip(ids, arrays,
                                                                                 strict=True)}
    table = FeatureTable.from_arrays(values, list(extractor.names), extractor.level,
                                     {"name": recipe.name, "version": recipe.version})
    return Extracted(table, failed, extractor.sample_rate)
