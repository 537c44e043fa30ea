"""The executor: device and host buffers, connectivity construction, the step loop, monitors.
Built by the neuron-model issue; this package holds no code yet."""
