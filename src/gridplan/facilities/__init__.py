"""Stage 4, facilities: facility types, uploaded lists, the illustrative network and OpenStreetMap
imports.
"""
