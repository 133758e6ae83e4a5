"""Benchmark campaigns: a suite file expanded to runs, run by an executor, read back.

``suite`` parses and checks the file, ``plan`` resolves it to run ids and statuses,
``executors/`` start ``serbench run`` processes (``local``) or Slurm jobs (``slurm``),
``sweep`` ties them together with the leaderboards, ``progress`` and ``summary`` report.
Executors never compute a score: they start runs and read ``record.json`` back.
"""
