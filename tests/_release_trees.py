"""Tiny copies of each corpus release, in the release's exact layout and file formats,
with short generated audio. Used by the release-loader tests; each builder returns the
release folder and writes only under the folder it is given.
"""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf


def wav(path: Path, seconds: float = 0.4, rate: int = 16000, pitch: float = 180.0) -> Path:
    """A short voiced-like tone with noise (deterministic per file name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
    t = np.arange(int(seconds * rate)) / rate
    f0 = pitch * (1 + 0.2 * rng.random())
    signal = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.02 * rng.standard_normal(t.size)
    sf.write(path, signal.astype(np.float32), rate, subtype="PCM_16")
    return path


# --- IEMOCAP ---------------------------------------------------------------------------

_EVAL_HEADER = "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
_EVALUATORS = (
    "C-E2:\tNeutral;\t()\nC-E3:\tFrustration;\t()\nC-F1:\tNeutral;\t(curious)\n"
    "A-E3:\tval 3; act 2; dom  2;\t()\nA-F1:\tval 3; act 2; dom  1;\t()\n\n"
)


def iemocap_dialog(root: Path, session: int, dialog: str, utts: list[tuple[str, str, float]],
                   *, unlabelled: tuple[str, ...] = (), no_wav: tuple[str, ...] = ()) -> None:
    """One dialogue: ``utts`` are (utterance suffix like 'F000', label, start time).

    Summary lines are written in the given order (not sorted by time), each followed by
    evaluator lines; ``unlabelled`` suffixes get a wav but no label line; ``no_wav``
    suffixes get a label line but no wav.
    """
    ses = root / f"Session{session}"
    evaluation, texts = [], []
    for suffix, label, start in utts:
        utt = f"{dialog}_{suffix}"
        v, a, d = 2.5, 3.0 + (label == "ang"), 2.0
        evaluation.append(
            f"[{start:.4f} - {start + 1.5:.4f}]\t{utt}\t{label}\t[{v:.4f}, {a:.4f}, {d:.4f}]\n"
            + _EVALUATORS
        )
        texts.append(f"{utt} [{start:08.4f}-{start + 1.5:08.4f}]: words of {suffix}.\n")
        if suffix not in no_wav:
            wav(ses / "sentences" / "wav" / dialog / f"{utt}.wav",
                pitch=150.0 if suffix[0] == "M" else 220.0)
    for suffix in unlabelled:
        wav(ses / "sentences" / "wav" / dialog / f"{dialog}_{suffix}.wav")
    texts.append("MXX0 [001.0000-002.0000]: [LAUGHTER]\n")
    (ses / "dialog" / "EmoEvaluation").mkdir(parents=True, exist_ok=True)
    (ses / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text(
        _EVAL_HEADER + "".join(evaluation)
    )
    # the real release keeps per-evaluator folders beside the summary files
    (ses / "dialog" / "EmoEvaluation" / "Categorical").mkdir(exist_ok=True)
    (ses / "dialog" / "transcriptions").mkdir(parents=True, exist_ok=True)
    (ses / "dialog" / "transcriptions" / f"{dialog}.txt").write_text("".join(texts))


def iemocap_tree(base: Path, sessions: int = 2) -> Path:
    """``IEMOCAP_full_release`` with ``sessions`` sessions and every label quirk."""
    root = base / "IEMOCAP_full_release"
    four = ["ang", "hap", "exc", "neu", "sad"]
    for s in range(1, sessions + 1):
        sp = "F" if s % 2 else "M"
        utts = [
            (f"{g}{i:03d}", four[(i + (g == 'M') + s) % 5], 10.0 * i + (5.0 if g == "M" else 0.0))
            for i in range(3) for g in "FM"
        ]
        utts += [("F003", "xxx", 40.0), ("M003", "oth", 45.0), ("F004", "fru", 50.0)]
        utts.reverse()  # label files are not in time order: turn must come from the times
        iemocap_dialog(root, s, f"Ses0{s}{sp}_impro0{s}", utts, unlabelled=("M005",))
        iemocap_dialog(root, s, f"Ses0{s}{sp}_script01_1",
                       [("F000", "neu", 3.0), ("M000", "ang", 6.0), ("F001", "sad", 9.0),
                        ("M001", "hap", 12.0), ("F002", "exc", 15.0), ("M002", "neu", 18.0)])
    return root


# --- eNTERFACE'05 ----------------------------------------------------------------------

def avi_from_wav(source: Path, target: Path) -> Path:
    """An .avi (tiny black video + PCM audio) made with imageio-ffmpeg's ffmpeg."""
    import imageio_ffmpeg

    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "color=c=black:s=16x16:r=5:d=0.4", "-i", str(source),
         "-shortest", "-c:v", "mjpeg", "-c:a", "pcm_s16le", str(target)],
        check=True, capture_output=True,
    )
    return target


def enterface_tree(base: Path, *, subjects: int = 2, with_wav: bool = True,
                   avi: bool = False) -> Path:
    """``subject N/<emotion>/sentence M/sN_xx_M.avi`` folders.

    ``with_wav``: a sibling .wav beside each video (the fast path). ``avi``: a real .avi
    with an audio track (extraction path); otherwise the .avi is a placeholder.
    """
    root = base / "enterface database"
    codes = {"anger": "an", "disgust": "di", "fear": "fe", "happiness": "ha",
             "sadness": "sa", "surprise": "su"}
    for subject in range(1, subjects + 1):
        for emotion, code in codes.items():
            for sentence in (1, 2):
                folder = root / f"subject {subject}" / emotion / f"sentence {sentence}"
                # subject 2's files carry another subject's number, as in the release
                stem = f"s{subject if subject != 2 else 12}_{code}_{sentence}"
                video = folder / f"{stem}.avi"
                tmp = base / "_src" / f"{subject}_{stem}.wav"
                wav(tmp, pitch=120.0 + 30 * list(codes).index(emotion))
                if avi:
                    avi_from_wav(tmp, video)
                else:
                    folder.mkdir(parents=True, exist_ok=True)
                    video.write_bytes(b"RIFF....AVI placeholder")
                if with_wav:
                    (folder / f"{stem}.wav").write_bytes(tmp.read_bytes())
    return root


# --- EmoDB, RAVDESS, CREMA-D, nEMO, MSP-Podcast ------------------------------------------

def emodb_tree(base: Path, *, flat: bool = False) -> Path:
    root = base / "emodb"
    folder = root if flat else root / "wav"
    for speaker in ("03", "08", "10", "16"):
        for text, emotion in zip(("a01", "a02", "b01", "b09", "a04", "a05", "b10"),
                                 "WLEAFTN", strict=True):
            wav(folder / f"{speaker}{text}{emotion}a.wav")
    return root


def ravdess_tree(base: Path, actors: int = 4) -> Path:
    root = base / "ravdess"
    for actor in range(1, actors + 1):
        for emotion in range(1, 9):
            intensity = "01" if emotion == 1 else "02"
            wav(root / f"Actor_{actor:02d}" / f"03-01-{emotion:02d}-{intensity}-01-01-{actor:02d}.wav")
            if emotion <= 6:  # song: no disgust or surprise
                wav(root / f"Actor_{actor:02d}" / f"03-02-{emotion:02d}-01-02-01-{actor:02d}.wav")
    return root


def cremad_tree(base: Path, actors: int = 5) -> Path:
    root = base / "CREMA-D"
    rows = ["ActorID,Age,Sex,Race,Ethnicity"]
    for i, actor in enumerate(range(1001, 1001 + actors)):
        rows.append(f"{actor},30,{'Male' if i % 2 else 'Female'},Caucasian,Not Hispanic")
        for emotion in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"):
            wav(root / "AudioWAV" / f"{actor}_DFA_{emotion}_XX.wav")
            level = "LO" if emotion in ("ANG", "SAD") else "HI"
            wav(root / "AudioWAV" / f"{actor}_IEO_{emotion}_{level}.wav")
    (root / "VideoDemographics.csv").write_text("\n".join(rows) + "\n")
    # a clip documented as broken upstream: zero-length, as some copies have it
    (root / "AudioWAV" / "1076_MTI_SAD_XX.wav").write_bytes(b"")
    return root


NEMO_EMOTIONS = ("anger", "fear", "happiness", "neutral", "sadness", "surprised")


def nemo_tree(base: Path, speakers: tuple[str, ...] = ("AB0", "CD0", "EF0")) -> Path:
    root = base / "nEMO"
    lines = ["file_id\temotion\traw_text\tnormalized_text\tspeaker_id\tgender\tage"]
    for k, speaker in enumerate(speakers):
        for emotion in NEMO_EMOTIONS:
            for n in (0, 2):
                name = f"{speaker}_{emotion}_{n}.wav"
                wav(root / "samples" / name, rate=24000, pitch=140.0 + 40 * k)
                gender = "male" if k % 2 else "female"
                # the release pads speaker ids with spaces
                lines.append(f"{name}\t{emotion}\tZdanie {n}.\tzdanie {n}\t        {speaker}\t{gender}\t2{k}")
    (root / "data.tsv").write_text("\n".join(lines) + "\n")
    return root


def msp_podcast_tree(base: Path) -> Path:
    root = base / "MSP-PODCAST-Publish-1.11"
    header = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"
    rows = [header]
    sets = [("Train", "1"), ("Train", "2"), ("Development", "3"), ("Test1", "4"), ("Test2", "Unknown")]
    for podcast, (split, speaker) in enumerate(sets, start=1):
        for seg, code in enumerate("NHSAXO"):
            name = f"MSP-PODCAST_{podcast:04d}_{seg:04d}.wav"
            wav(root / "Audios" / name)
            gender = "Unknown" if speaker == "Unknown" else ("Female" if podcast % 2 else "Male")
            rows.append(f"{name},{code},4.2,3.6,4.0,{speaker},{gender},{split}")
    rows.append("MSP-PODCAST_0009_0000.wav,,,,,Unknown,Unknown,Test3")
    (root / "Labels").mkdir(parents=True, exist_ok=True)
    (root / "Labels" / "labels_consensus.csv").write_text("\n".join(rows) + "\n")
    return root
