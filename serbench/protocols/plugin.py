"""serbench's built-in protocols, registered through the `serbench` entry-point group."""

from serbench import hookimpl
from serbench.components import ProtocolSpec


@hookimpl
def register_protocols(register):
    """Register the built-in protocols (see serbench.hookspecs.register_protocols)."""
    register(ProtocolSpec(
        name="loso",
        version=1,
        description="Leave one session out: one fold per session (needs a 'session' column).",
        split="serbench.protocols.loso:split",
    ))
    register(ProtocolSpec(
        name="loso-speaker",
        version=1,
        description="Leave one speaker out: one fold per speaker.",
        split="serbench.protocols.loso_speaker:split",
    ))
    register(ProtocolSpec(
        name="kfold",
        version=1,
        description="Stratified k-fold (option k=5); grouped=speaker keeps speakers apart.",
        split="serbench.protocols.kfold:split",
        # only with grouped=speaker; the run record measures it per run
        speaker_independent=False,
    ))
    register(ProtocolSpec(
        name="holdout",
        version=1,
        description="Seeded, label-stratified 8:1:1 split over utterances (speakers leak).",
        split="serbench.protocols.holdout:split",
        speaker_independent=False,
    ))
    register(ProtocolSpec(
        name="speaker-holdout",
        version=1,
        description="Hold out named speakers (speakers=a,b) or one sampled female and male.",
        split="serbench.protocols.speaker_holdout:split",
    ))
    register(ProtocolSpec(
        name="official",
        version=1,
        description="The corpus's own train/valid/test split from a 'split' column.",
        split="serbench.protocols.official:split",
        # the corpus decides; e.g. MSP-Podcast pools unidentified speakers as 'Unknown'
        speaker_independent=False,
    ))
    register(ProtocolSpec(
        name="cross-corpus",
        version=1,
        description="Train/validate on one corpus, test on another (serbench run --test-corpus).",
        split="serbench.protocols.cross_corpus:split",
    ))
