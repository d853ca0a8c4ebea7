"""Compare (方案对比): two scenarios or versions side by side (written next)."""
