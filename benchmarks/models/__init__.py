"""The benchmark models, each written once against a simulator module (brian2 or spikec)."""
