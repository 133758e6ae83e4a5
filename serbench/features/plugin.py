"""serbench's built-in features, registered through the `serbench` entry-point group.

Registration imports neither openSMILE nor torch: extractors are lazy references.

Names (see ``serbench.features.opensmile_sets`` for the systematic scheme):

- ``<set>_lld``, ``<set>_lld_de``, ``<set>_functionals``, ``<set>_windows`` for every
  ``opensmile.FeatureSet``;
- the papers' names: ``egemaps`` (= ``egemapsv02_functionals``, 88 dims), ``is10``
  (= ``is10_functionals``, 1582), ``compare_lld`` (= ``compare_2016_lld``, 65),
  ``emobase_lld`` (26), ``iaan45`` (45), ``lld17`` (17; 25 ms / 5 ms, RLC),
  ``lld17_drn`` (17; 40 ms / 10 ms, DRN), ``st36`` (36), ``tokens`` (transcripts);
- ``waveform``: the resampled audio itself, for waveform models (serbench.features.waveform).
"""

from serbench import hookimpl
from serbench.components import FeatureSpec

_OPENSMILE = "serbench.features.opensmile_sets:build"
_SET_CITATIONS = {
    "compare_2016": "Schuller et al., The INTERSPEECH 2016 Computational Paralinguistics Challenge, Interspeech 2016",
    "gemapsv01a": "Eyben et al., The Geneva Minimalistic Acoustic Parameter Set (GeMAPS), IEEE TAC 2016",
    "gemapsv01b": "Eyben et al., The Geneva Minimalistic Acoustic Parameter Set (GeMAPS), IEEE TAC 2016",
    "egemapsv01a": "Eyben et al., The Geneva Minimalistic Acoustic Parameter Set (GeMAPS), IEEE TAC 2016",
    "egemapsv01b": "Eyben et al., The Geneva Minimalistic Acoustic Parameter Set (GeMAPS), IEEE TAC 2016",
    "egemapsv02": "Eyben et al., The Geneva Minimalistic Acoustic Parameter Set (GeMAPS), IEEE TAC 2016",
    "emobase": "Eyben et al., openSMILE: the Munich versatile and fast open-source audio feature extractor, ACM MM 2010",
    "is09": "Schuller et al., The INTERSPEECH 2009 Emotion Challenge, Interspeech 2009",
    "is10": "Schuller et al., The INTERSPEECH 2010 Paralinguistic Challenge, Interspeech 2010",
    "is11": "Schuller et al., The INTERSPEECH 2011 Speaker State Challenge, Interspeech 2011",
    "is12": "Schuller et al., The INTERSPEECH 2012 Speaker Trait Challenge, Interspeech 2012",
    "is13": "Schuller et al., The INTERSPEECH 2013 Computational Paralinguistics Challenge, Interspeech 2013",
}
_LEVEL_TEXT = {
    "lld": ("frames", "frame-level low-level descriptors"),
    "lld_de": ("frames", "frame-level LLDs followed by their deltas"),
    "functionals": ("functionals", "utterance-level functionals"),
    "windows": ("frames", "functionals of 1 s windows every 0.25 s (window, hop)"),
}
RLC = "Li et al., Towards Discriminative Representation Learning for Speech Emotion Recognition, IJCAI 2019"
DRN = "Li et al., Dilated Residual Network with Multi-head Self-attention for Speech Emotion Recognition, ICASSP 2019"


def _opensmile_specs() -> list[FeatureSpec]:
    specs = []
    for set_name, citation in _SET_CITATIONS.items():
        for level, (kind, text) in _LEVEL_TEXT.items():
            specs.append(
                FeatureSpec(
                    name=f"{set_name}_{level}",
                    version=1,
                    description=f"openSMILE {set_name}: {text}",
                    citation=citation,
                    extractor=_OPENSMILE,
                    level=kind,
                    default_params={"set": set_name, "level": level},
                    optional_params=("sample_rate",) + (("window", "hop") if level == "windows"
                                                        else ()),
                )
            )
    return specs


def _paper_specs() -> list[FeatureSpec]:
    return [
        FeatureSpec(
            name="egemaps", version=1, level="functionals", extractor=_OPENSMILE,
            description="eGeMAPSv02 functionals (88 dims), the usual classical baseline",
            citation=_SET_CITATIONS["egemapsv02"],
            default_params={"set": "egemapsv02", "level": "functionals"},
            optional_params=("sample_rate",),
        ),
        FeatureSpec(
            name="is10", version=1, level="functionals", extractor=_OPENSMILE,
            description="Interspeech 2010 paralinguistic functionals (1582 dims), A-LSTM paper DNN baseline",
            citation=_SET_CITATIONS["is10"],
            default_params={"set": "is10", "level": "functionals"},
            optional_params=("sample_rate",),
        ),
        FeatureSpec(
            name="compare_lld", version=1, level="frames", extractor=_OPENSMILE,
            description="ComParE 2016 frame-level LLDs (65 dims), attention dense LSTM paper",
            citation="Xie et al., Attention-Based Dense LSTM for Speech Emotion Recognition, IEICE 2019",
            default_params={"set": "compare_2016", "level": "lld"},
            optional_params=("sample_rate",),
        ),
        FeatureSpec(
            name="iaan45", version=1, level="frames", extractor="serbench.features.iaan:build",
            description="IAAN's 45 emobase frame features with deltas/delta-deltas, mean-pooled over 5 frames",
            citation="Yeh et al., An Interaction-aware Attention Network for Speech Emotion Recognition in Spoken Dialogs, ICASSP 2019",
            default_params={"pool": 5},
        ),
        FeatureSpec(
            name="lld17", version=1, level="frames", extractor="serbench.features.lld17:build",
            description="17 LLDs (12 MFCC, log energy, voicing, HNR, log F0, ZCR), 25 ms / 5 ms (RLC)",
            citation=RLC, default_params={"frame_size": 0.025, "frame_step": 0.005},
        ),
        FeatureSpec(
            name="lld17_drn", version=1, level="frames", extractor="serbench.features.lld17:build",
            description="17 LLDs (12 MFCC, log energy, voicing, HNR, log F0, ZCR), 40 ms / 10 ms (DRN)",
            citation=DRN, default_params={"frame_size": 0.040, "frame_step": 0.010},
        ),
        FeatureSpec(
            name="st36", version=1, level="frames", extractor="serbench.features.st36:build",
            description="A-LSTM's 36 short-term features (MFCC, spectral, chroma, pitch), 25 ms / 10 ms",
            citation="Tao and Liu, Advanced LSTM: A Study about Better Time Dependency Modeling in Emotion Recognition, ICASSP 2018",
            default_params={"frame_size": 0.025, "frame_step": 0.010},
        ),
        FeatureSpec(
            name="tokens", version=1, level="tokens", extractor="serbench.features.tokens:build",
            description="transcripts as token ids, vocabulary built on the training fold (RLC lexical branch)",
            citation=RLC, default_params={"lowercase": True, "min_count": 1},
            optional_params=("max_size",),
        ),
        FeatureSpec(
            name="waveform", version=1, level="waveform",
            extractor="serbench.features.waveform:build",
            description="the decoded mono signal at the model's rate, as (N, 1) frames, for "
                        "models that read audio",
            default_params={"sample_rate": 16000, "max_seconds": 20.0},
        ),
    ]


@hookimpl
def register_features(register):
    """Register the built-in features (see serbench.hookspecs.register_features)."""
    for spec in _opensmile_specs() + _paper_specs():
        register(spec)
