"""Write a synthetic corpus in the IEMOCAP release's folders and file formats.

``serbench corpus prepare synthetic --layout iemocap DIR`` calls :func:`write_iemocap_layout`
so that the ``iemocap`` reader can be exercised end to end without the licensed data::

    Session1/sentences/wav/<dialog>/<utt_id>.wav
    Session1/dialog/EmoEvaluation/<dialog>.txt
    Session1/dialog/transcriptions/<dialog>.txt
    Session1/dialog/wav/<dialog>.wav           (with ``dialog_wavs=True``)

EmoEvaluation, as released: a header line, then per utterance a summary line
``[START - END]<TAB>UTT_ID<TAB>EMO<TAB>[V, A, D]``, three categorical evaluator lines
(``C-E1:<TAB>Neutral state;<TAB>()``) and two dimensional ones
(``A-E1:<TAB>val 3; act 2; dom  2;<TAB>()``), and a blank line. Transcriptions:
``UTT_ID [START-END]: text`` with times as ``006.2901``. Times place the utterances one
after another in the dialogue, with pauses between turns.
"""

from __future__ import annotations

import os
import shutil
import wave
import zlib
from pathlib import Path

import numpy as np
import polars as pl

from serbench.corpora.synthetic.design import IEMOCAP_CODES
from serbench.errors import ConfigError, SerbenchError

#: IEMOCAP's category names in the evaluators' lines.
CATEGORY_NAMES = {"ang": "Anger", "hap": "Happiness", "exc": "Excited", "neu": "Neutral state",
                  "sad": "Sadness", "fru": "Frustration"}
#: What a dissenting evaluator says instead (close categories, as real evaluators confuse).
_CONFUSED = {"ang": "fru", "fru": "ang", "hap": "exc", "exc": "hap", "neu": "fru", "sad": "neu"}
HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]"
FIRST_START_S = 1.5


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


def _duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _ratings(mean: float) -> tuple[int, int]:
    """Two integer ratings whose mean is ``mean`` (a multiple of 0.5)."""
    low = int(np.floor(mean))
    return (low, low) if mean == low else (low, low + 1)


def _evaluation_block(row: dict, start: float, end: float) -> list[str]:
    code = IEMOCAP_CODES[row["label"]]
    utt = row["utt_id"]
    lines = [f"[{start:.4f} - {end:.4f}]\t{utt}\t{code}\t"
             f"[{row['valence']:.4f}, {row['arousal']:.4f}, {row['dominance']:.4f}]"]
    dissent = _hash(utt) % 3  # which evaluator (if any) disagrees
    for i in range(1, 4):
        said = _CONFUSED[code] if (i == dissent + 1 and _hash(utt + "d") % 4 == 0) else code
        lines.append(f"C-E{i}:\t{CATEGORY_NAMES[said]};\t()")
    vals, acts, doms = (_ratings(row[k]) for k in ("valence", "arousal", "dominance"))
    for i in range(2):
        lines.append(f"A-E{i + 1}:\tval {vals[i]}; act {acts[i]}; dom  {doms[i]};\t()")
    return lines


def _place(src: Path, dst: Path, copy: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    if not copy:
        try:
            os.link(src, dst)
            return
        except OSError:  # another file system, or links not allowed: copy instead
            pass
    shutil.copyfile(src, dst)


def _write_dialog_wav(out: Path, parts: list[tuple[Path, float]]) -> None:
    """Mono dialogue recording: utterances at their start times, silence between."""
    total = max(start for _, start in parts) + 60.0
    rate = 16000
    samples = np.zeros(int(total * rate), dtype="<i2")
    end = 0
    for path, start in parts:
        with wave.open(str(path), "rb") as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        i = int(round(start * rate))
        samples[i:i + x.size] = x
        end = max(end, i + x.size)
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples[:end].tobytes())


def write_iemocap_layout(manifest: pl.DataFrame, out: Path, *, copy: bool = False,
                         dialog_wavs: bool = False) -> Path:
    """Write ``manifest`` (a synthetic corpus's, absolute paths) as an IEMOCAP release.

    Args:
        manifest: rows with utt_id, path, session ("Ses01"), dialog, turn, transcript,
            label (synthetic raw labels), valence, arousal, dominance.
        out: the release folder to create (``Session1..5/`` go inside).
        copy: copy WAVs instead of hard-linking them (links are tried first).
        dialog_wavs: also write ``dialog/wav/<dialog>.wav`` (mono) recordings.

    Returns:
        ``out``.

    Raises:
        ConfigError: a label with no IEMOCAP code, or a session not named like ``Ses01``.
        SerbenchError: ``out`` cannot be written.
    """
    unknown = sorted(set(manifest["label"].to_list()) - set(IEMOCAP_CODES))
    if unknown:
        raise ConfigError(f"labels {unknown} have no IEMOCAP code; known: {sorted(IEMOCAP_CODES)}")
    try:
        for dialog, rows in _by_dialog(manifest):
            session = rows[0]["session"]
            if not (isinstance(session, str) and session.startswith("Ses") and session[3:].isdigit()):
                raise ConfigError(f"dialogue {dialog}: session {session!r} is not like 'Ses01'")
            base = out / f"Session{int(session[3:])}"
            evaluation, transcripts, parts = [HEADER, ""], [], []
            t = FIRST_START_S
            for row in rows:
                src = Path(row["path"])
                start, end = t, t + _duration(src)
                evaluation += [*_evaluation_block(row, start, end), ""]
                transcripts.append(f"{row['utt_id']} [{start:08.4f}-{end:08.4f}]: {row['transcript']}")
                dst = base / "sentences" / "wav" / dialog / f"{row['utt_id']}.wav"
                _place(src, dst, copy)
                parts.append((src, start))
                t = end + 0.2 + (_hash(row["utt_id"]) % 800) / 1000.0
            _write_text(base / "dialog" / "EmoEvaluation" / f"{dialog}.txt", evaluation)
            _write_text(base / "dialog" / "transcriptions" / f"{dialog}.txt", transcripts)
            if dialog_wavs:
                _write_dialog_wav(base / "dialog" / "wav" / f"{dialog}.wav", parts)
    except OSError as exc:
        raise SerbenchError(
            f"cannot write the IEMOCAP layout into {out} ({exc}); choose a writable folder "
            "with enough free space"
        ) from exc
    return out


def _by_dialog(manifest: pl.DataFrame) -> list[tuple[str, list[dict]]]:
    ordered = manifest.sort("dialog", "turn")
    groups: dict[str, list[dict]] = {}
    for row in ordered.iter_rows(named=True):
        groups.setdefault(row["dialog"], []).append(row)
    return list(groups.items())


def _write_text(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
