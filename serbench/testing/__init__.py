"""serbench's testing kit for its own tests and plugin authors (a pytest plugin).

* :mod:`serbench.testing.pytest_plugin`: fixtures (``plugin_manager_factory``,
  ``tiny_corpus``, ``dummy_model_spec``, ``serbench_env``), loaded through ``pytest11``;
* :mod:`serbench.testing.conformance`: ``ModelConformance``, the shared model test;
* :mod:`serbench.testing.corpora`: ``write_tiny_corpus``, a small on-disk corpus;
* :mod:`serbench.testing.dummy`: a tiny mean-pooling model;
* :mod:`serbench.testing.tables`: in-memory toy feature tables.
"""
