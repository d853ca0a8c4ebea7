"""Stage 7b, regions: balanced contiguous grid proposals around lead hospitals, and plan
comparison.
"""
