"""Stage 2, plan: planning units with their population (census, townships, uploads) and the grid
plan (presets, validation, statistics).
"""
