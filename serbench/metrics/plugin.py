"""serbench's built-in metrics, registered through the `serbench` entry-point group."""

from serbench import hookimpl
from serbench.components import MetricSpec

_MODULE = "serbench.metrics.classification"


@hookimpl
def register_metrics(register):
    """Register the built-in metrics (see serbench.hookspecs.register_metrics)."""
    register(MetricSpec(
        name="ua", version=1, fn=f"{_MODULE}:ua",
        description="Unweighted accuracy (UAR): mean recall over classes present in the test set.",
    ))
    register(MetricSpec(
        name="wa", version=1, fn=f"{_MODULE}:wa",
        description="Weighted accuracy: share of test utterances classified correctly.",
    ))
    register(MetricSpec(
        name="macro_f1", version=1, fn=f"{_MODULE}:macro_f1",
        description="Unweighted mean of per-class F1.",
    ))
    register(MetricSpec(
        name="macro_precision", version=1, fn=f"{_MODULE}:macro_precision",
        description="Unweighted mean of per-class precision.",
    ))
    register(MetricSpec(
        name="per_class_recall", version=1, fn=f"{_MODULE}:per_class_recall",
        shape="per_class",
        description="Recall of each class (null where the class is absent from the test set).",
    ))
    register(MetricSpec(
        name="confusion", version=1, fn=f"{_MODULE}:confusion", shape="matrix",
        description="Confusion matrix: rows are true classes, columns predicted, in class order.",
    ))
