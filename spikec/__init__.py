"""spikec: a compiler toolchain for spiking neural networks written in Brian 2's model language."""
__version__ = "0.1.0"
