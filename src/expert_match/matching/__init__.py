"""Pure matching library: Vietnamese text keys and (later) the ranker.

Imports nothing from the rest of ``expert_match`` and no database or web framework; a test in
``tests/test_layout.py`` keeps it that way.
"""
