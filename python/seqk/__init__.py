"""seqk: Python side of the seqk library.

Kept free of heavy imports (no library loading at import time), so that
tools such as `python3 -m seqk.report` run without libseqk installed.
"""
