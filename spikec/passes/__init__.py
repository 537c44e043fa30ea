"""Optimization and lowering passes over the IRs, one module per pass, run by the pass manager."""
