"""Speech from libespeak-ng (shipped by the ``espeakng-loader`` wheel), driven via ctypes.

Synthesis goes to memory through espeak-ng's synthesis callback (``AUDIO_OUTPUT_SYNCHRONOUS``);
no sound device and no system install are needed.

Determinism: libespeak-ng keeps state between utterances that no API resets (waveform
phase, the pitch-flutter index, echo buffers), so an utterance's samples depend on what the
library spoke before. Each :class:`Espeak` therefore loads its *own* copy of the library
(a private file, so ``dlopen`` cannot hand back an instance already in use) and unloads it
on :meth:`Espeak.close`; the generator opens one per dialogue and speaks its turns in order.
Voices are serbench's own files (``flutter 0``, no echo/breath/roughness: those are added
afterwards in numpy) and espeak-ng's random generator is reseeded before each utterance.

Voices are looked up by name under ``<data_dir>/voices/`` (espeak-ng lower-cases voice
names and truncates them at 39 characters, so they are short lower-case relative names).
"""

from __future__ import annotations

import _ctypes
import ctypes
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serbench.errors import SerbenchError

# espeak_ng/speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAMS = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)
#: The files of espeak-ng-data that English synthesis reads.
DATA_FILES = ("phondata", "phonindex", "phontab", "intonations", "en_dict")
#: espeak-ng keeps its data path in a fixed buffer (N_PATH_HOME) of 160 bytes on Windows.
MAX_DATA_PATH = 150


@dataclass(frozen=True)
class Prosody:
    """espeak-ng's own prosody settings for one utterance.

    Attributes:
        rate: words per minute (espeak-ng accepts 80..450).
        pitch: base pitch, 0..100 (50 is the voice's normal).
        range: pitch range, 0..100 (0 is monotone, 50 normal).
        volume: amplitude, 0..200 (100 normal).
        wordgap: extra pause between words, in units of 10 ms.
    """

    rate: int
    pitch: int
    range: int
    volume: int = 100
    wordgap: int = 0


def espeak_data_source() -> Path:
    """The ``espeak-ng-data`` folder of the installed ``espeakng-loader``."""
    import espeakng_loader

    return Path(espeakng_loader.get_data_path())


def copy_espeak_data(target: Path) -> None:
    """Copy the espeak-ng data English needs into ``target`` (voices go in ``voices/``)."""
    source = espeak_data_source()
    target.mkdir(parents=True, exist_ok=True)
    for name in DATA_FILES:
        src, dst = source / name, target / name
        if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
            tmp = dst.with_name(f".{name}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
    (target / "voices").mkdir(exist_ok=True)


class Espeak:
    """A private instance of libespeak-ng using the data in ``data_dir``.

    Use as a context manager (or call :meth:`close`): the library copy is unloaded at
    the end, which discards all of its internal state.

    Raises:
        SerbenchError: when the library or its data cannot be loaded.
    """

    def __init__(self, data_dir: Path) -> None:
        import espeakng_loader

        data_dir = Path(data_dir).resolve()
        if len(str(data_dir)) > MAX_DATA_PATH:
            raise SerbenchError(
                f"the espeak-ng data path {data_dir} is longer than {MAX_DATA_PATH} characters, "
                "which libespeak-ng cannot use; set SERBENCH_DATA to a shorter folder"
            )
        source = Path(espeakng_loader.get_library_path())
        self._tmpdir = tempfile.mkdtemp(prefix="serbench-espeak-")
        private = Path(self._tmpdir) / source.name
        try:
            shutil.copyfile(source, private)
            self._lib = ctypes.CDLL(str(private))
        except OSError as exc:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            raise SerbenchError(
                f"cannot load libespeak-ng from {source} ({exc}); reinstall it with "
                "`pip install --force-reinstall espeakng-loader`"
            ) from exc
        if sys.platform != "win32":  # the mapping stays valid; nothing left to clean up
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        lib = self._lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_dir).encode(),
                                     _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            self.close()
            raise SerbenchError(
                f"libespeak-ng failed to initialise with the voice data in {data_dir}; delete "
                "that folder to have it copied again from espeakng-loader"
            )
        self.sample_rate: int = rate
        self._chunks: list[np.ndarray] = []

        def collect(wav, n, _events) -> int:  # called by espeak-ng with each block
            if n > 0 and wav:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0  # 0: continue synthesis

        self._callback = _CALLBACK(collect)  # keep a reference: C holds the pointer
        lib.espeak_SetSynthCallback(self._callback)

    def synthesize(self, text: str, voice: str, prosody: Prosody, *, seed: int = 0) -> np.ndarray:
        """Speak ``text`` with the voice file ``<data_dir>/voices/<voice>``.

        Returns:
            int16 samples, shape ``(N,)``, at :attr:`sample_rate`.
        """
        lib = self._lib
        if voice != voice.lower() or len(voice) > 39:
            raise SerbenchError(f"espeak-ng voice name {voice!r} must be lower case, <= 39 chars")
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SerbenchError(f"espeak-ng cannot load the voice {voice!r}")
        for name in ("rate", "pitch", "range", "volume", "wordgap"):
            lib.espeak_SetParameter(_PARAMS[name], int(getattr(prosody, name)), 0)
        lib.espeak_ng_SetRandSeed(seed & 0x7FFFFFFF)
        self._chunks = []
        data = text.encode("utf-8") + b"\0"
        buf = ctypes.create_string_buffer(data)
        err = lib.espeak_Synth(buf, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if err != 0:
            raise SerbenchError(f"espeak-ng failed (error {err}) to speak {text!r}")
        lib.espeak_Synchronize()
        if not self._chunks:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(self._chunks).astype(np.int16, copy=False)

    def close(self) -> None:
        """Terminate and unload this library instance."""
        lib = getattr(self, "_lib", None)
        if lib is None:
            return
        lib.espeak_Terminate()
        handle = lib._handle
        self._lib = None
        try:
            if sys.platform == "win32":
                _ctypes.FreeLibrary(handle)  # type: ignore[attr-defined]
            else:
                _ctypes.dlclose(handle)
        finally:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    def __enter__(self) -> Espeak:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
