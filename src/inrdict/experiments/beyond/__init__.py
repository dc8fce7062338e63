"""Studies beyond the paper: the families compared, what predicts learnability, `suggest` validated, and the
sweeps (aliasing as a curve, the linearised dynamics, Reptile); one module each, registered in
`inrdict.experiments.REGISTRY`."""
