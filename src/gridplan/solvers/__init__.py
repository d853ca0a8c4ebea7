"""Solvers shared by the siting and region stages: the HiGHS adapter, lazy greedy and weighted
k-means.
"""
