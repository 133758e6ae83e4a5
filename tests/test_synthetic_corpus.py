"""The embedded ``synthetic`` corpus: shape, labels, determinism, resume, errors, IEMOCAP layout.

Audio is generated at ``size=tiny`` (60 utterances) in the test process (``workers=1``).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import wave
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from serbench.corpora.synthetic import design, generate, loader
from serbench.corpora.synthetic.iemocap_layout import write_iemocap_layout
from serbench.errors import ConfigError, SerbenchError
from serbench.manifest import apply_label_map, fingerprint

SEED = 2  # at size=tiny, seed 2 has all six emotions
OPTIONS = {"size": "tiny", "seed": str(SEED), "workers": "1", "progress": "false"}


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "wav").glob("*/*.wav"))}


@pytest.fixture(scope="module")
def registry():
    """Only the plugins these tests need (other plugins may be half-installed)."""
    import serbench.corpora.releases.plugin as releases
    import serbench.corpora.synthetic.plugin as synthetic
    from serbench.plugins import Registry, make_plugin_manager

    return Registry(make_plugin_manager(load_entry_points=False, extra_plugins=[
        ("synthetic", synthetic), ("releases", releases)]))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synthetic")


@pytest.fixture(scope="module")
def corpus(root: Path):
    return loader.load(root, OPTIONS)


def test_manifest_shape(corpus) -> None:
    df = corpus.manifest
    assert df.height == 60
    assert corpus.default_protocol == "loso" and corpus.default_label_map == "4class"
    assert sorted(df["session"].unique()) == [f"Ses{i:02d}" for i in range(1, 6)]
    assert df["speaker"].n_unique() == 10
    for session, rows in df.group_by("session"):
        genders = dict(rows.select("speaker", "gender").unique().iter_rows())
        assert sorted(genders.values()) == ["female", "male"], session
        assert all(s.startswith(session[0]) for s in genders)
    assert set(df["dialog_kind"]) == {"scripted", "improvised"}
    assert df["utt_id"].n_unique() == df.height
    for dialog, rows in df.sort("turn").group_by("dialog", maintain_order=True):
        turns = rows["turn"].to_list()
        assert turns == list(range(len(turns)))
        genders = rows["gender"].to_list()
        assert all(a != b for a, b in zip(genders, genders[1:], strict=False)), dialog
        for utt, g in zip(rows["utt_id"], genders, strict=True):
            assert re.fullmatch(rf"{dialog[0]}_[FM]\d{{3}}", utt), utt
            assert utt[len(dialog[0]) + 1] == g[0].upper()
    assert set(df["label"]) == set(design.EMOTIONS)


def test_wavs_are_16k_mono_pcm16_with_silence_around(corpus) -> None:
    for path in corpus.manifest["path"].to_list()[:8]:
        with wave.open(path) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
        frames = x[: x.size // 800 * 800].reshape(-1, 800)  # 50 ms frames
        loudest = np.sqrt((frames**2).mean(axis=1)).max()
        for edge in (x[:800], x[-800:]):  # leading/trailing silence: room noise only
            assert np.sqrt((edge**2).mean()) < 0.1 * loudest, path


def test_emotion_moves_the_audio(corpus) -> None:
    """Loudness follows arousal: angry/excited utterances are louder than sad ones
    of the same speaker, on average."""
    def level(path: str) -> float:
        with wave.open(path) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
        return 10 * np.log10(np.mean(x[np.abs(x) > 0.05 * np.abs(x).max()] ** 2))

    df = corpus.manifest.with_columns(
        pl.col("path").map_elements(level, return_dtype=pl.Float64).alias("db"))
    df = df.with_columns((pl.col("db") - pl.col("db").mean().over("speaker")).alias("rel"))
    high = df.filter(pl.col("label").is_in(["angry", "excited"]))["rel"].mean()
    sad = df.filter(pl.col("label") == "sad")["rel"].mean()
    assert high - sad > 3.0


def test_label_maps(corpus) -> None:
    df = corpus.manifest
    counts = Counter(df["label"])
    four = apply_label_map(df, corpus.label_maps["4class"])
    assert four["label"].unique().sort().to_list() == ["angry", "happy", "neutral", "sad"]
    assert four.height == df.height - counts["frustrated"]
    assert (four.filter(pl.col("raw_label") == "excited")["label"] == "happy").all()
    nomerge = apply_label_map(df, corpus.label_maps["4class-nomerge"])
    assert nomerge.height == df.height - counts["frustrated"] - counts["excited"]
    five = apply_label_map(df, corpus.label_maps["5class"])
    assert set(five["label"]) == {"angry", "excited", "frustrated", "neutral", "sad"}
    assert five.height == df.height - counts["happy"]
    assert set(corpus.label_maps) == {"4class", "4class-nomerge", "5class"}


def test_registered_and_validated_through_load_corpus(root: Path, corpus, registry) -> None:
    from serbench.corpora.api import corpus_fingerprint, load_corpus

    spec = registry.corpus("synthetic")
    assert spec.label_maps == ("4class", "4class-nomerge", "5class")
    assert not spec.validate()
    # validates every file's header
    loaded = load_corpus("synthetic", root, OPTIONS, registry=registry)
    assert loaded.manifest.equals(corpus.manifest)
    assert corpus_fingerprint(loaded) == corpus_fingerprint(corpus)
    assert loaded.fingerprint_extra["generator_version"] == generate.GENERATOR_VERSION


def test_same_seed_same_bytes_and_fingerprint(root: Path, corpus, tmp_path: Path) -> None:
    again = loader.load(tmp_path, OPTIONS)
    assert _digests(again.root) == _digests(corpus.root)
    relative = [c.manifest.with_columns(pl.col("path").str.replace(r"^.*/wav/", "wav/"))
                for c in (corpus, again)]
    assert relative[0].equals(relative[1])
    assert (fingerprint(relative[0], corpus.fingerprint_extra)
            == fingerprint(relative[1], again.fingerprint_extra))


def test_other_seed_other_corpus(corpus, tmp_path: Path) -> None:
    other = loader.load(tmp_path, {**OPTIONS, "seed": str(SEED + 1)})
    assert other.root.name == f"tiny-v{generate.GENERATOR_VERSION}-s{SEED + 1}"
    mine, theirs = _digests(corpus.root), _digests(other.root)
    common = set(mine) & set(theirs)
    assert common and all(mine[k] != theirs[k] for k in common)
    assert not other.manifest.drop("path").equals(corpus.manifest.drop("path"))
    rel = [c.manifest.with_columns(pl.col("path").str.replace(r"^.*/wav/", "wav/"))
           for c in (corpus, other)]
    assert fingerprint(rel[0], corpus.fingerprint_extra) != fingerprint(rel[1], other.fingerprint_extra)


def test_resume_generates_only_what_is_missing(corpus, tmp_path: Path) -> None:
    folder = tmp_path / corpus.root.name
    shutil.copytree(corpus.root, folder)
    (folder / generate.MANIFEST).unlink()  # as if interrupted before the end
    dialog = folder / "wav" / corpus.manifest["dialog"][0]
    removed = sorted(dialog.glob("*.wav"))[:3]
    for p in removed:
        p.unlink()
    half = dialog / f".{removed[0].name}.123.tmp"
    half.write_bytes(b"RIFF half-written")
    kept = {p: p.stat().st_mtime_ns for p in folder.glob("wav/*/*.wav")}
    generate.ensure_generated(tmp_path, "tiny", SEED, workers=1, progress=False)
    assert (folder / generate.MANIFEST).is_file()
    assert not half.exists()
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # untouched
    assert _digests(folder) == _digests(corpus.root)  # the missing ones, byte for byte


def test_unwritable_folder_and_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SerbenchError, match="cannot write the synthetic corpus.*SERBENCH_DATA"):
        loader.load(blocker / "sub", OPTIONS)

    class Usage:
        free = 1000

    monkeypatch.setattr(generate.shutil, "disk_usage", lambda _: Usage())
    with pytest.raises(SerbenchError, match="not enough free disk space"):
        loader.load(tmp_path / "data", OPTIONS)
    assert not list((tmp_path / "data").glob("*/manifest.csv"))


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="size 'huge'.*tiny, small, full"):
        loader.parse_options({"size": "huge"})
    with pytest.raises(ConfigError, match="no option.*colour"):
        loader.parse_options({"colour": "red"})
    with pytest.raises(ConfigError, match="seed='x' must be an integer"):
        loader.parse_options({"seed": "x"})
    assert loader.parse_options({}) == ("small", 0, None, True)


def test_sizes_and_dialogue_dynamics() -> None:
    """Plan-level checks (no audio): sizes, label spread, context carries information,
    every class reads neutral-content sentences."""
    _, small = design.plan_corpus("small", 0)
    _, full = design.plan_corpus("full", 0)
    n_small = sum(len(d.utterances) for d in small)
    utts = [u for d in full for u in d.utterances]
    assert 250 <= n_small <= 450 and 4500 <= len(utts) <= 5600
    counts = Counter(u.label for u in utts)
    assert min(counts.values()) > 0.08 * len(utts)
    # P(label == interlocutor's previous label) beats what independent draws would give
    same = [a.label == b.label for d in full for a, b in zip(d.utterances, d.utterances[1:],
                                                              strict=False)]
    chance = sum((n / len(utts)) ** 2 for n in counts.values())
    assert np.mean(same) > chance + 0.15
    from serbench.corpora.synthetic.sentences import NEUTRAL_CONTENT

    improvised = [u for u in utts if u.dialog_kind == "improvised"]
    for label in design.EMOTIONS:
        texts = [u.transcript for u in improvised if u.label == label]
        share = np.mean([t in NEUTRAL_CONTENT for t in texts])
        assert 0.2 < share < 0.6, label


def test_iemocap_layout(corpus, tmp_path: Path) -> None:
    out = write_iemocap_layout(corpus.manifest, tmp_path / "IEMOCAP_full_release")
    df = corpus.manifest
    first = df.sort("dialog", "turn").row(0, named=True)
    session = out / f"Session{int(first['session'][3:])}"
    wav = session / "sentences" / "wav" / first["dialog"] / f"{first['utt_id']}.wav"
    assert wav.read_bytes() == Path(first["path"]).read_bytes()
    lines = (session / "dialog" / "EmoEvaluation" / f"{first['dialog']}.txt").read_text().splitlines()
    assert lines[0] == "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]" and lines[1] == ""
    summary = re.compile(r"^\[(\d+\.\d{4}) - (\d+\.\d{4})\]\t(\S+)\t(ang|hap|exc|neu|sad|fru)\t"
                         r"\[(\d\.\d{4}), (\d\.\d{4}), (\d\.\d{4})\]$")
    m = summary.match(lines[2])
    assert m and m[3] == first["utt_id"] and m[4] == design.IEMOCAP_CODES[first["label"]]
    assert float(m[5]) == first["valence"]
    assert all(re.fullmatch(r"C-E\d:\t[A-Z][a-z]+( state)?;\t\(\)", x) for x in lines[3:6])
    assert all(re.fullmatch(r"A-E\d:\tval \d; act \d; dom  \d;\t\(\)", x) for x in lines[6:8])
    assert lines[8] == "" and summary.match(lines[9])
    text = (session / "dialog" / "transcriptions" / f"{first['dialog']}.txt").read_text()
    t = re.match(r"^(\S+) \[(\d{3}\.\d{4})-(\d{3}\.\d{4})\]: (.*)$", text.splitlines()[0])
    assert t and t[1] == first["utt_id"] and t[4] == first["transcript"]
    assert float(t[2]) == float(m[1])
    n_wavs = len(list(out.glob("Session*/sentences/wav/*/*.wav")))
    assert n_wavs == df.height


def test_iemocap_reader_reads_the_layout(corpus, tmp_path: Path, registry) -> None:
    from serbench.corpora.api import load_corpus

    out = write_iemocap_layout(corpus.manifest, tmp_path / "release", copy=True)
    read = load_corpus("iemocap", out, {"check_counts": "false"}, registry=registry).manifest
    joined = corpus.manifest.join(read, on="utt_id", suffix="_read")
    assert joined.height == corpus.manifest.height == read.height
    for column in ("speaker", "gender", "session", "dialog", "dialog_kind", "turn",
                   "transcript", "valence", "arousal", "dominance"):
        assert (joined[column] == joined[f"{column}_read"]).all(), column
    codes = joined["label"].replace_strict(design.IEMOCAP_CODES)
    assert (codes == joined["label_read"]).all()


def test_cli_prepare(root: Path, corpus, tmp_path: Path, registry,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import serbench.corpora.api
    from serbench.cli import cli

    monkeypatch.setattr(serbench.corpora.api, "get_registry", lambda **_: registry)
    args = ["corpus", "prepare", "synthetic", "--layout", "iemocap", str(tmp_path / "out"),
            "--data", str(root), *sum((["--corpus-option", f"{k}={v}"] for k, v in OPTIONS.items()), [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "wrote 60 utterances" in result.output
    assert len(list((tmp_path / "out").glob("Session*/dialog/EmoEvaluation/*.txt"))) == 10


def test_trimming_finds_the_rendered_silence(corpus) -> None:
    """serbench.features.trimming against the truth: each utterance's planned lead and
    trail of room noise (50-600 ms), less the 100 ms the trimmer keeps either side."""
    from serbench.audio import read_audio
    from serbench.features.trimming import TRIM_KEEP_S, active_span

    _, dialogs = design.plan_corpus("tiny", SEED)
    planned = {u.utt_id: u for d in dialogs for u in d.utterances}
    lead_err, trail_err = [], []
    for utt_id, path in corpus.manifest.select("utt_id", "path").iter_rows():
        signal, rate = read_audio(path)
        start, end = active_span(signal, rate, 6.0)
        plan = planned[utt_id]
        lead_err.append(start / rate - max(plan.lead_s - TRIM_KEEP_S, 0.0))
        trail_err.append((len(signal) - end) / rate - max(plan.trail_s - TRIM_KEEP_S, 0.0))
    # err > 0: more removed than planned (into the kept margin; beyond it, speech);
    # err < 0: silence left over. At most 50 ms of either beyond the margin.
    for err in (np.array(lead_err), np.array(trail_err)):
        assert err.min() > -0.05 and np.median(np.abs(err)) < 0.03 and err.max() < TRIM_KEEP_S + 0.05
