"""Load the other corpora of a cross-corpus run and join them with the training corpus.

Called by :func:`serbench.run.resolve.resolve_run` once the training corpus (``--corpus``)
and its label map are known; everything is checked here, before any feature is
extracted: the test corpus and each extra training corpus load and validate, their label
maps are chosen (:mod:`serbench.crosscorpus.classes`), and fewer than two shared classes
stops the run naming every map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from serbench.components import ModelSpec
from serbench.corpora.base import Corpus
from serbench.crosscorpus.classes import pick_label_map, shared_classes
from serbench.crosscorpus.pair import CorpusPart, CrossCorpus, join_manifests, tags
from serbench.errors import ConfigError
from serbench.plugins import Registry
from serbench.run.config import RunConfig

#: the only protocol a cross-corpus run uses
PROTOCOL = "cross-corpus"


def _data_path(raw: Any, flag: str, corpus: str) -> Path | None:
    if raw is None or raw == "":
        return None
    path = Path(raw).expanduser().resolve()
    if not path.exists():
        raise ConfigError(f"{flag} {raw}: no such file or folder. Give the path of the "
                          f"{corpus!r} corpus (its manifest file or its folder).")
    return path


def _extra(raw: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME=PATH`` of ``--corpus-extra``."""
    name, _, path = raw.partition("=")
    if not name.strip():
        raise ConfigError(f"--corpus-extra {raw!r}: give NAME or NAME=PATH, e.g. "
                          "--corpus-extra emodb=~/corpora/emodb")
    return name.strip(), path.strip() or None


def check_cross_config(config: RunConfig, spec: ModelSpec) -> None:
    """Refuse what a cross-corpus run cannot do, before anything is loaded."""
    if config.test_corpus is None:
        if config.extra_corpora or config.test_data or config.test_label_map or \
                config.test_corpus_options:
            raise ConfigError("--corpus-extra, --test-data, --test-label-map and "
                              "--test-corpus-option belong to a cross-corpus run: add "
                              "--test-corpus NAME")
        return
    if config.protocol not in (None, PROTOCOL):
        raise ConfigError(f"--protocol {config.protocol}: a run with --test-corpus uses the "
                          f"{PROTOCOL!r} protocol (train on --corpus, test on --test-corpus); "
                          "drop --protocol")
    if "context" in spec.inputs:
        raise ConfigError(f"model {spec.name!r} reads dialogue context, which cross-corpus "
                          "runs do not provide; choose a model without context input")


def join_corpora(config: RunConfig, corpus: Corpus, label_map: str, label_map_source: str,
                 data: Path | None, registry: Registry, *, check_audio: bool) -> CrossCorpus:
    """The :class:`CrossCorpus` of ``config`` whose training corpus ``corpus`` is loaded.

    Raises:
        ConfigError: a missing path, an unknown label map, fewer than two shared classes.
    """
    from serbench.corpora.api import corpus_fingerprint, experiment_manifest, load_corpus

    assert config.test_corpus is not None
    extras = [_extra(raw) for raw in config.extra_corpora]
    test_data = _data_path(config.test_data, "--test-data", config.test_corpus)
    loaded: list[tuple[str, Corpus, str, str, dict[str, Any], Path | None]] = [
        ("train", corpus, label_map, label_map_source, dict(config.corpus_options), data)]
    for name, raw in extras:
        path = _data_path(raw, f"--corpus-extra {name}=", name)
        other = load_corpus(name, path, {}, registry=registry, check_audio=check_audio)
        chosen, source = pick_label_map(name, other.label_maps, other.default_label_map,
                                        label_map, None, "--corpus-extra")
        loaded.append(("train", other, chosen, source, {}, path))
    options = dict(config.test_corpus_options)
    test = load_corpus(config.test_corpus, test_data, options, registry=registry,
                       check_audio=check_audio)
    chosen, source = pick_label_map(config.test_corpus, test.label_maps,
                                    test.default_label_map, label_map, config.test_label_map,
                                    "--test-label-map")
    loaded.append(("test", test, chosen, source, options, test_data))

    names = tags([c.name for _, c, *_ in loaded])
    classes, dropped = shared_classes(
        [(tag, c.label_maps[m]) for tag, (_, c, m, *_) in zip(names, loaded, strict=True)])
    parts = []
    for tag, (role, c, m, source, opts, path) in zip(names, loaded, strict=True):
        manifest = experiment_manifest(c, m)
        manifest = manifest.filter(manifest["label"].is_in(classes))
        parts.append(CorpusPart(
            role=role, tag=tag, corpus=c, version=registry.corpus(c.name).version,
            label_map=m, label_map_source=source, map_classes=list(c.label_maps[m].classes),
            options=opts, data=path, fingerprint=corpus_fingerprint(c), manifest=manifest))
    warnings = [f"cross-corpus: class(es) {', '.join(left)} of {tag}'s label map "
                f"{part.label_map!r} are not shared and left out"
                for part, (tag, left) in zip(parts, dropped.items(), strict=True) if left]
    warnings += [w for part in parts[1:] for w in part.corpus.warnings]
    return CrossCorpus(train=parts[:-1], test=parts[-1], classes=classes, dropped=dropped,
                       manifest=join_manifests(parts), warnings=warnings)
