"""Stage 8, report: PNG maps, web-map images, CSV/GeoJSON/GeoTIFF exports."""
