"""serbench's built-in corpora, registered through the `serbench` entry-point group."""

from serbench import hookimpl
from serbench.components import CorpusSpec


@hookimpl
def register_corpora(register):
    """Register the built-in corpora (see serbench.hookspecs.register_corpora)."""
    register(CorpusSpec(
        name="manifest",
        version=1,
        description="Any corpus described by a CSV/TSV/parquet manifest the user writes.",
        loader="serbench.corpora.manifest_file:load",
        label_maps=("all",),
        default_label_map="all",
        default_protocol="loso-speaker",
        obtain=(
            "write a CSV with columns utt_id, path, speaker, label (optional: start, end, "
            "gender, session, dialog, turn, transcript, valence, arousal, dominance) and pass "
            "it with --data path/to/manifest.csv"
        ),
        licence="the user's own data",
    ))
