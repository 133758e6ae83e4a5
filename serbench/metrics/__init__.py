"""Metric plugins: UA, WA, macro F1/precision, per-class recall, confusion; fold aggregation."""
