"""Stage 1, inputs: reading what planners bring (sniffing, encodings, zip safety, vector, table and
raster readers), coordinate systems and the prefecture boundaries.
"""
