"""Stage 5, travel: travel-time models behind one interface (straight line, friction raster, road
network) and their speeds.
"""
