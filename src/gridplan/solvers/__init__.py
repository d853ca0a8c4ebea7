"""Solvers shared by the stages: the HiGHS adapter (:mod:`~gridplan.solvers.highs`), the model
builder (:mod:`~gridplan.solvers.mip`), lazy greedy (:mod:`~gridplan.solvers.greedy`) and
weighted k-means (:mod:`~gridplan.solvers.kmeans`).

They import no stage: the siting models, the grid proposals and the illustrative facility
network state their problems and call them.
"""
