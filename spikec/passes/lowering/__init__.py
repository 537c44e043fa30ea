"""Helpers of the `lower-to-kernels` pass: code to SSA, group and monitor kernels, schedule order."""
