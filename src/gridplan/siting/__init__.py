"""Stage 7a, siting: where to put sub-centres and new primary care (MCLP, p-median, target cover,
k-means) and the siting study.
"""
