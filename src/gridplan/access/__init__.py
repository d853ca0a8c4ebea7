"""Stage 6, access: coverage and KPIs, capacity-aware coverage, 2SFCA and the standards of the
policy documents.
"""
