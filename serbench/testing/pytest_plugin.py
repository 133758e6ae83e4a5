"""pytest plugin (entry point ``pytest11``): serbench's fixtures for plugin authors.

Must stay light to import: it is loaded by every pytest run in an environment where
serbench is installed.
"""
