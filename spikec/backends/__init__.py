"""Code generators from kernel IR: the shared lowering to LLVM IR, the CPU (MCJIT) and CUDA (PTX)
targets. Built by the neuron-model issue; this package holds no code yet."""
