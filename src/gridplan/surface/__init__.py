"""Stage 3, surface: the cell grid and the population on it (census spread, rasters, points,
polygons, WorldPop).
"""
